"""Shared fixtures: small real tables that ship with the repository (tests/data) or inside installed packages."""

from __future__ import annotations

import os
from pathlib import Path

# The suite runs on torch: its short fits need no compilation, so the whole suite takes ~5 min instead of
# ~12.5 on JAX (measured on the 2-core CI machine). JAX, the users' default, runs every task type in
# tests/test_backends.py; `KERAS_BACKEND=jax python -m pytest` runs everything on JAX.
import importlib.util  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch" if importlib.util.find_spec("torch") else "jax")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"  # small files committed with the tests; see data/README.md


def data_file(name: str) -> Path:
    """A file under tests/data (committed: always present)."""
    return DATA / name


@pytest.fixture
def credit_g() -> pd.DataFrame:
    """The bundled credit-g table (always available: it ships inside the package)."""
    import autodeep as ak

    return ak.datasets.load_credit_g()


@pytest.fixture
def penguins() -> pd.DataFrame:
    """Palmer penguins (344 rows): string columns, missing cells, three species."""
    return pd.read_csv(data_file("penguins.csv.gz"))


@pytest.fixture
def diabetes() -> pd.DataFrame:
    """scikit-learn's bundled diabetes table (442 rows, ten numeric columns, target "progression")."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    return frame.rename(columns={"target": "progression"})
