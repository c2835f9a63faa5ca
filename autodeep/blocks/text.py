"""Text blocks: ``Embedding``, ``RNNBlock``, ``Transformer``, ``TemporalReduction``, ``BertBlock``.

They read what ``ak.TextInput`` hands over (``TextFeatures``: TF-IDF n-grams and token ids,
both fit once before the search) and search over what they use: how many TF-IDF columns and
which n-gram groups, the vocabulary cap (token ids are clipped), the sequence length (tokens
are cut). Convolutions over sequences are ``ak.ConvBlock`` (it serves 1-D and 2-D by rank).
``TextBlock``, the default block for texts, lives in ``autodeep.blocks.text_block``.
"""

from __future__ import annotations

import keras

from autodeep.blocks.image import ConvBlock
from autodeep.blocks.reduction import SpatialReduction
from autodeep.blocks.text_layers import PositionEmbedding, TokenClip
from autodeep.graph import Block, GraphError
from autodeep.graph.text_input import TextFeatures

PRETRAINED = ("glove", "fasttext", "word2vec")


def check_pretraining(block: str, pretraining) -> None:
    """Only random initialisation exists here: autodeep downloads nothing at run time."""
    if pretraining not in (None, "random", "none"):
        raise ValueError(f"{block}: pretraining={pretraining!r} would need downloaded word vectors, and autodeep "
                         f"downloads nothing at run time; use pretraining=None (random initialisation).")


def sequence_tensor(block: Block, inputs):
    """The one token-id or sequence tensor a sequence block reads."""
    if isinstance(inputs, list):
        raise GraphError(f"{block.name} takes one input; merge several with ak.Merge() first.")
    return inputs


def embed_tokens(hp, features: TextFeatures, max_features=None, embedding_dim=None, dropout=None,
                 mask: bool = True):
    """Token ids -> ``(n, length, dim)`` embeddings; searches the vocabulary cap, length, width, dropout."""
    cap = max_features or hp.Choice("max_features", [20000, 5000, 10000], default=20000)
    length = hp.Choice("sequence_length", [512, 32, 64, 128], default=512)
    dim = embedding_dim or hp.Choice("embedding_dim", [64, 32, 128, 256], default=64)
    rate = dropout if dropout is not None else hp.Choice("dropout", [0.25, 0.0, 0.5], default=0.25)
    cap = max(2, min(int(cap), features.vocabulary_size))
    tokens = TokenClip(cap, min(length, features.sequence_length))(features.tokens)
    x = keras.layers.Embedding(cap, dim, mask_zero=mask)(tokens)
    return keras.layers.Dropout(rate)(x) if rate else x


class Embedding(Block):
    """Learned word embeddings of a text's token ids (AutoKeras' ``Embedding``).

    Args:
        max_features: Vocabulary cap (rarer words share the unknown id); searched when ``None``.
        pretraining: Only ``None``/``"random"``: nothing is downloaded.
        embedding_dim: Width of the embeddings; searched in {32, 64, 128, 256} when ``None``.
        dropout: Dropout on the embeddings; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> text = ak.TextInput()
        >>> seq = ak.Embedding(embedding_dim=32)(text)
        >>> out = ak.ClassificationHead()(ak.TemporalReduction()(ak.ConvBlock()(seq)))
    """

    def __init__(self, max_features: int | None = None, pretraining: str | None = None,
                 embedding_dim: int | None = None, dropout: float | None = None, **kwargs):
        super().__init__(**kwargs)
        check_pretraining("Embedding", pretraining)
        self.max_features = max_features
        self.pretraining = pretraining
        self.embedding_dim = embedding_dim
        self.dropout = dropout

    def build(self, hp, inputs):
        inputs = sequence_tensor(self, inputs)
        if not isinstance(inputs, TextFeatures):
            raise GraphError(f"{self.name} embeds token ids of an ak.TextInput(); received a tensor of shape "
                             f"{tuple(getattr(inputs, 'shape', ()))}.")
        # Padding is masked for recurrent/attention/pooling consumers; convolutions cannot use a mask.
        consumers = [b for node in self.outputs for b in node.out_blocks]
        mask = not consumers or not all(isinstance(b, ConvBlock) for b in consumers)
        return embed_tokens(hp, inputs, self.max_features, self.embedding_dim, self.dropout, mask=mask)

    def get_config(self):
        return {**super().get_config(), "max_features": self.max_features, "pretraining": self.pretraining,
                "embedding_dim": self.embedding_dim, "dropout": self.dropout}


class RNNBlock(Block):
    """Stacked LSTM or GRU layers, optionally bidirectional (AutoKeras' ``RNNBlock``).

    Args:
        return_sequences: Return the whole sequence (for a ``TemporalReduction`` after it).
        bidirectional: Read both directions; searched when ``None``.
        num_layers: Recurrent layers; searched in {1, 2} when ``None``.
        layer_type: ``"lstm"`` or ``"gru"``; searched when ``None``.
        units: Units per direction; searched in {32, 64, 128} when ``None``.

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.RNNBlock(layer_type="gru")(ak.TextInput()))
    """

    def __init__(self, return_sequences: bool = False, bidirectional: bool | None = None,
                 num_layers: int | None = None, layer_type: str | None = None, units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if layer_type not in (None, "lstm", "gru"):
            raise ValueError(f"RNNBlock: layer_type must be 'lstm', 'gru' or None; received {layer_type!r}.")
        self.return_sequences = return_sequences
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.layer_type = layer_type
        self.units = units

    def build(self, hp, inputs):
        x = sequence_tensor(self, inputs)
        if isinstance(x, TextFeatures):
            with hp.name_scope("embedding"):
                x = embed_tokens(hp, x)
        if len(x.shape) != 3:
            raise GraphError(f"{self.name} reads sequences (batch, steps, features); received shape {tuple(x.shape)}.")
        bidirectional = self.bidirectional if self.bidirectional is not None else hp.Boolean("bidirectional", True)
        num_layers = self.num_layers or hp.Choice("num_layers", [1, 2], default=1)
        layer_type = self.layer_type or hp.Choice("layer_type", ["gru", "lstm"], default="gru")
        units = self.units or hp.Choice("units", [64, 32, 128], default=64)
        cell = keras.layers.GRU if layer_type == "gru" else keras.layers.LSTM
        for i in range(num_layers):
            layer = cell(units, return_sequences=self.return_sequences or i < num_layers - 1)
            x = keras.layers.Bidirectional(layer)(x) if bidirectional else layer(x)
        return x

    def get_config(self):
        return {**super().get_config(), "return_sequences": self.return_sequences, "bidirectional": self.bidirectional,
                "num_layers": self.num_layers, "layer_type": self.layer_type, "units": self.units}


class Transformer(Block):
    """Token + position embeddings and Transformer encoder layers; returns the sequence (AutoKeras' ``Transformer``).

    Args:
        max_features: Vocabulary cap; searched when ``None``.
        pretraining: Only ``None``/``"random"``: nothing is downloaded.
        embedding_dim: Model width; searched in {32, 64, 128} when ``None``.
        num_heads: Attention heads; searched in {2, 4} when ``None``.
        dense_dim: Width of the feed-forward part; searched when ``None``.
        dropout: Dropout rate; searched when ``None``.
        num_layers: Encoder layers; searched in {1, 2} when ``None``.

    Example:
        >>> import autodeep as ak
        >>> seq = ak.Transformer(embedding_dim=32, num_heads=2)(ak.TextInput())
        >>> out = ak.ClassificationHead()(ak.TemporalReduction("global_avg")(seq))
    """

    def __init__(self, max_features: int | None = None, pretraining: str | None = None,
                 embedding_dim: int | None = None, num_heads: int | None = None, dense_dim: int | None = None,
                 dropout: float | None = None, num_layers: int | None = None, **kwargs):
        super().__init__(**kwargs)
        check_pretraining("Transformer", pretraining)
        self.max_features = max_features
        self.pretraining = pretraining
        self.embedding_dim = embedding_dim
        self.num_heads = num_heads
        self.dense_dim = dense_dim
        self.dropout = dropout
        self.num_layers = num_layers

    def build(self, hp, inputs):
        x = sequence_tensor(self, inputs)
        rate = self.dropout if self.dropout is not None else hp.Choice("dropout", [0.1, 0.0, 0.25], default=0.1)
        if isinstance(x, TextFeatures):
            dim = self.embedding_dim or hp.Choice("embedding_dim", [64, 32, 128], default=64)
            length = min(hp.Choice("sequence_length", [128, 32, 64, 256], default=128), x.sequence_length)
            x = embed_tokens(hp, x, self.max_features, dim, 0.0)
            x = PositionEmbedding(length)(x)
        if len(x.shape) != 3:
            raise GraphError(f"{self.name} reads sequences (batch, steps, features); received shape {tuple(x.shape)}.")
        dim = int(x.shape[-1])
        heads = self.num_heads or hp.Choice("num_heads", [2, 4], default=2)
        dense_dim = self.dense_dim or hp.Choice("dense_dim", [128, 64, 256], default=128)
        for _ in range(self.num_layers or hp.Choice("num_layers", [1, 2], default=1)):
            attended = keras.layers.MultiHeadAttention(heads, max(dim // heads, 8), dropout=rate)(x, x)
            x = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, attended]))
            h = keras.layers.Dense(dense_dim, activation="gelu")(x)
            h = keras.layers.Dense(dim)(keras.layers.Dropout(rate)(h) if rate else h)
            x = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, h]))
        return x

    def get_config(self):
        return {**super().get_config(), "max_features": self.max_features, "pretraining": self.pretraining,
                "embedding_dim": self.embedding_dim, "num_heads": self.num_heads, "dense_dim": self.dense_dim,
                "dropout": self.dropout, "num_layers": self.num_layers}


class TemporalReduction(SpatialReduction):
    """Reduce a sequence ``(batch, steps, features)`` to one vector (AutoKeras' ``TemporalReduction``).

    Args:
        reduction_type: ``"global_avg"``, ``"global_max"`` or ``"flatten"``; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> vec = ak.TemporalReduction("global_max")(ak.ConvBlock()(ak.Embedding()(ak.TextInput())))
    """


class BertBlock(Block):
    """A pretrained Transformer encoder read from a local folder; nothing is ever downloaded.

    Not implemented yet: building it raises a clear error, with or without ``weights_path``.
    Use ``ak.TextBlock`` (TF-IDF MLP, sequence models, a Transformer trained from scratch).

    Example:
        >>> import autodeep as ak
        >>> block = ak.BertBlock(weights_path="/models/bert-base")  # doctest: +SKIP
    """

    def __init__(self, max_sequence_length: int | None = None, weights_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_sequence_length = max_sequence_length
        self.weights_path = weights_path

    def build(self, hp, inputs):
        if self.weights_path is None:
            raise GraphError(f"{self.name}: BertBlock needs weights_path=<a local folder with a pretrained encoder>; "
                             f"autodeep downloads nothing at run time.")
        raise GraphError(f"{self.name}: loading a local pretrained encoder ({self.weights_path!r}) is not "
                         f"implemented yet; use ak.TextBlock() instead.")

    def get_config(self):
        return {**super().get_config(), "max_sequence_length": self.max_sequence_length,
                "weights_path": self.weights_path}
