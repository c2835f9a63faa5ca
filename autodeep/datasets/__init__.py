"""Small real datasets shipped inside the package, for the demo and the examples."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def credit_g_path() -> str:
    """Path of the bundled OpenML credit-g table (1,000 rows, 20 features, target ``class``)."""
    return str(resources.files(__package__) / "credit-g.csv.gz")


def load_credit_g() -> pd.DataFrame:
    """OpenML 31 "credit-g": German credit risk, 1,000 rows, 20 mixed features, target ``class`` (good/bad).

    Example:
        >>> import autodeep as ak
        >>> ak.datasets.load_credit_g().shape
        (1000, 21)
    """
    return pd.read_csv(credit_g_path())
