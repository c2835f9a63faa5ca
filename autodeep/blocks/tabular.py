"""Tabular blocks: feature encoding of a table and ``StructuredDataBlock``."""

from __future__ import annotations

import keras

from autodeep.blocks.layers import CategoricalEmbedding, PeriodicEmbedding
from autodeep.graph import Block, GraphError, TabularFeatures


def tabular_to_dense(hp, features: TabularFeatures, numerical_encoding: str | None = None,
                     categorical_dim: int | None = None):
    """Encode a table's numeric and categorical tensors into one 2-D float tensor.

    Numeric columns arrive quantile-normalised; they are used as they are or through
    learned periodic embeddings. Categorical codes go through embedding tables.
    """
    parts = []
    n_numerical = int(features.numerical.shape[-1])
    if n_numerical:
        encoding = numerical_encoding or hp.Choice("numerical_encoding", ["periodic", "none"], default="periodic")
        if encoding == "periodic":
            parts.append(PeriodicEmbedding(
                n_frequencies=hp.Choice("n_frequencies", [48, 16, 32, 64], default=48),
                sigma=hp.Choice("frequency_scale", [0.3, 0.03, 0.1, 1.0, 3.0], default=0.3),
                embedding_dim=hp.Choice("numerical_embedding_dim", [8, 16, 32], default=16),
            )(features.numerical))
        else:
            parts.append(features.numerical)
    if features.cardinalities:
        dim = categorical_dim or hp.Choice("categorical_embedding_dim", [8, 4, 16], default=8)
        parts.append(CategoricalEmbedding(features.cardinalities, embedding_dim=dim)(features.categorical))
    if not parts:
        raise GraphError("The table has no usable columns (all were empty or dropped).")
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate()(parts)


class StructuredDataBlock(Block):
    """The default block for tables: column encodings followed by an MLP or a residual MLP.

    Args:
        numerical_encoding: ``"none"`` or ``"periodic"``; searched when ``None``.
        block_type: ``"mlp"`` or ``"resnet"``; searched when ``None``.
        num_layers, num_units, dropout: Fix parts of the body's space.

    Example:
        >>> import autodeep as ak
        >>> table = ak.StructuredDataInput()
        >>> out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="mlp")(table))
    """

    def __init__(self, numerical_encoding: str | None = None, block_type: str | None = None,
                 num_layers: int | None = None, num_units: int | None = None, dropout: float | None = None,
                 categorical_encoding: bool = True, normalize: bool | None = None, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        for arg, value, allowed in (("numerical_encoding", numerical_encoding, ("none", "periodic")),
                                    ("block_type", block_type, ("mlp", "resnet"))):
            if value is not None and value not in allowed:
                raise ValueError(f"StructuredDataBlock: {arg} must be one of {allowed} or None; received {value!r}.")
        self.numerical_encoding = numerical_encoding
        self.block_type = block_type
        self.num_layers = num_layers
        self.num_units = num_units
        self.dropout = dropout
        self.categorical_encoding = categorical_encoding
        self.normalize = normalize
        self.seed = seed

    def build(self, hp, inputs):
        if not isinstance(inputs, TabularFeatures):
            raise GraphError(f"{self.name} expects a table (ak.StructuredDataInput); received a tensor of shape "
                             f"{tuple(getattr(inputs, 'shape', ()))}.")
        x = tabular_to_dense(hp, inputs, self.numerical_encoding)
        block_type = self.block_type or hp.Choice("block_type", ["mlp", "resnet"], default="mlp")
        num_layers = self.num_layers or hp.Choice("num_layers", [2, 1, 3, 4], default=2)
        units = self.num_units or hp.Choice("units", [256, 64, 128, 512, 1024], default=256)
        dropout = self.dropout if self.dropout is not None else hp.Choice(
            "dropout", [0.1, 0.0, 0.25, 0.4], default=0.1)
        if block_type == "mlp":
            for _ in range(num_layers):
                x = keras.layers.Dense(units, activation="relu")(x)
                if dropout:
                    x = keras.layers.Dropout(dropout)(x)
            return x
        x = keras.layers.Dense(units)(x)
        for _ in range(num_layers):
            h = keras.layers.BatchNormalization()(x)
            h = keras.layers.Dense(units * 2, activation="relu")(h)
            if dropout:
                h = keras.layers.Dropout(dropout)(h)
            h = keras.layers.Dense(units)(h)
            x = keras.layers.Add()([x, h])
        return keras.layers.ReLU()(keras.layers.BatchNormalization()(x))

    def get_config(self):
        return {**super().get_config(), "numerical_encoding": self.numerical_encoding,
                "block_type": self.block_type, "num_layers": self.num_layers, "num_units": self.num_units,
                "dropout": self.dropout}
