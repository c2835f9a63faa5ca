"""Tabular blocks: feature encoding of a table and ``StructuredDataBlock``."""

from __future__ import annotations

import math

import keras

from autodeep.blocks.layers import (
    CategoricalEmbedding,
    ClassToken,
    FeatureScale,
    ParametricActivation,
    PeriodicBiasEmbedding,
    PeriodicEmbedding,
)
from autodeep.blocks.members import member_body
from autodeep.blocks.nca import neighbour_features
from autodeep.blocks.text_layers import ColumnSlices
from autodeep.graph import Block, GraphError, TabularFeatures


def encode_texts(hp, features: TabularFeatures) -> list:
    """One code per free-text column: its TF-IDF word and character n-grams through a ReLU layer with dropout
    (the n-gram MLP that wins on short texts in a few CPU minutes), ready to join the other columns."""
    codes = []
    for text in features.texts:
        ranges = [r for r in text.groups.values() if r[1] > r[0]]
        if not ranges:
            continue
        x = ColumnSlices(ranges, scale=1.0 / math.sqrt(len(ranges)))(text.tfidf)
        x = keras.layers.Dense(hp.Choice("text_units", [256, 64, 128], default=256), activation="relu")(x)
        rate = hp.Choice("text_dropout", [0.5, 0.25, 0.0], default=0.5)
        codes.append(keras.layers.Dropout(rate)(x) if rate else x)
    return codes


def tabular_to_dense(hp, features: TabularFeatures, numerical_encoding: str | None = None,
                     categorical_dim: int | None = None):
    """Encode a table's numeric, categorical and text tensors into one 2-D float tensor.

    Numeric columns arrive quantile-normalised; they are used as they are, through learned periodic embeddings,
    or (``"pbld"``, RealMLP's) through a front scaling layer and periodic embeddings with phases that keep each
    value beside its embedding. Categorical codes go through embedding tables, and text columns through
    ``encode_texts``.
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
        elif encoding == "pbld":
            scaled = FeatureScale()(features.numerical)
            parts.append(PeriodicBiasEmbedding(
                n_frequencies=16, sigma=hp.Choice("frequency_scale", [0.3, 0.03, 0.1, 1.0, 3.0], default=0.1),
                embedding_dim=4)(scaled))
        else:
            parts.append(features.numerical)
    if features.cardinalities:
        dim = categorical_dim or hp.Choice("categorical_embedding_dim", [8, 4, 16], default=8)
        parts.append(CategoricalEmbedding(features.cardinalities, embedding_dim=dim)(features.categorical))
    parts += encode_texts(hp, features)
    if not parts:
        raise GraphError("The table has no usable columns (all were empty or dropped).")
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate()(parts)


def tabular_to_tokens(hp, features: TabularFeatures, token_dim: int):
    """One ``token_dim`` token per column, ``(batch, columns, token_dim)``: numeric columns through periodic
    ("PLR") embeddings, categorical columns through embedding tables (the FT-Transformer's tokenizer)."""
    parts = []
    n_numerical = int(features.numerical.shape[-1])
    if n_numerical:
        embedded = PeriodicEmbedding(
            n_frequencies=hp.Choice("n_frequencies", [48, 16, 32, 64], default=48),
            sigma=hp.Choice("frequency_scale", [0.3, 0.03, 0.1, 1.0, 3.0], default=0.3),
            embedding_dim=token_dim)(features.numerical)
        parts.append(keras.layers.Reshape((n_numerical, token_dim))(embedded))
    if features.cardinalities:
        embedded = CategoricalEmbedding(features.cardinalities, embedding_dim=token_dim)(features.categorical)
        parts.append(keras.layers.Reshape((len(features.cardinalities), token_dim))(embedded))
    for code in encode_texts(hp, features):  # one token per text column
        parts.append(keras.layers.Reshape((1, token_dim))(keras.layers.Dense(token_dim)(code)))
    if not parts:
        raise GraphError("The table has no usable columns (all were empty or dropped).")
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(axis=1)(parts)


def ft_transformer(hp, features: TabularFeatures, num_layers: int, dropout: float):
    """FT-Transformer body (Gorishniy et al., "Revisiting Deep Learning Models for Tabular Data", 2021):
    column tokens and a class token through pre-norm transformer layers; the class token's final state out."""
    token_dim = hp.Choice("token_dim", [64, 32, 128], default=64)
    attention_dropout = hp.Choice("attention_dropout", [0.2, 0.0, 0.1, 0.3], default=0.2)
    tokens = ClassToken()(tabular_to_tokens(hp, features, token_dim))
    heads = 8 if token_dim % 8 == 0 else 1
    for _ in range(num_layers):
        h = keras.layers.LayerNormalization()(tokens)
        h = keras.layers.MultiHeadAttention(heads, token_dim // heads, dropout=attention_dropout)(h, h)
        tokens = keras.layers.Add()([tokens, h])
        h = keras.layers.LayerNormalization()(tokens)
        h = keras.layers.Dense(token_dim * 4 // 3, activation="gelu")(h)
        if dropout:
            h = keras.layers.Dropout(dropout)(h)
        tokens = keras.layers.Add()([tokens, keras.layers.Dense(token_dim)(h)])
    first = keras.layers.Cropping1D((0, int(tokens.shape[1]) - 1))(tokens)  # the class token
    return keras.layers.ReLU()(keras.layers.LayerNormalization()(keras.layers.Flatten()(first)))


def realmlp_body(x, num_layers: int, units: int, dropout: float):
    """RealMLP's body: dense layers (LeCun-normal, as its NTK parametrisation starts) with parametric SELU
    activations and dropout."""
    for _ in range(num_layers):
        x = ParametricActivation("selu")(keras.layers.Dense(units, kernel_initializer="lecun_normal")(x))
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return x


MEMORY_ROWS = 4096  # most training rows a "modernnca" model keeps (drawn at random beyond it)
CANDIDATES = 1024  # stored rows each training step's rows are scored against


def memory_rows(rows: int | None) -> int:
    """Rows a retrieval model's memory holds for a table whose preprocessor saw ``rows`` training rows: room for
    the refit on training and validation rows (1.5 times them, in whole batches of 64), at most ``MEMORY_ROWS``.

    Example:
        >>> memory_rows(640), memory_rows(100_000), memory_rows(None)
        (960, 4096, 4096)
    """
    return MEMORY_ROWS if rows is None else min(MEMORY_ROWS, -(-int(1.5 * rows) // 64) * 64)


def modernnca_body(hp, features: TabularFeatures, dropout: float, seed=None):
    """ModernNCA's encoder (Ye et al., 2025): the table's encodings, a linear map and residual ReLU blocks; its
    codes of the query rows and of stored training rows go to the head as ``NeighbourFeatures``."""
    if features.texts:
        raise GraphError("block_type='modernnca' takes numeric and categorical columns, not free text; the table "
                         f"has {len(features.texts)} text column(s): use block_type='mlp' or drop them.")
    tensors = [t for t, used in ((features.numerical, int(features.numerical.shape[-1]) > 0),
                                 (features.categorical, bool(features.cardinalities))) if used]
    dim = hp.Choice("code_dim", [256, 128, 512], default=256)
    x = keras.layers.Dense(dim)(tabular_to_dense(hp, features))
    for _ in range(hp.Choice("num_blocks", [1, 0, 2], default=1)):
        h = keras.layers.Dense(dim, activation="relu")(x)
        if dropout:
            h = keras.layers.Dropout(dropout)(h)
        x = keras.layers.Add()([x, keras.layers.Dense(dim)(h)])
    return neighbour_features(tensors, keras.Model(tensors, x), memory_rows(features.rows), CANDIDATES, seed=seed)


class StructuredDataBlock(Block):
    """The default block for tables: column encodings followed by an MLP, a residual MLP or a transformer.

    Args:
        numerical_encoding: ``"none"``, ``"periodic"`` or ``"pbld"`` (RealMLP's); searched between the first
            two when ``None`` (the transformer always embeds numeric columns periodically, one token per column).
        block_type: ``"mlp"`` or ``"resnet"`` (searched when ``None``), or one of three that only run when
            asked for (the first two cost several times an MLP per row on CPU):
            ``"transformer"``: an FT-Transformer over column tokens (``num_layers`` transformer layers;
            token size, attention dropout and ``dropout`` of the feed-forward part searched);
            ``"tabm"``: TabM-mini, an ensemble of ``members`` MLPs in one network that share their
            layers but not their first-layer scaling or output layer, each trained on its own loss and
            averaged at prediction (``autodeep.blocks.members``). It must feed a head directly.
            ``"realmlp"`` (opt-in until measured): RealMLP's architecture (Holzmueller et al., 2024): numeric
            columns through a front scaling layer and "PBLD" periodic embeddings (``numerical_encoding="pbld"``),
            then 3 x 256 dense layers with parametric SELU activations (``autodeep.blocks.layers``).
            ``"modernnca"`` (opt-in until measured in the search): a retrieval model in the ModernNCA style
            (``autodeep.blocks.nca``): rows are encoded (a linear map to ``code_dim`` and ``num_blocks`` residual
            ReLU blocks), and the head predicts the targets of training rows kept in the model (up to
            ``MEMORY_ROWS``), weighted by softmax(-distance) between codes. It must feed a head directly, and
            takes no free-text columns.
        members: Ensemble size of ``"tabm"``; searched in {32, 16, 8} when ``None``.
        num_layers, num_units, dropout: Fix parts of the body's space.

    Example:
        >>> import autodeep as ak
        >>> table = ak.StructuredDataInput()
        >>> out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="mlp")(table))
        >>> out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="tabm", members=16)(table))
        >>> out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="modernnca")(table))
    """

    def __init__(self, numerical_encoding: str | None = None, block_type: str | None = None,
                 num_layers: int | None = None, num_units: int | None = None, dropout: float | None = None,
                 categorical_encoding: bool = True, normalize: bool | None = None, seed: int | None = None,
                 members: int | None = None, **kwargs):
        super().__init__(**kwargs)
        for arg, value, allowed in (("numerical_encoding", numerical_encoding, ("none", "periodic", "pbld")),
                                    ("block_type", block_type,
                                     ("mlp", "resnet", "transformer", "tabm", "realmlp", "modernnca"))):
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
        if members is not None and (isinstance(members, bool) or not isinstance(members, int) or members < 2):
            raise ValueError(f"StructuredDataBlock: members must be an integer >= 2 or None; received {members!r}.")
        self.members = members

    def build(self, hp, inputs):
        if not isinstance(inputs, TabularFeatures):
            raise GraphError(f"{self.name} expects a table (ak.StructuredDataInput); received a tensor of shape "
                             f"{tuple(getattr(inputs, 'shape', ()))}.")
        if self.block_type == "transformer":  # only when asked for: never part of the searched choice
            return ft_transformer(hp, inputs, self.num_layers or hp.Choice("num_layers", [3, 1, 2, 4], default=3),
                                  self._dropout(hp))
        if self.block_type == "realmlp":  # only when asked for, like the transformer
            return realmlp_body(tabular_to_dense(hp, inputs, self.numerical_encoding or "pbld"),
                                self.num_layers or hp.Choice("num_layers", [3, 2, 4], default=3),
                                self.num_units or hp.Choice("units", [256, 128, 512], default=256), self._dropout(hp))
        if self.block_type == "modernnca":  # only when asked for, like the transformer
            return modernnca_body(hp, inputs, self._dropout(hp), seed=self.seed)
        x = tabular_to_dense(hp, inputs, self.numerical_encoding)
        if self.block_type == "tabm":  # only when asked for, like the transformer
            return member_body(x, self.members or hp.Choice("members", [32, 16, 8], default=32),
                               self.num_layers or hp.Choice("num_layers", [3, 2, 4], default=3),
                               self.num_units or hp.Choice("units", [256, 128, 512], default=256),
                               self._dropout(hp), seed=self.seed)
        block_type = self.block_type or hp.Choice("block_type", ["mlp", "resnet"], default="mlp")
        num_layers = self.num_layers or hp.Choice("num_layers", [2, 1, 3, 4], default=2)
        units = self.num_units or hp.Choice("units", [256, 64, 128, 512, 1024], default=256)
        dropout = self._dropout(hp)
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

    def _dropout(self, hp) -> float:
        return self.dropout if self.dropout is not None else hp.Choice("dropout", [0.1, 0.0, 0.25, 0.4], default=0.1)

    def get_config(self):
        return {**super().get_config(), "numerical_encoding": self.numerical_encoding,
                "block_type": self.block_type, "num_layers": self.num_layers, "num_units": self.num_units,
                "dropout": self.dropout, "members": self.members}
