"""``TablePreprocessor``: a raw table (DataFrame, 2-D array, CSV/Parquet path) in, model arrays out.

The preprocessor protocol every modality's preprocessor follows: ``fit(raw)``,
``transform(raw) -> {key: ndarray}``, ``specs()`` (Keras input shapes and dtypes plus
metadata for blocks), ``n_rows(raw)`` and a JSON ``get_config``/``from_config``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import read_table
from autodeep.data.tabular import TabularPreprocessor


class TablePreprocessor:
    """Raw table (DataFrame, 2-D array, CSV/Parquet path) -> numeric and categorical arrays.

    Example:
        >>> import pandas as pd
        >>> p = TablePreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"]}))
        >>> sorted(p.transform(pd.DataFrame({"a": [2.0], "c": ["z"]})))
        ['categorical', 'numerical']
    """

    def __init__(self, column_names=None, column_types=None):
        self.column_names = column_names
        self.column_types = column_types
        self.table_: TabularPreprocessor | None = None
        self.columns_: list[str] = []

    def _frame(self, raw, fitted: bool) -> pd.DataFrame:
        frame, _ = read_table(raw, argument="x")
        names = self.column_names if not fitted else self.columns_
        if not isinstance(raw, pd.DataFrame) and names and not isinstance(raw, (str, bytes)) and \
                not hasattr(raw, "__fspath__"):
            if frame.shape[1] != len(names):
                raise ValueError(f"x has {frame.shape[1]} columns but {len(names)} were expected ({names[:5]}...).")
            frame.columns = list(names)
        return frame

    def fit(self, raw) -> "TablePreprocessor":
        frame = self._frame(raw, fitted=False)
        self.columns_ = [str(c) for c in frame.columns]
        self.table_ = TabularPreprocessor(column_types=self.column_types).fit(frame)
        return self

    def transform(self, raw) -> dict[str, np.ndarray]:
        return self.table_.transform(self._frame(raw, fitted=True))

    def specs(self) -> dict:
        t = self.table_
        return {"features": {"numerical": ((t.n_numerical_features_,), "float32"),
                             "categorical": ((len(t.categorical_columns_),), "int32")},
                "meta": {"cardinalities": list(t.cardinalities_)}}

    def n_rows(self, raw) -> int:
        return len(self._frame(raw, fitted=bool(self.columns_)))

    def get_config(self) -> dict:
        return {"columns": self.columns_, "table": self.table_.get_config()}

    @classmethod
    def from_config(cls, config: dict) -> "TablePreprocessor":
        p = cls()
        p.columns_ = list(config["columns"])
        p.table_ = TabularPreprocessor.from_config(config["table"])
        return p
