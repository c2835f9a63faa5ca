"""General blocks: ``DenseBlock`` (an MLP) and ``Merge``."""

from __future__ import annotations

import keras

from autodeep.blocks.members import MemberFeatures
from autodeep.blocks.tabular import tabular_to_dense
from autodeep.graph import Block, GraphError, TabularFeatures


def flatten_input(hp, inputs):
    """One 2-D float tensor from whatever an input hands over (tabular features, images, sequences)."""
    if isinstance(inputs, MemberFeatures):
        raise GraphError("ensemble members (StructuredDataBlock(block_type='tabm')) can only feed a "
                         "ClassificationHead or RegressionHead directly")
    if isinstance(inputs, TabularFeatures):
        return tabular_to_dense(hp, inputs)
    if len(inputs.shape) > 2:
        return keras.layers.Flatten()(inputs)
    return inputs


class DenseBlock(Block):
    """Fully connected layers with optional batch normalisation and dropout.

    Args:
        num_layers: Number of Dense layers; searched in {1, 2, 3} when ``None``.
        num_units: Units per layer; searched per layer when ``None``.
        use_batchnorm: Batch normalisation after each Dense; searched when ``None``.
        dropout: Dropout rate after each layer; searched in {0, 0.25, 0.5} when ``None``.

    Example:
        >>> import autodeep as ak
        >>> x = ak.Input()
        >>> y = ak.RegressionHead()(ak.DenseBlock(num_layers=2, dropout=0.0)(x))
    """

    def __init__(self, num_layers: int | None = None, num_units: int | None = None,
                 use_batchnorm: bool | None = None, dropout: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.num_units = num_units
        self.use_batchnorm = use_batchnorm
        self.dropout = dropout

    def build(self, hp, inputs):
        if isinstance(inputs, list):
            raise GraphError(f"{self.name} takes one input; merge several with ak.Merge() first.")
        x = flatten_input(hp, inputs)
        num_layers = self.num_layers or hp.Choice("num_layers", [2, 1, 3], default=2)
        use_batchnorm = self.use_batchnorm if self.use_batchnorm is not None else hp.Boolean("use_batchnorm", False)
        dropout = self.dropout if self.dropout is not None else hp.Choice("dropout", [0.0, 0.1, 0.25, 0.5], default=0.1)
        for i in range(num_layers):
            units = self.num_units or hp.Choice(f"units_{i}", [256, 16, 32, 64, 128, 512, 1024], default=256)
            x = keras.layers.Dense(units)(x)
            if use_batchnorm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.ReLU()(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout)(x)
        return x

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers, "num_units": self.num_units,
                "use_batchnorm": self.use_batchnorm, "dropout": self.dropout}


class Merge(Block):
    """Merge several nodes into one, by concatenation or addition (searched when ``None``).

    Example:
        >>> import autodeep as ak
        >>> a, b = ak.Input(), ak.Input()
        >>> merged = ak.Merge(merge_type="concatenate")([ak.DenseBlock()(a), ak.DenseBlock()(b)])
    """

    def __init__(self, merge_type: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if merge_type not in (None, "add", "concatenate"):
            raise ValueError(f"Merge: merge_type must be 'add', 'concatenate' or None; received {merge_type!r}.")
        self.merge_type = merge_type

    def build(self, hp, inputs):
        tensors = [flatten_input(hp, t) for t in (inputs if isinstance(inputs, list) else [inputs])]
        if len(tensors) == 1:
            return tensors[0]
        merge_type = self.merge_type or hp.Choice("merge_type", ["concatenate", "add"], default="concatenate")
        widths = {int(t.shape[-1]) for t in tensors}
        if merge_type == "add" and len(widths) > 1 and self.merge_type is None:
            merge_type = "concatenate"  # a searched "add" cannot apply; only a fixed one is an error
        if merge_type == "add":
            if len(widths) > 1:
                sources = ", ".join(f"{n.name} (width {int(t.shape[-1])})" for n, t in zip(self.inputs, tensors))
                raise GraphError(f"{self.name} cannot add inputs of different widths: {sources}. "
                                 f"Use ak.Merge(merge_type='concatenate').")
            return keras.layers.Add()(tensors)
        return keras.layers.Concatenate()(tensors)

    def get_config(self):
        return {**super().get_config(), "merge_type": self.merge_type}
