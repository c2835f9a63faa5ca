"""``TablePreprocessor``: a raw table (DataFrame, 2-D array, CSV/Parquet path) in, model arrays out.

Numbers, categories and dates go through ``TabularPreprocessor``; each free-text column through its
own ``TextVectorizer`` (TF-IDF word and character n-grams), so a review beside a price and a
department reaches the model as words, not as one category per row.

The preprocessor protocol every modality's preprocessor follows: ``fit(raw)``,
``transform(raw) -> {key: ndarray}``, ``specs()`` (Keras input shapes and dtypes plus
metadata for blocks), ``n_rows(raw)`` and a JSON ``get_config``/``from_config``. A preprocessor
whose class sets ``uses_targets = True`` (this one) is fit by ``fit_transform(raw, y, target_type)``
instead, with the training targets, and returns the training rows' arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import read_table
from autodeep.data.analysis import TEXT
from autodeep.data.category_stats import ENCODINGS, HIGH_CARDINALITY_LEVELS
from autodeep.data.tabular import TabularPreprocessor
from autodeep.data.text import TextVectorizer

TEXT_FEATURES = 20000  # TF-IDF columns shared by a table's text columns


class TablePreprocessor:
    """Raw table (DataFrame, 2-D array, CSV/Parquet path) -> numeric, categorical and text arrays.

    ``transform`` returns ``numerical`` (float32), ``categorical`` (int32 codes) and, for the
    ``i``-th text column, ``text_i`` (float16 TF-IDF, see ``TextVectorizer``).

    Example:
        >>> import pandas as pd
        >>> p = TablePreprocessor(column_types={"note": "text"})
        >>> p = p.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"], "note": ["ok", "very good", ""]}))
        >>> sorted(p.transform(pd.DataFrame({"a": [2.0], "c": ["z"], "note": [None]})))
        ['categorical', 'numerical', 'text_0']
    """

    uses_targets = True  # fit_transform(raw, y, target_type): categorical statistics (TabularPreprocessor)

    def __init__(self, column_names=None, column_types=None, high_cardinality_levels=HIGH_CARDINALITY_LEVELS,
                 high_cardinality_encodings=ENCODINGS, integer_codes=False, repeated_codes=True):
        self.column_names = column_names
        self.column_types = column_types
        self.high_cardinality = {"high_cardinality_levels": high_cardinality_levels,  # see TabularPreprocessor
                                 "high_cardinality_encodings": high_cardinality_encodings,
                                 "integer_codes": integer_codes, "repeated_codes": repeated_codes}
        self.table_: TabularPreprocessor | None = None
        self.columns_: list[str] = []
        self.rows_: int | None = None  # training rows fit on (a retrieval model sizes its memory by them)
        self.texts_: list[tuple[str, TextVectorizer]] = []

    def _frame(self, raw, fitted: bool) -> pd.DataFrame:
        frame, _ = read_table(raw, argument="x")
        names = self.column_names if not fitted else self.columns_
        if not isinstance(raw, pd.DataFrame) and names and not isinstance(raw, (str, bytes)) and \
                not hasattr(raw, "__fspath__"):
            if frame.shape[1] != len(names):
                raise ValueError(f"x has {frame.shape[1]} columns but {len(names)} were expected ({names[:5]}...).")
            frame.columns = list(names)
        return frame

    def fit(self, raw, y=None, target_type=None) -> "TablePreprocessor":
        """Fit on the training rows ``raw``; ``y`` and ``target_type`` as in ``TabularPreprocessor.fit``."""
        self.fit_transform(raw, y, target_type)
        return self

    def fit_transform(self, raw, y=None, target_type=None) -> dict[str, np.ndarray]:
        """``fit``, and the training rows' arrays (their categorical statistics leave their own targets out)."""
        frame = self._frame(raw, fitted=False)
        self.columns_ = [str(c) for c in frame.columns]
        self.rows_ = len(frame)
        self.table_ = TabularPreprocessor(column_types=self.column_types, **self.high_cardinality)
        arrays = self.table_.fit_transform(frame, y, target_type)
        columns = [c for c, t in self.table_.column_types_.items() if t == TEXT]
        self.texts_ = [(c, TextVectorizer(max_features=TEXT_FEATURES // len(columns)).fit(_texts(frame[c]), argument=c))
                       for c in columns]
        return self._add_texts(frame, arrays)

    def transform(self, raw) -> dict[str, np.ndarray]:
        frame = self._frame(raw, fitted=True)
        return self._add_texts(frame, self.table_.transform(frame))

    def _add_texts(self, frame: pd.DataFrame, arrays: dict) -> dict[str, np.ndarray]:
        for i, (column, vectorizer) in enumerate(self.texts_):
            arrays[f"text_{i}"] = vectorizer.transform(_texts(frame[column]), argument=column)["tfidf"]
        return arrays

    def specs(self) -> dict:
        t = self.table_
        features = {"numerical": ((t.n_numerical_features_,), "float32"),
                    "categorical": ((len(t.categorical_columns_),), "int32")}
        texts = []
        for i, (column, vectorizer) in enumerate(self.texts_):
            features[f"text_{i}"] = vectorizer.specs()["features"]["tfidf"]
            texts.append({"column": column, "groups": vectorizer.groups()})
        return {"features": features, "meta": {"cardinalities": list(t.cardinalities_), "texts": texts,
                                               "rows": self.rows_}}

    def n_rows(self, raw) -> int:
        return len(self._frame(raw, fitted=bool(self.columns_)))

    def get_config(self) -> dict:
        return {"columns": self.columns_, "rows": self.rows_, "table": self.table_.get_config(),
                "texts": [{"column": c, "vectorizer": v.get_config()} for c, v in self.texts_]}

    @classmethod
    def from_config(cls, config: dict) -> "TablePreprocessor":
        p = cls()
        p.columns_ = list(config["columns"])
        p.rows_ = config.get("rows")  # None in artifacts saved before rows were kept
        p.table_ = TabularPreprocessor.from_config(config["table"])
        p.texts_ = [(t["column"], TextVectorizer.from_config(t["vectorizer"])) for t in config.get("texts", [])]
        return p


def _texts(column: pd.Series) -> list[str]:
    """A text column as strings, missing values as empty texts."""
    return column.astype("string").fillna("").tolist()
