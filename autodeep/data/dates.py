"""Date and time columns: recognise them, and expand each into numeric and categorical features.

A date column carries nothing as a category (every future date is a level never seen in
training), so it becomes features a model can use, as AutoGluon's datetime generator does
(year, month, day, day of week and the time elapsed):

* numerical: days elapsed since the earliest training date, year, month, day of the month, day
  of the week (0 = Monday) and, when the training values have a time of day, the hour;
* categorical: month and day of the week, so a model can learn one value per weekday or month
  (a weekly or yearly pattern) without having to find it in a number.

Missing or unparsable dates (NaT) give missing values in every feature, which the table
preprocessor imputes and flags as it does for any column. Text dates are parsed with the one
format found at ``fit`` (saved with the preprocessor), so prediction reads them the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

SAMPLE = 200  # distinct values looked at to recognise a text column as dates
MIN_PARSED = 0.95  # share of those that must parse with one format
NUMERICAL_PARTS = ("elapsed_days", "year", "month", "day", "dayofweek")
CATEGORICAL_PARTS = ("month", "dayofweek")
_DAY = np.timedelta64(1, "D")


def _has_date(fmt: str | None) -> bool:
    return bool(fmt) and any(y in fmt for y in ("%Y", "%y")) and any(m in fmt for m in ("%m", "%b", "%B")) \
        and "%d" in fmt


def date_format(series: pd.Series) -> str | None:
    """The ``strftime`` format that parses (nearly) every value of a text column as a date, else ``None``.

    Codes and IDs are not taken for dates: the format must hold a year, a month and a day, and at
    least 95 % of up to 200 distinct values must parse with it (``"ISO8601"`` when ISO dates mix
    precisions or time zones). Numbers written as text are numerical before dates are tried.

    Example:
        >>> date_format(pd.Series(["2024-01-31", "2024-02-29", None]))
        'ISO8601'
        >>> date_format(pd.Series(["31/01/2024", "29/02/2024"])), date_format(pd.Series(["555-1234", "AB-12"]))
        ('%d/%m/%Y', None)
    """
    values = pd.Series(series.dropna().astype(str).unique()[:SAMPLE])
    if values.empty:
        return None
    candidates = ["ISO8601"]  # ISO dates with and without times, or time zones, in one column
    for dayfirst in (False, True):
        with warnings.catch_warnings():  # pandas warns when the guess contradicts dayfirst: both are tried
            warnings.simplefilter("ignore", UserWarning)
            guesses = (guess_datetime_format(v, dayfirst=dayfirst) for v in values.iloc[:5])
            fmt = next((f for f in guesses if f), None)
        if _has_date(fmt) and fmt not in candidates:
            candidates.append(fmt)
    best, best_share = None, 0.0
    for fmt in candidates if len(candidates) > 1 else []:  # ISO only beside a guessed date format; ties: earlier
        share = pd.to_datetime(values, format=fmt, errors="coerce", utc=True).notna().mean()
        if share > best_share:
            best, best_share = fmt, share
    return best if best_share >= MIN_PARSED else None


def parse_dates(series: pd.Series, fmt: str | None) -> np.ndarray:
    """``datetime64[ns]`` values (UTC, without time zone) of a column; NaT where missing or unparsable.

    Example:
        >>> parse_dates(pd.Series(["2024-01-31", "oops"]), "%Y-%m-%d").astype(str).tolist()
        ['2024-01-31T00:00:00.000000000', 'NaT']
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.to_datetime(series, utc=True)
    else:  # a format not found at fit (dates named by column_types) is guessed value by value
        parsed = pd.to_datetime(series.astype("string"), format=fmt or "mixed", errors="coerce", utc=True)
    return parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")


def fit_dates(name: str, series: pd.Series) -> dict:
    """The JSON state that expands column ``name``: its text format, the reference date, whether it has hours.

    Example:
        >>> fit_dates("d", pd.Series(pd.to_datetime(["2024-01-02 10:00", "2024-01-01 00:00"])))["reference"]
        '2024-01-01T00:00:00'
    """
    fmt = None if pd.api.types.is_datetime64_any_dtype(series.dtype) else date_format(series)
    values = parse_dates(series, fmt)
    present = values[~np.isnat(values)]
    reference = present.min() if len(present) else np.datetime64("1970-01-01")
    hours = bool(len(present)) and bool(((present - present.astype("datetime64[D]")) != np.timedelta64(0)).any())
    return {"name": name, "format": fmt, "reference": str(np.datetime_as_string(reference, unit="s")),
            "hour": hours}


def date_features(state: dict, series: pd.Series) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(numerical, categorical)`` features of one date column, each ``{feature name: values}``.

    Example:
        >>> state = fit_dates("d", pd.Series(["2024-01-01", "2024-01-08"]))
        >>> numerical, categorical = date_features(state, pd.Series(["2024-01-10", None]))
        >>> numerical["d.elapsed_days"].tolist(), numerical["d.dayofweek"].tolist()
        ([9.0, nan], [2.0, nan])
        >>> categorical["d.dayofweek_category"].tolist()
        [2.0, nan]
    """
    values = parse_dates(series, state["format"])
    stamps = pd.DatetimeIndex(values)
    missing = np.isnat(values)
    parts = {"elapsed_days": (values - np.datetime64(state["reference"])) / _DAY, "year": stamps.year,
             "month": stamps.month, "day": stamps.day, "dayofweek": stamps.day_of_week, "hour": stamps.hour}
    parts = {k: np.where(missing, np.nan, np.asarray(v, dtype="float64")) for k, v in parts.items()}
    name = state["name"]
    kept = NUMERICAL_PARTS + (("hour",) if state["hour"] else ())
    return {f"{name}.{p}": parts[p] for p in kept}, {f"{name}.{p}_category": parts[p] for p in CATEGORICAL_PARTS}
