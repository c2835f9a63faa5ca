"""Keras layers that autodeep's blocks need and Keras does not ship.

Each is registered under the ``autodeep`` package so a saved ``.keras`` file
loads in safe mode without custom code.
"""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="autodeep")
class PeriodicEmbedding(keras.layers.Layer):
    """Embed each numeric feature with learned periodic functions (the "PLR" encoding).

    ``x_j -> ReLU(W_j [sin(2 pi c_j x_j), cos(2 pi c_j x_j)] + b_j)`` with learned
    frequencies ``c_j`` per feature, following Gorishniy et al., "On Embeddings
    for Numerical Features in Tabular Deep Learning" (2022).

    Example:
        >>> import numpy as np
        >>> layer = PeriodicEmbedding(n_frequencies=8, sigma=0.1, embedding_dim=4)
        >>> tuple(layer(np.zeros((2, 3), "float32")).shape)
        (2, 12)
    """

    INIT_ONLY = ("sigma",)  # config read only when the weights are initialised (autodeep.train.cohort)

    def __init__(self, n_frequencies: int = 16, sigma: float = 0.1, embedding_dim: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.n_frequencies = n_frequencies
        self.sigma = sigma
        self.embedding_dim = embedding_dim

    def build(self, input_shape):
        n_features = int(input_shape[-1])
        self.frequencies = self.add_weight(
            name="frequencies", shape=(n_features, self.n_frequencies),
            initializer=keras.initializers.RandomNormal(stddev=self.sigma))
        fan_in = 2 * self.n_frequencies
        limit = 1.0 / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel", shape=(n_features, fan_in, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-limit, limit))
        self.bias = self.add_weight(
            name="bias", shape=(n_features, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-limit, limit))

    def call(self, inputs):
        angles = 2.0 * math.pi * self.frequencies[None] * ops.expand_dims(inputs, -1)
        periodic = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
        embedded = ops.relu(ops.einsum("bfk,fkd->bfd", periodic, self.kernel) + self.bias[None])
        return ops.reshape(embedded, (-1, embedded.shape[1] * self.embedding_dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(input_shape[-1]) * self.embedding_dim)

    def get_config(self):
        return {**super().get_config(), "n_frequencies": self.n_frequencies, "sigma": self.sigma,
                "embedding_dim": self.embedding_dim}


@keras.saving.register_keras_serializable(package="autodeep")
class FeatureScale(keras.layers.Layer):
    """Each input feature times a learned scale (1 at first) that moves ``step_factor`` times as fast as the
    other weights: RealMLP's front scaling layer (Holzmueller et al., "Better by Default: Strong Pre-Tuned MLPs
    and Boosted Trees on Tabular Data", 2024), which lets the network learn which features matter early.

    The scale is ``step_factor * w`` with ``w`` starting at ``1 / step_factor``: Adam-type optimizers step each
    weight by about the learning rate whatever its gradient's size, so the scale steps ``step_factor`` times
    as far.

    Example:
        >>> import numpy as np
        >>> FeatureScale(step_factor=6.0)(np.array([[1.0, -2.0]], "float32")).tolist()
        [[1.0, -2.0]]
    """

    def __init__(self, step_factor: float = 6.0, **kwargs):
        super().__init__(**kwargs)
        self.step_factor = float(step_factor)

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(int(input_shape[-1]),),
                                     initializer=keras.initializers.Constant(1.0 / self.step_factor))

    def call(self, inputs):
        return inputs * (self.step_factor * self.scale)[None]

    def get_config(self):
        return {**super().get_config(), "step_factor": self.step_factor}


@keras.saving.register_keras_serializable(package="autodeep")
class PeriodicBiasEmbedding(PeriodicEmbedding):
    """RealMLP's "PBLD" numeric embedding: per feature, ``[x_j, V_j cos(2 pi (c_j x_j + b_j)) + a_j]``, with
    learned frequencies ``c_j`` (normal, ``sigma``), phases ``b_j`` (uniform) and a linear map to
    ``embedding_dim - 1`` values; the feature itself is kept beside them (the "densenet" part). Its settings,
    output shape and config are ``PeriodicEmbedding``'s.

    Example:
        >>> import numpy as np
        >>> layer = PeriodicBiasEmbedding(n_frequencies=8, sigma=0.1, embedding_dim=4)
        >>> out = layer(np.array([[0.5, -1.0, 2.0]], "float32"))
        >>> tuple(out.shape), out[0, 0].tolist() == 0.5
        ((1, 12), True)
    """

    def __init__(self, n_frequencies: int = 16, sigma: float = 0.1, embedding_dim: int = 4, **kwargs):
        super().__init__(n_frequencies, sigma, embedding_dim, **kwargs)

    def build(self, input_shape):
        n_features, out = int(input_shape[-1]), self.embedding_dim - 1
        self.frequencies = self.add_weight(name="frequencies", shape=(n_features, self.n_frequencies),
                                           initializer=keras.initializers.RandomNormal(stddev=self.sigma))
        self.phases = self.add_weight(name="phases", shape=(n_features, self.n_frequencies),
                                      initializer=keras.initializers.RandomUniform(-0.5, 0.5))
        limit = 1.0 / math.sqrt(self.n_frequencies)
        self.kernel = self.add_weight(name="kernel", shape=(n_features, self.n_frequencies, out),
                                      initializer=keras.initializers.RandomUniform(-limit, limit))
        self.bias = self.add_weight(name="bias", shape=(n_features, out),
                                    initializer=keras.initializers.RandomUniform(-limit, limit))

    def call(self, inputs):
        periodic = ops.cos(2.0 * math.pi * (self.frequencies[None] * ops.expand_dims(inputs, -1) + self.phases[None]))
        linear = ops.einsum("bfk,fkd->bfd", periodic, self.kernel) + self.bias[None]
        embedded = ops.concatenate([ops.expand_dims(inputs, -1), linear], axis=-1)
        return ops.reshape(embedded, (-1, embedded.shape[1] * self.embedding_dim))


@keras.saving.register_keras_serializable(package="autodeep")
class ParametricActivation(keras.layers.Layer):
    """``x + a (f(x) - x)`` with a learned ``a`` per unit (1 at first: the activation ``f`` itself), so each unit
    can become more linear: RealMLP's parametric activation.

    Example:
        >>> import numpy as np
        >>> ParametricActivation("relu")(np.array([[-1.0, 2.0]], "float32")).tolist()
        [[0.0, 2.0]]
    """

    def __init__(self, activation: str = "selu", **kwargs):
        super().__init__(**kwargs)
        self.activation = activation

    def build(self, input_shape):
        self.mix = self.add_weight(name="mix", shape=(int(input_shape[-1]),), initializer="ones")

    def call(self, inputs):
        return inputs + self.mix[None] * (keras.activations.get(self.activation)(inputs) - inputs)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@keras.saving.register_keras_serializable(package="autodeep")
class CategoricalEmbedding(keras.layers.Layer):
    """Embed integer-coded categorical columns, one table per column, flattened.

    Example:
        >>> import numpy as np
        >>> layer = CategoricalEmbedding(cardinalities=[3, 5], embedding_dim=4)
        >>> tuple(layer(np.array([[0, 4], [2, 1]], "int32")).shape)
        (2, 8)
    """

    def __init__(self, cardinalities, embedding_dim: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.cardinalities = [int(c) for c in cardinalities]
        self.embedding_dim = embedding_dim
        offsets, total = [], 0
        for cardinality in self.cardinalities:
            offsets.append(total)
            total += max(cardinality, 1)
        self._offsets = offsets
        self._total = total

    def build(self, input_shape):
        self.table = self.add_weight(
            name="table", shape=(self._total, self.embedding_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(self.embedding_dim)))

    def call(self, inputs):
        codes = ops.cast(inputs, "int32")
        maxima = ops.convert_to_tensor([max(c, 1) - 1 for c in self.cardinalities], dtype="int32")
        codes = ops.clip(codes, 0, maxima[None]) + ops.convert_to_tensor(self._offsets, dtype="int32")[None]
        embedded = ops.take(self.table, codes, axis=0)
        return ops.reshape(embedded, (-1, len(self.cardinalities) * self.embedding_dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.cardinalities) * self.embedding_dim)

    def get_config(self):
        return {**super().get_config(), "cardinalities": self.cardinalities, "embedding_dim": self.embedding_dim}


@keras.saving.register_keras_serializable(package="autodeep")
class Denormalize(keras.layers.Layer):
    """``y = x * scale + mean``: lets a network predict standardised targets in the user's units.

    Example:
        >>> import numpy as np
        >>> Denormalize(mean=[10.0], scale=[2.0])(np.ones((1, 1), "float32")).tolist()
        [[12.0]]
    """

    def __init__(self, mean, scale, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(v) for v in mean]
        self.scale = [float(v) for v in scale]

    def call(self, inputs):
        return inputs * ops.convert_to_tensor(self.scale, dtype=inputs.dtype) + ops.convert_to_tensor(
            self.mean, dtype=inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "scale": self.scale}


@keras.saving.register_keras_serializable(package="autodeep")
class WeightedAverage(keras.layers.Layer):
    """Weighted mean of several same-shaped tensors: how an ensemble of trials becomes one model.

    Example:
        >>> import numpy as np
        >>> WeightedAverage([0.75, 0.25])([np.ones((1, 2), "float32"), np.zeros((1, 2), "float32")]).tolist()
        [[0.75, 0.75]]
    """

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        total = float(sum(weights))
        self.member_weights = [float(w) / total for w in weights]

    def call(self, inputs):
        return sum(w * x for w, x in zip(self.member_weights, inputs))

    def get_config(self):
        return {**super().get_config(), "weights": self.member_weights}


@keras.saving.register_keras_serializable(package="autodeep")
class ClassToken(keras.layers.Layer):
    """Prepend one learned token to a sequence of tokens, ``(batch, n, d) -> (batch, n + 1, d)``.

    Example:
        >>> import numpy as np
        >>> tuple(ClassToken()(np.zeros((2, 5, 4), "float32")).shape)
        (2, 6, 4)
    """

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.token = self.add_weight(name="token", shape=(1, 1, dim),
                                     initializer=keras.initializers.RandomUniform(-dim ** -0.5, dim ** -0.5))

    def call(self, inputs):
        token = ops.broadcast_to(ops.cast(self.token, inputs.dtype), (ops.shape(inputs)[0], 1, inputs.shape[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        n = input_shape[1] + 1 if input_shape[1] is not None else None
        return (input_shape[0], n, input_shape[2])


@keras.saving.register_keras_serializable(package="autodeep")
class NeighbourBlend(keras.layers.Layer):
    """Blend a prediction with the targets of stored training rows near the query row (kernel-weighted).

    ``p' = (sum_j w_j y_j + prior * p) / (sum_j w_j + prior)`` with ``w_j = exp(-d(q, r_j) / tau)``, where
    ``d`` is the mean per-column squared difference (numeric inputs) or 2 x mismatch (categorical codes).
    The reference rows and their targets are non-trainable weights, saved with the model. See
    ``autodeep.ensemble.retrieval`` for how ``tau`` and ``prior`` are chosen.

    Args:
        tau: Distance scale of the kernel (smaller: only near-exact matches count).
        prior: Weight of the model's own prediction, in rows.
        kinds: Per query input, ``"numeric"`` or ``"categorical"``.
        reference_rows: Number of stored rows.
        columns: Per query input, its number of columns.
        outputs: Width of the prediction (and of the stored targets).

    Example:
        >>> import numpy as np
        >>> layer = NeighbourBlend(0.01, 1.0, ["numeric"], reference_rows=2, columns=[1], outputs=1)
        >>> _ = layer([np.zeros((1, 1), "float32"), np.zeros((1, 1), "float32")])
        >>> layer.set_weights([np.array([[0.0], [5.0]], "float32"), np.array([[1.0], [0.0]], "float32")])
        >>> round(float(np.asarray(layer([np.full((1, 1), 0.2, "float32"), np.zeros((1, 1), "float32")]))[0, 0]), 3)
        0.6
    """

    def __init__(self, tau, prior, kinds, reference_rows, columns, outputs, **kwargs):
        super().__init__(**kwargs)
        self.tau = float(tau)
        self.prior = float(prior)
        self.kinds = [str(k) for k in kinds]
        self.reference_rows = int(reference_rows)
        self.columns = [int(c) for c in columns]
        self.outputs = int(outputs)
        unknown = sorted(set(self.kinds) - {"numeric", "categorical"})
        if unknown or len(self.kinds) != len(self.columns):
            raise ValueError(f"NeighbourBlend needs one kind ('numeric' or 'categorical') per input in columns; "
                             f"received kinds={self.kinds}, columns={self.columns}.")

    def build(self, input_shape):
        self.references = [self.add_weight(shape=(self.reference_rows, c), initializer="zeros", trainable=False,
                                           name=f"reference_{i}") for i, c in enumerate(self.columns)]
        self.targets = self.add_weight(shape=(self.reference_rows, self.outputs), initializer="zeros",
                                       trainable=False, name="targets")

    def call(self, inputs):
        prediction, queries = inputs[0], inputs[1:]
        dtype = prediction.dtype
        distance = 0.0
        for kind, query, reference in zip(self.kinds, queries, self.references):
            query = ops.cast(ops.reshape(query, (-1, reference.shape[1])), "float32")
            if kind == "numeric":
                squared = (ops.sum(query * query, axis=1, keepdims=True)
                           + ops.expand_dims(ops.sum(reference * reference, axis=1), 0)
                           - 2.0 * ops.matmul(query, ops.transpose(reference)))
                distance = distance + ops.maximum(squared, 0.0)
            else:
                for j in range(reference.shape[1]):
                    differs = ops.not_equal(query[:, j:j + 1], ops.expand_dims(reference[:, j], 0))
                    distance = distance + 2.0 * ops.cast(differs, "float32")
        weights = ops.exp(-distance / (sum(self.columns) * self.tau))
        flat = ops.reshape(ops.cast(prediction, "float32"), (-1, self.outputs))
        blended = (ops.matmul(weights, self.targets) + self.prior * flat) / (
            ops.sum(weights, axis=1, keepdims=True) + self.prior)
        return ops.cast(ops.reshape(blended, ops.shape(prediction)), dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "tau": self.tau, "prior": self.prior, "kinds": self.kinds,
                "reference_rows": self.reference_rows, "columns": self.columns, "outputs": self.outputs}


@keras.saving.register_keras_serializable(package="autodeep")
class RandomShift(keras.layers.Layer):
    """Shift each training image by a random whole number of pixels (mirrored edges); identity at inference.

    The same augmentation as ``keras.layers.RandomTranslation`` with whole-pixel shifts, done as one gather
    instead of an affine resampling: about 20 ms instead of 300 ms per batch of 64 32x32 RGB images on the
    torch CPU backend, 6 ms instead of 38 ms on JAX (``benchmarks`` machine, batch 64).

    Args:
        factor: Largest shift as a fraction of the height and width (``0.1`` of 32 pixels: up to 3).
        seed: Seed of the layer's random shifts.

    Example:
        >>> import numpy as np
        >>> images = np.arange(2 * 8 * 8, dtype="float32").reshape(2, 8, 8, 1)
        >>> layer = RandomShift(0.25, seed=0)
        >>> bool(np.array_equal(np.asarray(layer(images, training=False)), images))
        True
        >>> shifted = np.asarray(layer(images, training=True))
        >>> shifted.shape, bool(np.isin(shifted, images).all())
        ((2, 8, 8, 1), True)
    """

    def __init__(self, factor: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.factor = float(factor)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        height, width = inputs.shape[1], inputs.shape[2]
        pad_y = min(int(round(self.factor * height)), height - 1) if height else 0
        pad_x = min(int(round(self.factor * width)), width - 1) if width else 0
        if not training or (pad_y == 0 and pad_x == 0):
            return inputs
        batch, channels = ops.shape(inputs)[0], inputs.shape[3]
        padded_width = width + 2 * pad_x
        padded = ops.pad(inputs, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]], mode="reflect")
        padded = ops.reshape(padded, (batch, -1, channels))
        dy = keras.random.randint((batch, 1, 1), 0, 2 * pad_y + 1, seed=self.seed_generator)
        dx = keras.random.randint((batch, 1, 1), 0, 2 * pad_x + 1, seed=self.seed_generator)
        rows = ops.reshape(ops.arange(height), (1, height, 1)) + dy
        cols = ops.reshape(ops.arange(width), (1, 1, width)) + dx
        index = ops.reshape(rows * padded_width + cols, (batch, height * width, 1))
        shifted = ops.take_along_axis(padded, ops.broadcast_to(index, (batch, height * width, channels)), axis=1)
        return ops.reshape(shifted, (batch, height, width, channels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
