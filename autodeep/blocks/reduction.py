"""``SpatialReduction``: a feature map (images or sequences) -> one vector per example."""

from __future__ import annotations

import keras

from autodeep.graph import Block

REDUCTIONS = ("global_avg", "flatten", "global_max")


class SpatialReduction(Block):
    """Reduce a feature map to a vector by global average or max pooling, or by flattening.

    Works on images ``(batch, h, w, c)`` and on sequences ``(batch, steps, c)``.

    Args:
        reduction_type: ``"global_avg"``, ``"global_max"`` or ``"flatten"``; searched when ``None``
            (flatten first for maps of fewer than 16 positions, global average pooling otherwise).

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.SpatialReduction("global_avg")(ak.ConvBlock()(ak.ImageInput())))
    """

    def __init__(self, reduction_type: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if reduction_type not in (None, *REDUCTIONS):
            raise ValueError(f"SpatialReduction: reduction_type must be one of {list(REDUCTIONS)} or None; "
                             f"received {reduction_type!r}.")
        self.reduction_type = reduction_type

    def build(self, hp, inputs):
        rank = len(inputs.shape)
        if rank == 2:
            return inputs
        positions = 1
        for size in inputs.shape[1:-1]:
            positions *= int(size)
        # a small map (e.g. 3x3 after pooling 28 px) keeps where things are when flattened
        default = "flatten" if positions < 16 else "global_avg"
        reduction = self.reduction_type or hp.Choice("reduction_type", list(REDUCTIONS), default=default)
        if reduction == "flatten" or rank not in (3, 4):
            return keras.layers.Flatten()(inputs)
        if rank == 4:
            pool = keras.layers.GlobalAveragePooling2D if reduction == "global_avg" else keras.layers.GlobalMaxPooling2D
        else:
            pool = keras.layers.GlobalAveragePooling1D if reduction == "global_avg" else keras.layers.GlobalMaxPooling1D
        return pool()(inputs)

    def get_config(self):
        return {**super().get_config(), "reduction_type": self.reduction_type}
