"""A retrieval model in the ModernNCA style: a row is predicted from the targets of training rows near it in a
learned space (Ye et al., "Revisiting Nearest Neighbor for Tabular Data: A Deep Tabular Baseline Two Decades
Later", ICLR 2025; a fresh implementation).

``StructuredDataBlock(block_type="modernnca")`` encodes rows and hands its head ``NeighbourFeatures``: the query
rows' codes and those of candidate rows read from a ``RowMemory``, training rows kept inside the model. The
head's ``NeighbourVote`` predicts the candidates' targets weighted by ``softmax(-distance)``. While training the
candidates are ``candidates`` stored rows drawn anew each step, and a candidate equal to the query row is left
out (it would hand over the row's own target); at prediction every stored row is a candidate.

``remember(model, x, y)`` stores training rows (at most ``capacity``, drawn at random beyond it) and their
targets in a model's memories. ``fit_model`` calls it before training, so trials, bagged folds and refits each
keep the rows they learned from, and their saved weights carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from autodeep.data.rows import take_rows

BLOCKED = -1e9  # the logit of a candidate that may not vote


@dataclass
class NeighbourFeatures:
    """What a retrieval body hands to a head: the codes of the ``query`` rows ``(batch, d)`` and of the
    ``candidates`` ``(k, d)``, the candidates' rows in the memory (``index``), and whether each may vote for
    each query row (``usable``, ``(batch, k)``)."""

    query: Any
    candidates: Any
    index: Any
    usable: Any
    capacity: int


@keras.saving.register_keras_serializable(package="autodeep")
class RowMemory(keras.layers.Layer):
    """Up to ``capacity`` training rows of the model inputs it is called on, kept as weights.

    Called on the query inputs, it returns the candidate rows (one array per input), their row numbers in the
    memory, and whether each holds a stored row: ``candidates`` rows drawn at random among the stored ones while
    training, every row otherwise.

    Example:
        >>> memory = RowMemory(capacity=4, candidates=2, input_names=["x"], dtypes=["float32"])
        >>> rows, index, stored = memory([np.zeros((3, 2), "float32")])
        >>> tuple(rows[0].shape), tuple(index.shape), float(ops.sum(stored))  # nothing remembered yet
        ((4, 2), (4,), 0.0)
    """

    def __init__(self, capacity: int = 4096, candidates: int = 1024, input_names=(), dtypes=(), seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.capacity, self.candidates = int(capacity), int(candidates)
        self.input_names, self.dtypes, self.seed = list(input_names), list(dtypes), seed

    def build(self, input_shapes):
        self.rows = [self.add_weight(name=f"rows_{i}", shape=(self.capacity, *shape[1:]), dtype=dtype,
                                     initializer="zeros", trainable=False)
                     for i, (shape, dtype) in enumerate(zip(input_shapes, self.dtypes))]
        self.stored = self.add_weight(name="stored", shape=(self.capacity,), initializer="zeros", trainable=False)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=False):
        if training:  # stored rows first, in a random order
            draw = keras.random.uniform((self.capacity,), seed=self.seed_generator) + self.stored
            index = ops.top_k(draw, min(self.candidates, self.capacity))[1]
        else:
            index = ops.arange(self.capacity)
        return [ops.take(rows, index, axis=0) for rows in self.rows], index, ops.take(self.stored, index)

    def remember(self, x, rows: np.ndarray) -> None:
        """Store ``rows`` (row numbers, at most ``capacity``) of the inputs ``x`` (a dict by input name)."""
        for variable, name in zip(self.rows, self.input_names):
            values = np.zeros(variable.shape, variable.dtype)
            values[:len(rows)] = np.asarray(take_rows(x[name], rows)).reshape(len(rows), *variable.shape[1:])
            variable.assign(values)
        self.stored.assign((np.arange(self.capacity) < len(rows)).astype("float32"))

    def get_config(self):
        return {**super().get_config(), "capacity": self.capacity, "candidates": self.candidates,
                "input_names": self.input_names, "dtypes": self.dtypes, "seed": self.seed}


@keras.saving.register_keras_serializable(package="autodeep")
class UsableCandidates(keras.layers.Layer):
    """``(batch, k)``: 1 where a candidate may vote for a query row: it holds a stored row (``stored``) and,
    while training, is not the query row itself (at prediction an exact duplicate of a training row votes).
    Rows are compared by two fixed pseudo-random projections of their values.

    Example:
        >>> usable = UsableCandidates()([np.array([[1.0, 2.0]], "float32")],
        ...                             [np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 0.0]], "float32")],
        ...                             np.array([1.0, 1.0, 0.0], "float32"), training=True)
        >>> ops.convert_to_numpy(usable).tolist()
        [[0.0, 1.0, 0.0]]
    """

    def call(self, queries, candidates, stored, training=False):
        usable = ops.ones((ops.shape(queries[0])[0], 1)) * stored[None]
        if not training:
            return usable
        gap = 0.0
        for query, candidate in zip(queries, candidates):
            query, candidate = (ops.reshape(ops.cast(a, "float32"), (ops.shape(a)[0], -1)) for a in (query, candidate))
            columns = int(query.shape[-1])
            projection = ops.sin(ops.reshape(ops.arange(2 * columns, dtype="float32"), (columns, 2)) * 12.9898 + 1.0)
            left, right = ops.matmul(query, projection), ops.matmul(candidate, projection)
            scale = ops.abs(left)[:, None] + ops.abs(right)[None] + 1.0
            gap = gap + ops.max(ops.abs(left[:, None] - right[None]) / scale, axis=-1)
        return usable * ops.cast(gap >= 1e-5, "float32")


@keras.saving.register_keras_serializable(package="autodeep")
class NeighbourVote(keras.layers.Layer):
    """The candidates' targets, weighted by ``softmax(-Euclidean distance)`` between codes: ``(batch, width)``.

    It keeps the targets of the rows its ``RowMemory`` stores (``capacity`` rows of ``width`` values: a binary
    head's 0/1, a multiclass head's one-hot rows, a regression head's standardised values), those of the head
    named ``target`` when a model has several; candidates that may not vote (``usable`` 0) get no weight.

    Example:
        >>> vote = NeighbourVote(width=1, capacity=2)
        >>> _ = vote.build()
        >>> _ = vote.targets.assign(np.array([[1.0], [0.0]], "float32"))
        >>> out = vote([np.zeros((1, 2), "float32"), np.array([[0.0, 0.0], [3.0, 4.0]], "float32"),
        ...             np.arange(2), np.ones((1, 2), "float32")])
        >>> round(float(ops.convert_to_numpy(out)[0, 0]), 4)  # distances 0 and 5: softmax([0, -5])
        0.9933
    """

    def __init__(self, width: int = 1, capacity: int = 4096, target: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width, self.capacity, self.target = int(width), int(capacity), target

    def build(self, input_shapes=None):
        self.targets = self.add_weight(name="targets", shape=(self.capacity, self.width), initializer="zeros",
                                       trainable=False)

    def call(self, inputs):
        query, candidates, index, usable = inputs
        squared = (ops.sum(query ** 2, axis=1, keepdims=True) + ops.sum(candidates ** 2, axis=1)[None]
                   - 2.0 * ops.matmul(query, ops.transpose(candidates)))
        logits = ops.where(usable > 0, -ops.sqrt(ops.maximum(squared, 1e-12)), BLOCKED)
        return ops.matmul(ops.softmax(logits, axis=1), ops.take(self.targets, index, axis=0))

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], self.width)

    def remember(self, y, rows: np.ndarray) -> None:
        """Store the targets ``y`` (as the head's loss reads them) of ``rows``."""
        values = np.asarray(take_rows(y, rows))
        if values.ndim == 1 or (self.width > 1 and values.shape[-1] == 1):  # class indices: one-hot
            values = np.eye(self.width, dtype="float32")[values.reshape(-1).astype("int64")]
        stored = np.zeros((self.capacity, self.width), "float32")
        stored[:len(rows)] = values.reshape(len(rows), self.width)
        self.targets.assign(stored)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "capacity": self.capacity, "target": self.target}


def neighbour_features(tensors: list, code_of, capacity: int, candidates: int, seed=None) -> NeighbourFeatures:
    """``NeighbourFeatures`` of the model inputs ``tensors`` (Keras inputs), encoded by ``code_of`` (a Keras model
    from ``tensors`` to a 2-D code) for the query rows and for a ``RowMemory``'s candidates (example: ``remember``)."""
    memory = RowMemory(capacity, candidates, input_names=[t.name for t in tensors],
                       dtypes=[str(t.dtype) for t in tensors], seed=seed)
    rows, index, stored = memory(tensors)
    usable = UsableCandidates()(tensors, rows, stored)
    return NeighbourFeatures(code_of(tensors), code_of(rows), index, usable, capacity)


def vote(features: NeighbourFeatures, width: int, target: str):
    """Head ``target``'s prediction from ``NeighbourFeatures``: ``width`` targets voted by the candidates (example:
    ``remember``)."""
    return NeighbourVote(width, features.capacity, target)(
        [features.query, features.candidates, features.index, features.usable])


def remember(model, x, y, seed: int | None = 0) -> None:
    """Store training rows ``x`` (a dict by input name) and their targets ``y`` (an array, or a dict by head name)
    in ``model``'s memories (nothing when it has none): the same rows, at most ``capacity``, drawn at random
    beyond it.

    Example:
        >>> x = keras.Input((2,), name="x")
        >>> features = neighbour_features([x], keras.Model([x], keras.layers.Dense(4)(x)), capacity=8, candidates=4)
        >>> model = keras.Model(x, vote(features, width=1, target="y"))
        >>> remember(model, {"x": np.eye(5, 2, dtype="float32")}, np.arange(5, dtype="float32")[:, None] % 2)
        >>> [int(ops.sum(layer.stored)) for layer in all_layers(model) if isinstance(layer, RowMemory)]
        [5]
        >>> model.predict(np.eye(5, 2, dtype="float32"), verbose=0).shape
        (5, 1)
    """
    layers = all_layers(model)  # one walk: this runs before every fit
    memories = [layer for layer in layers if isinstance(layer, RowMemory)]
    if not memories:
        return
    votes = [layer for layer in layers if isinstance(layer, NeighbourVote)]
    n = len(y) if not isinstance(y, dict) else len(next(iter(y.values())))
    capacity = memories[0].capacity
    rows = np.arange(n) if n <= capacity else np.sort(np.random.default_rng(seed).choice(n, capacity, replace=False))
    for memory in memories:
        memory.remember(x, rows)
    for layer in votes:
        layer.remember(y[layer.target] if isinstance(y, dict) else y, rows)


def all_layers(model) -> list:
    """``model``'s layers, those of the models nested in it included.

    Example:
        >>> inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])
        >>> [type(layer).__name__ for layer in all_layers(outer)]
        ['Sequential', 'Dense', 'Dense']
    """
    layers = []
    for layer in model.layers:
        layers += [layer, *(all_layers(layer) if hasattr(layer, "layers") else [])]
    return layers


def keeps_rows(model) -> bool:
    """Whether ``model`` keeps training rows (a ``RowMemory``).

    Example:
        >>> keeps_rows(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
        False
    """
    return any(isinstance(layer, RowMemory) for layer in all_layers(model))
