"""Ensembles inside one network (TabM-style): k members that share most weights and train on their own losses.

A body turns a ``(batch, d)`` tensor into ``(batch, k, d)`` member features (``MemberAdapter``: one
multiplicative adapter per member, initialised with random signs so the members start apart); shared layers
act on the last axis; a head gives each member its own output layer (``MemberDense``) and ends with
``MemberMean``. While training, ``MemberMean`` hands every member's prediction to the loss and ``MemberLoss``
averages the members' own losses (each member learns on its own, which is what makes the ensemble work);
at inference it averages the members' predictions, so the saved model outputs one prediction per row.

Reference: Gorishniy et al., "TabM: Advancing tabular deep learning with parameter-efficient ensembling"
(ICLR 2025). This module is a fresh implementation of the TabM-mini variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
from keras import ops


@dataclass
class MemberFeatures:
    """What an ensemble body hands to a head: ``tensor`` of shape ``(batch, members, features)``."""

    tensor: Any
    members: int


@keras.saving.register_keras_serializable(package="autodeep")
class MemberAdapter(keras.layers.Layer):
    """``(batch, d) -> (batch, members, d)``: each member scales the features by its own learned vector.

    The vectors start as random +-1 signs (fixed by ``seed``), so members see different views from the
    first step.

    Example:
        >>> import numpy as np
        >>> out = ops.convert_to_numpy(MemberAdapter(4, seed=0)(np.ones((2, 3), "float32")))
        >>> out.shape, sorted(set(np.abs(out).ravel().tolist()))
        ((2, 4, 3), [1.0])
    """

    def __init__(self, members: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if int(members) < 1:
            raise ValueError(f"MemberAdapter: members must be a positive integer; received {members!r}.")
        self.members = int(members)
        self.seed = seed

    def build(self, input_shape):
        def random_signs(shape, dtype=None):
            draw = keras.random.uniform(shape, -1.0, 1.0, seed=self.seed)
            return ops.cast(ops.where(draw >= 0, 1.0, -1.0), dtype or "float32")

        self.scale = self.add_weight(name="scale", shape=(self.members, int(input_shape[-1])),
                                     initializer=random_signs)

    def call(self, inputs):
        return ops.expand_dims(inputs, 1) * ops.cast(ops.expand_dims(self.scale, 0), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.members, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "members": self.members, "seed": self.seed}


@keras.saving.register_keras_serializable(package="autodeep")
class MemberDense(keras.layers.Layer):
    """One dense layer per member: ``(batch, members, d) -> (batch, members, units)``, no weight sharing.

    Example:
        >>> import numpy as np
        >>> tuple(MemberDense(2, activation="sigmoid")(np.ones((5, 3, 4), "float32")).shape)
        (5, 3, 2)
    """

    def __init__(self, units: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        members, dim = int(input_shape[1]), int(input_shape[2])
        bound = dim ** -0.5  # the usual fan-in uniform start, per member
        self.kernel = self.add_weight(name="kernel", shape=(members, dim, self.units),
                                      initializer=keras.initializers.RandomUniform(-bound, bound))
        self.bias = self.add_weight(name="bias", shape=(members, self.units), initializer="zeros")

    def call(self, inputs):
        return self.activation(ops.einsum("bkd,kdu->bku", inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="autodeep")
class MemberMean(keras.layers.Layer):
    """Training: every member's prediction ``(batch, members, units)`` for ``MemberLoss``; inference: their mean
    ``(batch, units)``.

    Example:
        >>> import numpy as np
        >>> x = np.stack([np.zeros((2, 1)), np.ones((2, 1))], axis=1).astype("float32")
        >>> np.asarray(MemberMean()(x)).tolist(), tuple(MemberMean()(x, training=True).shape)
        ([[0.5], [0.5]], (2, 2, 1))
    """

    def call(self, inputs, training=None):
        return inputs if training else ops.mean(inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def _unreduced(loss):
    """A per-sample loss function from a loss name, function or ``keras.losses.Loss``."""
    if isinstance(loss, keras.losses.Loss):
        return loss.call
    return keras.losses.get(loss)


@keras.saving.register_keras_serializable(package="autodeep")
class MemberLoss(keras.losses.Loss):
    """``loss`` averaged over the members when the prediction has a member axis; plain ``loss`` otherwise.

    Each row's target is compared with every member's prediction, so each member trains on its own loss.

    Example:
        >>> import numpy as np
        >>> y, members = np.array([[1.0]], "float32"), np.array([[[0.0], [2.0]]], "float32")
        >>> float(MemberLoss("mean_squared_error")(y, members))  # ((1-0)^2 + (1-2)^2) / 2
        1.0
        >>> float(MemberLoss("mean_squared_error")(y, members.mean(axis=1)))  # the mean is exact
        0.0
    """

    def __init__(self, loss, name: str | None = None, reduction="sum_over_batch_size", **kwargs):
        if isinstance(loss, dict):
            loss = keras.losses.deserialize(loss)
        self.loss = loss
        super().__init__(name=name or f"member_{getattr(loss, '__name__', getattr(loss, 'name', 'loss'))}",
                         reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        fn = _unreduced(self.loss)
        if len(y_pred.shape) != 3:
            return fn(y_true, y_pred)
        members = y_pred.shape[1]
        flat = ops.reshape(y_pred, (-1, y_pred.shape[2]))
        per_row = fn(ops.repeat(y_true, members, axis=0), flat)
        return ops.mean(ops.reshape(per_row, (-1, members)), axis=1)

    def get_config(self):
        loss = self.loss if isinstance(self.loss, str) else keras.losses.serialize(self.loss)
        return {**super().get_config(), "loss": loss}


@keras.saving.register_keras_serializable(package="autodeep")
class MemberMetric(keras.metrics.Metric):
    """A metric of the members' mean prediction, whether or not the prediction still has its member axis.

    Example:
        >>> import numpy as np
        >>> m = MemberMetric(keras.metrics.MeanSquaredError())
        >>> m.update_state(np.array([[1.0]]), np.array([[[0.0], [2.0]]]))
        >>> float(m.result())
        0.0
    """

    def __init__(self, metric, name: str | None = None, **kwargs):
        if isinstance(metric, dict):
            metric = keras.metrics.deserialize(metric)
        elif not isinstance(metric, keras.metrics.Metric):  # a name or a function
            fn = keras.metrics.get(metric)
            metric = fn if isinstance(fn, keras.metrics.Metric) else keras.metrics.MeanMetricWrapper(
                fn, name=metric if isinstance(metric, str) else getattr(fn, "__name__", "metric"))
        super().__init__(name=name or metric.name, **kwargs)
        self.metric = metric

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_pred.shape) == 3:
            y_pred = ops.mean(y_pred, axis=1)
        self.metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()

    def get_config(self):
        return {"name": self.name, "metric": keras.metrics.serialize(self.metric)}


def member_body(x, members: int, num_layers: int, units: int, dropout: float, seed: int | None = None):
    """TabM-mini: a ``MemberAdapter`` then ``num_layers`` shared ReLU layers over the member axis.

    Example:
        >>> import numpy as np
        >>> out = member_body(keras.Input((6,)), members=8, num_layers=2, units=16, dropout=0.1)
        >>> out.members, tuple(out.tensor.shape)
        (8, (None, 8, 16))
    """
    x = MemberAdapter(members, seed=seed)(x)
    for _ in range(num_layers):
        x = keras.layers.Dense(units, activation="relu")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return MemberFeatures(x, members)
