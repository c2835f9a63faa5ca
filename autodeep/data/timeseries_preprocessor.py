"""``TimeseriesPreprocessor``: raw feature rows over time -> standardised sliding windows, saved as JSON.

Numeric columns are forward-filled and standardised with the mean and spread of the training rows;
categorical columns are one-hot encoded with the training rows' values (unseen values: all zeros).
``transform`` of a plain frame gives one window per row from row ``lookback - 1`` on, so the last
window ends at the last row: the forecast after the end of the given history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import read_table
from autodeep.data.timeseries import SeriesWindows, forward_fill, sliding_windows

MAX_CATEGORIES = 50  # most frequent values one-hot encoded per categorical column


class TimeseriesPreprocessor:
    """Fit on training rows; turn a frame (or ``SeriesWindows``) into ``{"window": (n, lookback, features)}``.

    Args:
        lookback: Rows per window; ``None`` takes it from the ``SeriesWindows`` given to ``fit``.
        column_names: Names for the columns of a numpy array.
        column_types: ``{"column": "numerical" | "categorical"}`` overriding inference.

    Example:
        >>> import pandas as pd
        >>> p = TimeseriesPreprocessor(lookback=3).fit(pd.DataFrame({"a": [1.0, 2, 3, 4, 5]}))
        >>> p.transform(pd.DataFrame({"a": [1.0, 2, 3, 4]}))["window"].shape
        (2, 3, 1)
    """

    def __init__(self, lookback: int | None = None, column_names=None, column_types=None):
        self.lookback = lookback
        self.column_names = column_names
        self.column_types = column_types
        self.lookback_: int = 0
        self.columns_: list[str] = []
        self.numerical_: list[str] = []
        self.mean_: list[float] = []
        self.scale_: list[float] = []
        self.categories_: dict[str, list[str]] = {}

    # -- reading -------------------------------------------------------------
    def _frame(self, raw, argument: str = "x") -> pd.DataFrame:
        frame, _ = read_table(raw.to_frame() if isinstance(raw, pd.Series) else raw, argument=argument)
        names = self.columns_ or self.column_names
        if names is not None and not isinstance(raw, pd.DataFrame) and not isinstance(raw, (str, bytes)) \
                and not hasattr(raw, "__fspath__"):
            if frame.shape[1] != len(names):
                raise ValueError(f"{argument} has {frame.shape[1]} columns but column_names lists {len(names)} "
                                 f"({list(names)[:5]}...).")
            frame.columns = [str(c) for c in names]
        return frame

    def _types(self, frame: pd.DataFrame) -> dict[str, str]:
        given = {str(k): v for k, v in (self.column_types or {}).items()}
        unknown = sorted(set(given) - set(frame.columns))
        if unknown:
            raise ValueError(f"column_types names column(s) {unknown} that x does not have; "
                             f"x has {list(frame.columns)[:10]}.")
        types = {}
        for column in frame.columns:
            kind = given.get(column)
            if kind not in (None, "numerical", "categorical"):
                raise ValueError(f"column_types[{column!r}] must be 'numerical' or 'categorical'; received {kind!r}.")
            series = frame[column]
            if pd.api.types.is_datetime64_any_dtype(series):
                raise TypeError(f"x column {column!r} holds dates; a time series is read in row order, so drop "
                                f"the date column (or make it the index).")
            numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
            types[column] = kind or ("numerical" if numeric else "categorical")
        return types

    def _encode(self, raw, argument: str = "x") -> np.ndarray:
        """Raw rows -> float32 ``(rows, features)`` with this preprocessor's fitted columns."""
        frame = self._frame(raw, argument)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"{argument} lacks column(s) {missing[:5]} that the model was trained on; "
                             f"expected columns {self.columns_[:10]}, received {list(frame.columns)[:10]}.")
        frame = frame[self.columns_]
        parts = []
        if self.numerical_:
            try:
                numbers = frame[self.numerical_].apply(pd.to_numeric).astype("float64")
            except (TypeError, ValueError) as error:
                raise ValueError(f"{argument} has a numerical column with values that are not numbers ({error}); "
                                 f"declare it in column_types as 'categorical'.") from None
            numbers = forward_fill(numbers.replace([np.inf, -np.inf], np.nan), argument)
            parts.append((numbers.to_numpy() - self.mean_) / self.scale_)
        for column, values in self.categories_.items():
            codes = frame[column].astype("string").to_numpy()
            parts.append((codes[:, None] == np.asarray(values, dtype=object)[None, :]).astype("float64"))
        return np.concatenate(parts, axis=1).astype("float32")

    # -- preprocessor interface ---------------------------------------------------
    def fit(self, raw) -> "TimeseriesPreprocessor":
        if isinstance(raw, SeriesWindows):  # statistics of the rows the training windows read, no later ones
            self.lookback_ = int(raw.lookback)
            frame, rows = self._frame(raw.frame), slice(*raw.rows())
        else:
            if self.lookback is None:
                raise ValueError("TimeseriesPreprocessor needs lookback (an integer >= 1) to fit on a plain frame; "
                                 "received lookback=None.")
            self.lookback_ = int(self.lookback)
            frame, rows = self._frame(raw), slice(None)
        types = self._types(frame)
        self.columns_ = [str(c) for c in frame.columns]
        self.numerical_ = [c for c in self.columns_ if types[c] == "numerical"]
        self.mean_, self.scale_ = [], []
        if self.numerical_:
            numbers = frame[self.numerical_].apply(pd.to_numeric, errors="coerce").astype("float64")
            numbers = forward_fill(numbers.replace([np.inf, -np.inf], np.nan), "x").iloc[rows]
            self.mean_ = numbers.mean().tolist()
            self.scale_ = [s if s > 0 else 1.0 for s in numbers.std(ddof=0).fillna(1.0).tolist()]
        self.categories_ = {}
        for c in (c for c in self.columns_ if types[c] == "categorical"):
            counts = frame[c].iloc[rows].astype("string").value_counts()
            self.categories_[c] = [str(v) for v in counts.index[:MAX_CATEGORIES]]
        if not self.columns_:
            raise ValueError("x has no columns; pass at least one feature column (for example the target's history).")
        return self

    def transform(self, raw) -> dict[str, np.ndarray]:
        if isinstance(raw, SeriesWindows):
            if raw.lookback != self.lookback_:
                raise ValueError(f"windows of {raw.lookback} rows were given to a preprocessor fit on "
                                 f"lookback={self.lookback_}.")
            return {"window": sliding_windows(self._encode(raw.frame), self.lookback_, raw.ends)}
        values = self._encode(raw)
        if len(values) < self.lookback_:
            raise ValueError(f"x has {len(values)} rows; a forecast needs at least lookback={self.lookback_} rows "
                             f"of history (the last {self.lookback_} rows before the forecast).")
        return {"window": sliding_windows(values, self.lookback_, np.arange(self.lookback_ - 1, len(values)))}

    def n_features(self) -> int:
        return len(self.numerical_) + sum(len(v) for v in self.categories_.values())

    def specs(self) -> dict:
        return {"features": {"window": ((self.lookback_, self.n_features()), "float32")},
                "meta": {"lookback": self.lookback_, "columns": list(self.columns_)}}

    def n_rows(self, raw) -> int:
        """Windows (forecasts) that ``raw`` gives."""
        return len(raw) if isinstance(raw, SeriesWindows) else max(0, len(self._frame(raw)) - self.lookback_ + 1)

    def get_config(self) -> dict:
        return {"lookback": self.lookback_, "columns": self.columns_, "numerical": self.numerical_,
                "mean": self.mean_, "scale": self.scale_, "categories": self.categories_}

    @classmethod
    def from_config(cls, config: dict) -> "TimeseriesPreprocessor":
        p = cls(lookback=int(config["lookback"]))
        p.lookback_ = int(config["lookback"])
        p.columns_ = [str(c) for c in config["columns"]]
        p.numerical_ = [str(c) for c in config["numerical"]]
        p.mean_ = [float(v) for v in config["mean"]]
        p.scale_ = [float(v) for v in config["scale"]]
        p.categories_ = {str(k): [str(v) for v in vs] for k, vs in config["categories"].items()}
        return p
