"""Per-input preprocessing: which fitted transform turns a user's raw input into model arrays.

Each input node kind maps to a preprocessor class with ``fit(raw)``,
``transform(raw) -> {key: ndarray}``, ``specs()`` (Keras input shapes and
dtypes plus metadata for blocks) and a JSON ``get_config``/``from_config``.
The registry below is the only way an artifact names a class, so loading a
saved model never imports or runs code named by the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data import TabularPreprocessor, read_table


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


class ArrayPreprocessor:
    """Plain numeric arrays, checked and cast to float32; no learned state beyond the shape.

    Example:
        >>> import numpy as np
        >>> ArrayPreprocessor().fit(np.zeros((4, 3))).specs()["features"]["x"]
        ((3,), 'float32')
    """

    def __init__(self):
        self.shape_: tuple = ()

    @staticmethod
    def _array(raw) -> np.ndarray:
        if isinstance(raw, (pd.DataFrame, pd.Series)):
            raw = raw.to_numpy()
        try:
            array = np.asarray(raw, dtype="float32")
        except (TypeError, ValueError) as error:
            raise TypeError(f"x must be numeric for ak.Input(); received values that are not numbers ({error}). "
                            f"Use ak.StructuredDataInput() for tables with text columns.") from None
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if not np.isfinite(array).all():
            raise ValueError(f"x contains {int((~np.isfinite(array)).sum())} NaN or infinite values; "
                             f"ak.Input() takes finite numbers (use ak.StructuredDataInput() to impute).")
        return array

    def fit(self, raw) -> "ArrayPreprocessor":
        self.shape_ = tuple(self._array(raw).shape[1:])
        return self

    def transform(self, raw) -> dict[str, np.ndarray]:
        array = self._array(raw)
        if tuple(array.shape[1:]) != self.shape_:
            raise ValueError(f"x has shape {tuple(array.shape)}; expected (n, {', '.join(map(str, self.shape_))}).")
        return {"x": array}

    def specs(self) -> dict:
        return {"features": {"x": (self.shape_, "float32")}, "meta": {}}

    def n_rows(self, raw) -> int:
        return len(raw)

    def get_config(self) -> dict:
        return {"shape": list(self.shape_)}

    @classmethod
    def from_config(cls, config: dict) -> "ArrayPreprocessor":
        p = cls()
        p.shape_ = tuple(config["shape"])
        return p


PREPROCESSORS: dict[str, type] = {"TablePreprocessor": TablePreprocessor, "ArrayPreprocessor": ArrayPreprocessor}


def register_preprocessor(cls: type) -> type:
    """Add a preprocessor class to the registry that artifacts may name (used by later modalities)."""
    PREPROCESSORS[cls.__name__] = cls
    return cls


def preprocessor_for(node):
    """The unfitted preprocessor an input node needs."""
    if node.kind == "structured":
        return TablePreprocessor(column_names=node.column_names, column_types=node.column_types)
    if node.kind == "numeric":
        return ArrayPreprocessor()
    factory = KIND_FACTORIES.get(node.kind)
    if factory is None:
        raise ValueError(f"No preprocessor is known for inputs of kind {node.kind!r} ({node!r}).")
    return factory(node)


KIND_FACTORIES: dict = {}


def preprocessor_from_config(entry: dict):
    cls = PREPROCESSORS.get(entry.get("class"))
    if cls is None:
        raise ValueError(f"The artifact names an unknown preprocessor {entry.get('class')!r}; "
                         f"known: {sorted(PREPROCESSORS)}. Was it saved by a newer autodeep?")
    return cls.from_config(entry["config"])
