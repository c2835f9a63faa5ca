"""Heads: the output blocks that make predictions and own the loss."""

from __future__ import annotations

import keras
import numpy as np

from autodeep.blocks.basic import flatten_input
from autodeep.blocks.layers import Denormalize
from autodeep.blocks.members import MemberDense, MemberFeatures, MemberLoss, MemberMean, MemberMetric
from autodeep.blocks.nca import NeighbourFeatures, vote
from autodeep.graph import Head


def format_targets(encoded: np.ndarray, target_format: str, num_classes: int | None = None) -> np.ndarray:
    """Encoded targets -> the array a head's loss expects, for each ``target_format``.

    Example:
        >>> format_targets(np.array([0, 1]), "binary").tolist()
        [[0.0], [1.0]]
    """
    if target_format == "binary":
        return encoded.astype("float32").reshape(-1, 1)
    if target_format == "onehot":
        return np.eye(num_classes, dtype="float32")[encoded]
    if target_format == "sparse":
        return encoded.astype("int32")
    if target_format in ("multilabel", "regression"):
        return encoded.astype("float32").reshape(len(encoded), -1)
    raise ValueError(f"Unknown target_format {target_format!r}.")


def class_indices(targets) -> np.ndarray:
    """Class indices of a single-label head's encoded targets, in any of its formats (indices, a 0/1 column or
    one-hot rows): what ``format_targets`` made them from.

    Example:
        >>> class_indices(format_targets(np.array([2, 0]), "onehot", 3)).tolist()
        [2, 0]
    """
    columns = np.asarray(targets).reshape(len(targets), -1)
    return (columns.argmax(axis=1) if columns.shape[1] > 1 else columns[:, 0]).astype("int64")


def _dropout(head: Head, hp, x):
    rate = head.dropout if head.dropout is not None else hp.Choice("dropout", [0.0, 0.25, 0.5], default=0.0)
    return keras.layers.Dropout(rate)(x) if rate else x


ACCURACY = {"binary": "binary_accuracy", "multilabel": "binary_accuracy", "sparse": "sparse_categorical_accuracy",
            "onehot": "categorical_accuracy"}


class _MemberAware:
    """Heads that also take ensemble members (``MemberFeatures``): each member gets its own output layer, the
    loss averages the members' losses and the metrics read the members' mean prediction."""

    members: int | None = None  # the member count of the model built last (None: a plain model)

    def _member_output(self, hp, inputs: MemberFeatures, units: int, activation=None):
        self.members = inputs.members
        return MemberDense(units, activation=activation)(_dropout(self, hp, inputs.tensor))

    def compiled_loss(self):
        return MemberLoss(self.get_loss()) if self.members else self.get_loss()

    def compiled_metrics(self) -> list:
        if not self.members:
            return self.keras_metrics()
        return [MemberMetric(ACCURACY[self.target_format], name=m) if m in ("accuracy", "acc")
                else MemberMetric(m) for m in self.keras_metrics()]


class ClassificationHead(_MemberAware, Head):
    """Predicts classes: binary (one sigmoid), multiclass (softmax) or multi-label (sigmoids).

    The number of classes, the loss and the label encoding are inferred from the
    targets given to ``fit`` unless set here.

    Args:
        num_classes: Number of classes; inferred when ``None``.
        multi_label: Several labels per sample (targets as a 0/1 matrix).
        loss: A Keras loss name or callable; inferred when ``None``.
        metrics: Keras metrics; ``["accuracy"]`` when ``None``.
        dropout: Dropout before the output layer; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> model = ak.AutoModel(inputs=ak.StructuredDataInput(), outputs=ak.ClassificationHead(), max_trials=1)
    """

    task = "classification"

    def __init__(self, num_classes: int | None = None, multi_label: bool = False, loss=None, metrics=None,
                 dropout: float | None = None, **kwargs):
        super().__init__(loss=loss, metrics=metrics, **kwargs)
        self.num_classes = self.requested_num_classes = num_classes
        self.multi_label = self.requested_multi_label = multi_label
        self.dropout = dropout

    def configure(self, target_meta: dict) -> None:
        inferred = int(target_meta["num_classes"])
        if self.requested_num_classes is not None and self.requested_num_classes != inferred:
            raise ValueError(f"{self.name}: num_classes={self.requested_num_classes} but the targets have "
                             f"{inferred} classes.")
        self.num_classes = inferred
        self.multi_label = bool(self.requested_multi_label or target_meta.get("multi_label", False))

    @property
    def _sigmoid(self) -> bool:
        return self.multi_label or self.num_classes == 2

    def get_loss(self):
        if self.loss is not None:
            return self.loss
        return "binary_crossentropy" if self._sigmoid else "sparse_categorical_crossentropy"

    def get_metrics(self) -> list:
        return list(self.metrics) if self.metrics is not None else ["accuracy"]

    @property
    def target_format(self) -> str:
        if self.multi_label:
            return "multilabel"
        if self._sigmoid:
            return "binary"
        if self.get_loss() in ("categorical_crossentropy", keras.losses.categorical_crossentropy):
            return "onehot"
        return "sparse"

    def prepare_targets(self, encoded: np.ndarray) -> np.ndarray:
        """Class indices (or a 0/1 matrix) -> what this head's loss expects."""
        return format_targets(encoded, self.target_format, self.num_classes)

    def build(self, hp, inputs):
        units = (self.num_classes if self.multi_label else 1) if self._sigmoid else self.num_classes
        activation = "sigmoid" if self._sigmoid else "softmax"
        if isinstance(inputs, MemberFeatures):  # each member's probabilities, averaged at inference
            return MemberMean()(self._member_output(hp, inputs, units, activation))
        self.members = None
        if isinstance(inputs, NeighbourFeatures):  # the stored rows' labels, voted
            return vote(inputs, units, self.name)
        x = _dropout(self, hp, flatten_input(hp, inputs))
        return keras.layers.Dense(units, activation=activation)(x)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "multi_label": self.multi_label}


class RegressionHead(_MemberAware, Head):
    """Predicts real values; the network learns standardised targets, the output is in the user's units.

    Args:
        output_dim: Number of targets; inferred when ``None``.
        loss: ``"mean_squared_error"`` by default.
        metrics: Keras metrics; ``["mean_squared_error"]`` when ``None``.
        dropout: Dropout before the output layer; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(metrics=["mae"]), max_trials=1)
    """

    def __init__(self, output_dim: int | None = None, loss="mean_squared_error", metrics=None,
                 dropout: float | None = None, **kwargs):
        super().__init__(loss=loss, metrics=metrics, **kwargs)
        self.output_dim = self.requested_output_dim = output_dim
        self.dropout = dropout
        self.target_mean: list[float] = [0.0]
        self.target_scale: list[float] = [1.0]

    def configure(self, target_meta: dict) -> None:
        inferred = int(target_meta["output_dim"])
        if self.requested_output_dim is not None and self.requested_output_dim != inferred:
            raise ValueError(f"{self.name}: output_dim={self.requested_output_dim} but the targets have "
                             f"{inferred} columns.")
        self.output_dim = inferred
        self.target_mean = list(target_meta.get("mean", [0.0] * inferred))
        self.target_scale = list(target_meta.get("scale", [1.0] * inferred))

    def get_metrics(self) -> list:
        return list(self.metrics) if self.metrics is not None else ["mean_squared_error"]

    target_format = "regression"

    def prepare_targets(self, values: np.ndarray) -> np.ndarray:
        return format_targets(values, self.target_format)

    def build(self, hp, inputs):
        if isinstance(inputs, MemberFeatures):
            x = self._member_output(hp, inputs, self.output_dim)
            return MemberMean()(Denormalize(self.target_mean, self.target_scale)(x))
        self.members = None
        if isinstance(inputs, NeighbourFeatures):  # the stored rows' standardised targets, voted
            return Denormalize(self.target_mean, self.target_scale)(vote(inputs, self.output_dim, self.name))
        x = _dropout(self, hp, flatten_input(hp, inputs))
        x = keras.layers.Dense(self.output_dim)(x)
        return Denormalize(self.target_mean, self.target_scale)(x)

    def get_config(self):
        return {**super().get_config(), "output_dim": self.output_dim}
