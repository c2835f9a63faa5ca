"""Analyse tables and targets: which columns are numerical, categorical, dates or free text, and whether targets
are usable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import plain
from autodeep.data.dates import date_format

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
DATETIME = "datetime"
TEXT = "text"
COLUMN_TYPES = (NUMERICAL, CATEGORICAL, DATETIME, TEXT)
TEXT_MIN_WORDS = 3.0  # mean words per distinct value
TEXT_MIN_UNIQUE = 0.5  # distinct values per present value
TEXT_MIN_DISTINCT = 20
TEXT_SAMPLE = 1000
TASKS = ("classification", "regression")


def _all_numbers(series: pd.Series) -> bool:
    present = series.dropna()
    for values in (present.iloc[:100], pd.Series(present.unique())):  # a cheap look first: text fails fast
        parsed = pd.to_numeric(values, errors="coerce")
        if pd.api.types.is_bool_dtype(parsed.dtype) or parsed.isna().any():
            return False
    return True


def _is_text(series: pd.Series) -> bool:
    """Free text, as AutoGluon tells it from categories: mostly distinct values of several words each."""
    present = series.dropna()
    distinct = present.unique()
    if len(distinct) < TEXT_MIN_DISTINCT or len(distinct) < TEXT_MIN_UNIQUE * len(present):
        return False
    sample = pd.Series(distinct[:TEXT_SAMPLE]).astype(str)
    return float(sample.str.split().str.len().mean()) >= TEXT_MIN_WORDS


def _infer(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERICAL
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        if _all_numbers(series):
            return NUMERICAL
        if date_format(series) is not None:
            return DATETIME
        if _is_text(series):
            return TEXT
    return CATEGORICAL


def _check_overrides(df: pd.DataFrame, column_types) -> dict:
    if column_types is None:
        return {}
    if not isinstance(column_types, dict):
        raise TypeError(f"column_types must be a dict of column name -> {list(COLUMN_TYPES)}; "
                        f"received {type(column_types).__name__}.")
    available = [str(c) for c in df.columns]
    for name, kind in column_types.items():
        if str(name) not in available:
            raise ValueError(f"column_types names column {name!r}, which is not in the data; "
                             f"available columns: {available[:20]}{' ...' if len(available) > 20 else ''}.")
        if kind not in COLUMN_TYPES:
            raise ValueError(f"column_types[{name!r}] must be one of {list(COLUMN_TYPES)}; received {kind!r}.")
    return {str(k): v for k, v in column_types.items()}


def infer_column_types(df: pd.DataFrame, column_types: dict | None = None) -> dict[str, str]:
    """Map each column to "numerical", "categorical", "datetime" or "text"; entirely missing columns are left out.

    Numeric dtypes are numerical and datetime64 columns are dates. Bool, category and string columns
    are categorical unless every present value parses as a number (numerical), nearly every one as
    a date with one format (``autodeep.data.dates.date_format``), or the values are free text: at
    least 20 distinct values, distinct for at least half the rows, of 3 or more words on average
    (a review, a product title). ``column_types`` overrides the inference.

    Example:
        >>> infer_column_types(pd.DataFrame({"a": [1.5, 2], "b": ["x", "y"], "c": ["1", "2"],
        ...                                  "d": ["2024-01-31", "2024-02-01"]}))
        {'a': 'numerical', 'b': 'categorical', 'c': 'numerical', 'd': 'datetime'}
    """
    overrides = _check_overrides(df, column_types)
    types = {}
    for name in df.columns:
        series = df[name]
        if series.isna().all():
            continue
        types[str(name)] = overrides.get(str(name)) or _infer(series)
    return types


def check_target(y, task: str) -> None:
    """Raise ValueError when targets cannot train ``task`` ("classification" or "regression").

    Example:
        >>> check_target(np.array([0.5, 1.5]), "regression")
        >>> check_target(np.array(["a", "a"]), "classification")
        Traceback (most recent call last):
        ...
        ValueError: y has a single class 'a'; classification needs at least two.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}; received {task!r}.")
    y = np.asarray(y)
    if y.size == 0:
        raise ValueError("y is empty; pass at least one target per row.")
    if task == "regression":
        try:
            values = y.astype("float64")
        except (TypeError, ValueError):
            raise ValueError(f"y must be numeric for regression; received values of dtype {y.dtype}, "
                             f"e.g. {plain(y.flat[0])!r}.") from None
        bad = ~np.isfinite(values)
        what = "NaN or infinite"
    else:
        bad = np.asarray(pd.isna(y.reshape(len(y), -1)), dtype=bool)
        what = "missing (NaN/None)"
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(y), -1).any(axis=1))
        raise ValueError(f"y has {int(bad.sum())} {what} value(s), the first at row {int(rows[0])}; "
                         f"drop or fill those rows before fit.")
    if task == "classification" and y.ndim == 1:
        classes = pd.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y has a single class {plain(classes[0])!r}; classification needs at least two.")
