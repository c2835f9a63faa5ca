"""``Flatten``: AutoKeras' block that turns any feature map into one vector per example."""

from __future__ import annotations

import keras

from autodeep.graph import Block, GraphError


class Flatten(Block):
    """Flatten the input to ``(batch, features)``; a 2-D input passes unchanged.

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.Flatten()(ak.ConvBlock()(ak.ImageInput())))
    """

    def build(self, hp, inputs):
        if isinstance(inputs, list) or not hasattr(inputs, "shape"):
            received = "several inputs" if isinstance(inputs, list) else type(inputs).__name__
            raise GraphError(f"{self.name} flattens one tensor (images, sequences or vectors); received "
                             f"{received}. Put it after a block such as ak.ConvBlock() or ak.Merge().")
        if len(inputs.shape) <= 2:
            return inputs
        return keras.layers.Flatten()(inputs)
