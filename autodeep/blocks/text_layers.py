"""Keras layers the text blocks need: selecting TF-IDF columns, capping token ids, positions, alignment.

Registered under the ``autodeep`` package so saved models load in safe mode.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="autodeep")
class ColumnSlices(keras.layers.Layer):
    """Keep column ranges ``[[start, stop], ...]`` of a 2-D tensor, as float32 times ``scale``.

    Example:
        >>> import numpy as np
        >>> ColumnSlices([[0, 1], [2, 3]], scale=2.0)(np.arange(4, dtype="float32")[None]).tolist()
        [[0.0, 4.0]]
    """

    def __init__(self, ranges, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.ranges = [[int(a), int(b)] for a, b in ranges]
        self.scale = float(scale)

    def call(self, inputs):
        parts = [inputs[:, a:b] for a, b in self.ranges]
        x = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)
        return ops.cast(x, "float32") * self.scale

    def compute_output_shape(self, input_shape):
        return (input_shape[0], sum(b - a for a, b in self.ranges))

    def get_config(self):
        return {**super().get_config(), "ranges": self.ranges, "scale": self.scale}


@keras.saving.register_keras_serializable(package="autodeep")
class TokenClip(keras.layers.Layer):
    """Keep the first ``length`` token ids and map ids ``>= num_tokens`` to 1 (unknown): a smaller vocabulary.

    Example:
        >>> import numpy as np
        >>> TokenClip(num_tokens=5, length=3)(np.array([[2, 7, 4, 3]], "int32")).tolist()
        [[2, 1, 4]]
    """

    def __init__(self, num_tokens: int, length: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = int(num_tokens)
        self.length = int(length)

    def call(self, inputs):
        x = ops.cast(inputs[:, :self.length], "int32")
        return ops.where(x >= self.num_tokens, ops.ones_like(x), x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], min(self.length, input_shape[1]))

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "length": self.length}


@keras.saving.register_keras_serializable(package="autodeep")
class PositionEmbedding(keras.layers.Layer):
    """Add a learned embedding of each position to a ``(n, length, dim)`` sequence; keeps the mask.

    Example:
        >>> import numpy as np
        >>> tuple(PositionEmbedding(8)(np.zeros((2, 8, 4), "float32")).shape)
        (2, 8, 4)
    """

    def __init__(self, max_length: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length = int(max_length)
        self.supports_masking = True

    def build(self, input_shape):
        self.positions = self.add_weight(name="positions", shape=(self.max_length, int(input_shape[-1])),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, inputs):
        length = ops.shape(inputs)[1]
        return inputs + ops.cast(self.positions[None, :length], inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="autodeep")
class ColumnGather(keras.layers.Layer):
    """Reorder columns by ``indices``; an index equal to the width gives a zero column (term absent).

    Aligns one text input's TF-IDF columns with another's vocabulary.

    Example:
        >>> import numpy as np
        >>> ColumnGather([1, 2, 0])(np.array([[5.0, 6.0]], "float32")).tolist()
        [[6.0, 0.0, 5.0]]
    """

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]

    def call(self, inputs):
        padded = ops.concatenate([inputs, ops.zeros_like(inputs[:, :1])], axis=1)
        return ops.take(padded, np.asarray(self.indices, "int32"), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.indices))

    def get_config(self):
        return {**super().get_config(), "indices": self.indices}


@keras.saving.register_keras_serializable(package="autodeep")
class TokenRemap(keras.layers.Layer):
    """Map token ids through ``mapping`` (one vocabulary's ids to another's) and pad/cut to ``length``.

    Example:
        >>> import numpy as np
        >>> TokenRemap([0, 1, 3, 2], length=4)(np.array([[2, 3, 1]], "int32")).tolist()
        [[3, 2, 1, 0]]
    """

    def __init__(self, mapping, length: int, **kwargs):
        super().__init__(**kwargs)
        self.mapping = [int(i) for i in mapping]
        self.length = int(length)

    def call(self, inputs):
        x = ops.take(np.asarray(self.mapping, "int32"), ops.cast(inputs, "int32"), axis=0)
        width = x.shape[1]
        if width >= self.length:
            return x[:, :self.length]
        return ops.pad(x, [[0, 0], [0, self.length - width]])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((inputs.shape[0], self.length), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "mapping": self.mapping, "length": self.length}


@keras.saving.register_keras_serializable(package="autodeep")
class GroupCosine(keras.layers.Layer):
    """Cosine similarity of two aligned 2-D tensors within each column range: ``(n, n_ranges)``.

    Example:
        >>> import numpy as np
        >>> a = np.array([[1.0, 0.0, 1.0]], "float32"); b = np.array([[1.0, 0.0, 0.0]], "float32")
        >>> np.round(GroupCosine([[0, 2], [2, 3]])([a, b]), 3).tolist()
        [[1.0, 0.0]]
    """

    def __init__(self, ranges, **kwargs):
        super().__init__(**kwargs)
        self.ranges = [[int(a), int(b)] for a, b in ranges]

    def call(self, inputs):
        a, b = (ops.cast(t, "float32") for t in inputs)
        out = []
        for start, stop in self.ranges:
            x, y = a[:, start:stop], b[:, start:stop]
            dot = ops.sum(x * y, axis=1)
            norm = ops.sqrt(ops.sum(x * x, axis=1) * ops.sum(y * y, axis=1))
            out.append(dot / (norm + 1e-6))
        return ops.stack(out, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], len(self.ranges))

    def get_config(self):
        return {**super().get_config(), "ranges": self.ranges}


@keras.saving.register_keras_serializable(package="autodeep")
class AbsoluteDifference(keras.layers.Layer):
    """``|a - b|`` of two tensors of one shape (a symmetric comparison of two encodings).

    Example:
        >>> import numpy as np
        >>> AbsoluteDifference()([np.array([[1.0, 5.0]]), np.array([[3.0, 1.0]])]).tolist()
        [[2.0, 4.0]]
    """

    def call(self, inputs):
        return ops.abs(inputs[0] - inputs[1])

    def compute_output_shape(self, input_shape):
        return input_shape[0]
