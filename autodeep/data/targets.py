"""Encode targets for training and decode predictions: class labels <-> indices, regression scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import to_target_array

_LABEL_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _type_name(value) -> str:
    for name, kind in _LABEL_TYPES.items():  # bool before int: bool is a subclass of int.
        if isinstance(value, kind):
            return name
    raise TypeError(f"class labels must be bool, int, float or str to be saved; "
                    f"received {value!r} of type {type(value).__name__}.")


def _sorted_unique(y: np.ndarray) -> np.ndarray:
    try:
        return np.unique(y)
    except TypeError:  # Mixed label types (e.g. ints and strs) have no natural order.
        unique = list(dict.fromkeys(_plain(v) for v in y))
        return np.array(sorted(unique, key=lambda v: (type(v).__name__, str(v))), dtype=object)


class ClassEncoder:
    """Map class labels (any hashable type) to indices 0..K-1 and back, keeping the labels' dtype.

    A 2-D 0/1 array is treated as multi-label: classes are its column indices.

    Example:
        >>> enc = ClassEncoder().fit(["cat", "dog", "cat"])
        >>> enc.transform(["dog", "cat"]).tolist(), enc.inverse_transform([1, 0]).tolist()
        ([1, 0], ['dog', 'cat'])
    """

    def fit(self, y, argument: str = "y") -> "ClassEncoder":
        y = to_target_array(y, argument=argument)
        if y.ndim not in (1, 2):
            raise ValueError(f"{argument} must be 1-D labels or a 2-D 0/1 multi-label array; "
                             f"received shape {y.shape}.")
        if pd.isna(y.reshape(len(y), -1)).any():
            raise ValueError(f"{argument} has missing labels (NaN/None); drop or fill those rows before fit.")
        self.multi_label_ = y.ndim == 2
        if self.multi_label_:
            if not np.isin(y, [0, 1]).all():
                raise ValueError(f"{argument} is 2-D, so it is read as multi-label and must hold only 0 and 1; "
                                 f"received other values, e.g. {_plain(y[~np.isin(y, [0, 1])][0])!r}.")
            self.classes_ = np.arange(y.shape[1])
            self.label_dtype_ = y.dtype
        else:
            self.classes_ = _sorted_unique(y)
        self.num_classes_ = len(self.classes_)
        return self

    def transform(self, y, argument: str = "y") -> np.ndarray:
        """Labels -> int32 indices (or a float32 0/1 matrix for multi-label)."""
        y = to_target_array(y, argument=argument)
        if self.multi_label_:
            if y.ndim != 2 or y.shape[1] != self.num_classes_:
                raise ValueError(f"{argument} must have shape (n, {self.num_classes_}) for this multi-label "
                                 f"encoder; received shape {y.shape}.")
            return y.astype("float32")
        lookup = {_plain(label): i for i, label in enumerate(self.classes_)}
        indices = np.array([lookup.get(_plain(v), -1) for v in y], dtype="int32")
        if (indices < 0).any():
            unknown = list(dict.fromkeys(_plain(v) for v in y[indices < 0]))
            raise ValueError(f"{argument} has labels not seen in fit: {unknown[:10]}; "
                             f"known classes: {[_plain(c) for c in self.classes_][:20]}.")
        return indices

    def inverse_transform(self, indices) -> np.ndarray:
        """Indices -> original labels (multi-label: scores thresholded at 0.5, in the fitted dtype)."""
        indices = np.asarray(indices)
        if self.multi_label_:
            return (indices >= 0.5).astype(self.label_dtype_)
        if indices.size and (not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0
                             or indices.max() >= self.num_classes_):
            raise ValueError(f"indices must be integers in [0, {self.num_classes_ - 1}]; "
                             f"received dtype {indices.dtype} with range [{indices.min()}, {indices.max()}].")
        return self.classes_[indices]

    def get_config(self) -> dict:
        if self.multi_label_:
            return {"multi_label": True, "num_classes": int(self.num_classes_),
                    "dtype": self.label_dtype_.str}
        labels = [_plain(c) for c in self.classes_]
        return {"multi_label": False, "classes": labels, "types": [_type_name(v) for v in labels],
                "dtype": self.classes_.dtype.str}

    @classmethod
    def from_config(cls, config: dict) -> "ClassEncoder":
        enc = cls()
        enc.multi_label_ = bool(config["multi_label"])
        if enc.multi_label_:
            enc.classes_ = np.arange(int(config["num_classes"]))
            enc.label_dtype_ = np.dtype(config["dtype"])
        else:
            labels = [_LABEL_TYPES[t](v) for v, t in zip(config["classes"], config["types"])]
            enc.classes_ = np.array(labels, dtype=np.dtype(config["dtype"]))
        enc.num_classes_ = len(enc.classes_)
        return enc


class TargetScaler:
    """Standardise regression targets (per column) and undo it on predictions.

    Example:
        >>> s = TargetScaler().fit([1.0, 3.0])
        >>> s.transform([1.0, 3.0]).tolist(), s.inverse_transform([[0.0]]).tolist()
        ([-1.0, 1.0], [2.0])
    """

    def fit(self, y, argument: str = "y") -> "TargetScaler":
        y = self._floats(y, argument)
        if not np.isfinite(y).all():
            raise ValueError(f"{argument} has NaN or infinite values; drop or fill those rows before fit.")
        self.ndim_ = y.ndim
        self.mean_ = np.atleast_1d(y.mean(axis=0))
        scale = np.atleast_1d(y.std(axis=0))
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    @staticmethod
    def _floats(y, argument: str) -> np.ndarray:
        y = to_target_array(y, argument=argument)
        try:
            return y.astype("float64")
        except (TypeError, ValueError):
            raise ValueError(f"{argument} must be numeric for regression; received dtype {y.dtype}.") from None

    def transform(self, y, argument: str = "y") -> np.ndarray:
        """Targets -> standardised float32 values of the same shape."""
        y = self._floats(y, argument)
        return ((y - self._stat(self.mean_, y)) / self._stat(self.scale_, y)).astype("float32")

    def inverse_transform(self, y) -> np.ndarray:
        """Standardised values -> float64 targets; ``(n, 1)`` comes back ``(n,)`` when fit on 1-D."""
        y = np.asarray(y, dtype="float64")
        if self.ndim_ == 1 and y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return y * self._stat(self.scale_, y) + self._stat(self.mean_, y)

    @staticmethod
    def _stat(stat: np.ndarray, y: np.ndarray):
        return stat[0] if y.ndim == 1 else stat

    def get_config(self) -> dict:
        return {"ndim": int(self.ndim_), "mean": self.mean_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_config(cls, config: dict) -> "TargetScaler":
        s = cls()
        s.ndim_ = int(config["ndim"])
        s.mean_ = np.asarray(config["mean"], dtype="float64")
        s.scale_ = np.asarray(config["scale"], dtype="float64")
        return s
