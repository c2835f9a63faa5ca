"""AutoKeras' public Keras layers (``CastToFloat32``, ``ExpandLastDim``) and ``CUSTOM_OBJECTS``.

autodeep's exported models never need ``custom_objects`` (every layer is registered
for safe-mode loading); ``CUSTOM_OBJECTS`` exists so AutoKeras code that passes it to
``keras.models.load_model`` keeps working.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="autodeep")
class CastToFloat32(keras.layers.Layer):
    """Cast the input to ``float32``.

    Example:
        >>> import numpy as np
        >>> str(CastToFloat32()(np.array([1, 2], "int32")).dtype).endswith("float32")
        True
    """

    def call(self, inputs):
        return ops.cast(inputs, "float32")

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="float32")


@keras.saving.register_keras_serializable(package="autodeep")
class ExpandLastDim(keras.layers.Layer):
    """Add a last axis of size 1: ``(batch, n)`` -> ``(batch, n, 1)``.

    Example:
        >>> import numpy as np
        >>> tuple(ExpandLastDim()(np.zeros((2, 3), "float32")).shape)
        (2, 3, 1)
    """

    def call(self, inputs):
        return ops.expand_dims(inputs, axis=-1)


def custom_objects() -> dict:
    """Every Keras layer autodeep registers, by class name (what AutoKeras' ``CUSTOM_OBJECTS`` holds).

    Example:
        >>> import autodeep as ak
        >>> ak.CUSTOM_OBJECTS["ExpandLastDim"].__name__
        'ExpandLastDim'
    """
    return {key.split(">", 1)[1]: obj for key, obj in keras.saving.get_custom_objects().items()
            if key.startswith("autodeep>")}
