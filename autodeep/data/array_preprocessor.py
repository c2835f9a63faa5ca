"""``ArrayPreprocessor``: plain numeric arrays, checked and cast to float32."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
