"""Per-head target handling: encode what the user gives to ``fit``, decode what the model predicts."""

from __future__ import annotations

import numpy as np

from autodeep.data import ClassEncoder, TargetScaler, check_target, to_target_array


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
