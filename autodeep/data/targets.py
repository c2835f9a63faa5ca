"""Encode targets for training and decode predictions: class labels <-> indices, regression scaling, and
``TargetCodec``, which does both for one head."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autodeep.data.adapters import plain, to_target_array
from autodeep.data.analysis import check_target

_LABEL_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


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
        unique = list(dict.fromkeys(plain(v) for v in y))
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
                                 f"received other values, e.g. {plain(y[~np.isin(y, [0, 1])][0])!r}.")
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
        lookup = {plain(label): i for i, label in enumerate(self.classes_)}
        indices = np.array([lookup.get(plain(v), -1) for v in y], dtype="int32")
        if (indices < 0).any():
            unknown = list(dict.fromkeys(plain(v) for v in y[indices < 0]))
            raise ValueError(f"{argument} has labels not seen in fit: {unknown[:10]}; "
                             f"known classes: {[plain(c) for c in self.classes_][:20]}.")
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
        labels = [plain(c) for c in self.classes_]
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

#: Largest regression target magnitude: the squared error of float32 training overflows well before float32's max.
MAX_TARGET = 1e15


def _trainable(y, argument: str) -> np.ndarray:
    values = np.asarray(y, dtype="float64")
    largest = float(np.max(np.abs(values), initial=0.0))
    if largest > MAX_TARGET:
        raise ValueError(f"{argument} has values as large as {largest:.3g}; regression targets must stay within "
                         f"±{MAX_TARGET:g} (float32 training overflows beyond). Rescale {argument}, e.g. divide it "
                         f"by a power of ten or take its logarithm.")
    return values


class TargetCodec:
    """Fits on a head's targets; gives the head its metadata; encodes targets and decodes predictions.

    Example:
        >>> codec = TargetCodec("classification").fit(["b", "a", "b"])
        >>> codec.meta()["num_classes"], codec.decode(np.array([[0.9], [0.2]])).tolist()
        (2, ['b', 'a'])
    """

    def __init__(self, task: str):
        self.task = task
        self.encoder_ = None

    def fit(self, y, argument: str = "y") -> "TargetCodec":
        y = to_target_array(y, argument=argument)
        if self.task == "classification":
            if y.ndim == 1:
                check_target(y, "classification")
            self.encoder_ = ClassEncoder().fit(y)
        else:
            check_target(y, "regression")
            self.encoder_ = TargetScaler().fit(_trainable(y, argument))
        return self

    def meta(self) -> dict:
        e = self.encoder_
        if self.task == "classification":
            return {"num_classes": int(e.num_classes_), "multi_label": bool(getattr(e, "multi_label_", False))}
        mean = np.atleast_1d(e.mean_).tolist()
        return {"output_dim": len(mean), "mean": mean, "scale": np.atleast_1d(e.scale_).tolist()}

    def encode(self, y, argument: str = "y") -> np.ndarray:
        y = to_target_array(y, argument=argument)
        if self.task == "classification":
            return self.encoder_.transform(y)
        check_target(y, "regression")
        return _trainable(y, argument).astype("float32")

    @property
    def classes_(self):
        return np.asarray(self.encoder_.classes_) if self.task == "classification" else None

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Model output -> ``(n, n_classes)`` probabilities in the order of ``classes_``."""
        raw = np.asarray(raw, dtype="float64")
        if getattr(self.encoder_, "multi_label_", False):
            return raw
        if raw.ndim == 1 or raw.shape[1] == 1:
            p = raw.reshape(-1)
            return np.stack([1.0 - p, p], axis=1)
        return raw

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """Model output -> labels in the user's type (classification) or values (regression)."""
        if self.task == "classification":
            proba = self.probabilities(raw)
            if getattr(self.encoder_, "multi_label_", False):
                return (proba >= 0.5).astype("int32")
            return self.encoder_.inverse_transform(np.argmax(proba, axis=1))
        raw = np.asarray(raw)
        return raw.reshape(-1) if raw.ndim == 2 and raw.shape[1] == 1 else raw

    def get_config(self) -> dict:
        return {"task": self.task, "encoder": self.encoder_.get_config()}

    @classmethod
    def from_config(cls, config: dict) -> "TargetCodec":
        codec = cls(config["task"])
        encoder_cls = ClassEncoder if codec.task == "classification" else TargetScaler
        codec.encoder_ = encoder_cls.from_config(config["encoder"])
        return codec
