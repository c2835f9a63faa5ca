"""Time series as supervised rows: sliding windows of past rows, future targets, a chronological split.

A window ending at row ``t`` holds rows ``t - lookback + 1 .. t`` of the features; its targets are
``y[t + predict_from .. t + predict_until]``. ``SeriesWindows`` is the "raw" form the task layer hands
to the search: a frame plus the rows at which its windows end, so a preprocessor fit on it sees only
the rows those windows cover. Pure numpy/pandas.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd


@dataclasses.dataclass
class SeriesWindows:
    """A feature frame and the rows where its windows end; ``len()`` counts windows (one per target row).

    Example:
        >>> import pandas as pd
        >>> w = SeriesWindows(pd.DataFrame({"a": range(10)}), lookback=3, ends=np.arange(2, 10))
        >>> len(w), w.rows()
        (8, (0, 10))
    """

    frame: pd.DataFrame
    lookback: int
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ends)

    def rows(self) -> tuple[int, int]:
        """``(first, stop)``: the slice of ``frame`` rows the windows read."""
        return int(self.ends.min()) - self.lookback + 1, int(self.ends.max()) + 1


def check_horizon(lookback, predict_from, predict_until) -> tuple[int | None, int, int]:
    """Validate the forecaster's window arguments; ``predict_until=None`` means ``predict_from`` (one step).

    Example:
        >>> check_horizon(12, 1, None)
        (12, 1, 1)
    """
    def integer(name, value, minimum):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}; received {value!r}.")
        return int(value)

    lookback = None if lookback is None else integer("lookback", lookback, 1)
    predict_from = integer("predict_from", predict_from, 0)
    predict_until = predict_from if predict_until is None else integer("predict_until", predict_until, 0)
    if predict_until < predict_from:
        raise ValueError(f"predict_until must be >= predict_from (={predict_from}): the forecast covers steps "
                         f"predict_from..predict_until after a window; received predict_until={predict_until}.")
    return lookback, predict_from, predict_until


def default_lookback(n_rows: int, predict_until: int, largest: int = 36) -> int:
    """Window length when ``lookback=None``: up to ``largest`` rows, at most a quarter of the usable series.

    Example:
        >>> default_lookback(500, 1), default_lookback(40, 1)
        (36, 9)
    """
    return int(max(1, min(largest, (n_rows - predict_until) // 4)))


def forward_fill(frame: pd.DataFrame, argument: str = "x") -> pd.DataFrame:
    """Fill missing values from the row above; a column that starts with a gap cannot be filled and raises.

    Example:
        >>> forward_fill(pd.DataFrame({"a": [1.0, None, 3.0]}))["a"].tolist()
        [1.0, 1.0, 3.0]
    """
    filled = frame.ffill()
    numeric = filled.select_dtypes(include="number")
    leading = [c for c in numeric.columns if numeric[c].isna().any()]
    if leading:
        raise ValueError(f"{argument} column(s) {leading[:5]} start with missing values, which cannot be "
                         f"forward-filled; expected a first row with values. Drop the leading rows or fill them.")
    return filled


def target_matrix(y: np.ndarray, predict_from: int, predict_until: int) -> np.ndarray:
    """Row ``t`` holds ``y[t + predict_from .. t + predict_until]``; NaN where that is past the end.

    Example:
        >>> target_matrix(np.arange(5.0), 1, 2)[[0, 3, 4]].tolist()
        [[1.0, 2.0], [4.0, nan], [nan, nan]]
    """
    n, horizon = len(y), predict_until - predict_from + 1
    out = np.full((n, horizon), np.nan)
    for k, step in enumerate(range(predict_from, predict_until + 1)):
        if step < n:
            out[: n - step, k] = y[step:]
    return out


def usable_ends(targets: np.ndarray, lookback: int) -> np.ndarray:
    """Rows where a full window ends and every target is known (NaN targets are never trained on)."""
    ends = np.arange(lookback - 1, len(targets))
    return ends[np.isfinite(targets[ends]).all(axis=1)]


def chronological_split(ends: np.ndarray, validation_split: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``validation_split`` of the windows validate; training windows stop ``horizon`` rows
    earlier, so no target step is shared between the parts. Nothing is shuffled.

    Example:
        >>> train, val = chronological_split(np.arange(10), 0.2, horizon=2)
        >>> train.tolist(), val.tolist()
        ([0, 1, 2, 3, 4, 5, 6], [8, 9])
    """
    n_val = max(1, math.ceil(len(ends) * validation_split))
    val = ends[-n_val:]
    train = ends[ends <= val[0] - horizon]
    if len(train) == 0:
        raise ValueError(f"The series gives {len(ends)} windows, too few to keep {n_val} for validation and "
                         f"train on the ones before; pass a longer series or a smaller lookback/predict_until.")
    return train, val


def sliding_windows(values: np.ndarray, lookback: int, ends: np.ndarray) -> np.ndarray:
    """``(len(ends), lookback, features)`` windows of ``values`` ending at rows ``ends``.

    Example:
        >>> sliding_windows(np.arange(6.0).reshape(-1, 1), 2, np.array([1, 5]))[:, :, 0].tolist()
        [[0.0, 1.0], [4.0, 5.0]]
    """
    view = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)  # (n - L + 1, F, L)
    return np.ascontiguousarray(view[ends - lookback + 1].transpose(0, 2, 1))


def read_series(x, y, column_names=None, argument: str = "x") -> tuple[pd.DataFrame, np.ndarray]:
    """``(features, target)`` from x (DataFrame, Series, 2-D array or CSV path) and y (values or a column of x).

    A target named as a column of ``x`` stays among the features: its history is what forecasts read.

    Example:
        >>> frame, target = read_series(pd.DataFrame({"a": [1.0, 2.0]}), "a")
        >>> list(frame.columns), target.tolist()
        (['a'], [1.0, 2.0])
    """
    from autodeep.data.adapters import read_table

    if isinstance(x, pd.Series):
        x = x.to_frame()
    frame, _ = read_table(x, argument=argument)
    if column_names is not None and not isinstance(x, (pd.DataFrame, str)) and not hasattr(x, "__fspath__"):
        if frame.shape[1] != len(column_names):
            raise ValueError(f"{argument} has {frame.shape[1]} columns but column_names lists {len(column_names)}.")
        frame.columns = [str(c) for c in column_names]
    if isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], str):
        y = y[0]
    if isinstance(y, str):
        if y not in frame.columns:
            raise ValueError(f"y={y!r} names no column of {argument}; expected one of {list(frame.columns)[:10]}.")
        y = frame[y]
    if y is None:
        raise ValueError("y is required: pass the target series (one value per row of x) or the name of its column.")
    values = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"y must be one series (1-D, or one column); received shape {values.shape}. "
                         f"Forecast several series with one forecaster each.")
    try:
        values = values.astype("float64")
    except (TypeError, ValueError):
        raise ValueError(f"y must be numeric; received values of dtype {values.dtype}.") from None
    if np.isinf(values).any():
        raise ValueError(f"y has {int(np.isinf(values).sum())} infinite values; expected finite numbers or NaN.")
    if len(values) != len(frame):
        raise ValueError(f"{argument} has {len(frame)} rows but y has {len(values)}; pass one target per time step.")
    return frame.reset_index(drop=True), values
