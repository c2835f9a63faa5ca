"""Shared fixtures: small real data from ../shared/data (skipped with a reason when absent)."""

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

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared datasets live in ../shared/data beside the checkout")
    return path


@pytest.fixture
def credit_g() -> pd.DataFrame:
    """The bundled credit-g table (always available: it ships inside the package)."""
    import autodeep as ak

    return ak.datasets.load_credit_g()


@pytest.fixture
def titanic() -> pd.DataFrame:
    return pd.read_csv(shared_file("binary/titanic.csv.gz"))


@pytest.fixture
def penguins() -> pd.DataFrame:
    return pd.read_csv(shared_file("multiclass/penguins.csv.gz"))


@pytest.fixture
def abalone() -> pd.DataFrame:
    return pd.read_csv(shared_file("regression/abalone.csv.gz"))
