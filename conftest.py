"""Loaded by pytest before it imports anything of the suite: the tests and the package's doctests
(``--doctest-modules``) run on torch, whose short fits need no compilation (``KERAS_BACKEND=jax python -m
pytest`` runs everything on JAX)."""

import importlib.util
import os

os.environ.setdefault("KERAS_BACKEND", "torch" if importlib.util.find_spec("torch") else "jax")

# The cohort trainer runs on JAX only: its doctests run there (tests/test_cohort.py starts them on JAX).
collect_ignore = [] if os.environ["KERAS_BACKEND"] == "jax" else ["autodeep/train/cohort.py"]
