"""``TextBlock``: the default block for texts; searches n-gram MLPs, sequence models and Transformers.

Called on several text inputs (sentence pairs), it encodes each with the same weights
(the other inputs' vocabularies are aligned to the first's) and adds the interactions
``|u - v|``, ``u * v`` and the TF-IDF cosine similarity of each n-gram group.
"""

from __future__ import annotations

import math

import keras

from autodeep.blocks.image import ConvBlock
from autodeep.blocks.text import RNNBlock, TemporalReduction, Transformer, check_pretraining, embed_tokens
from autodeep.blocks.text_layers import AbsoluteDifference, ColumnGather, ColumnSlices, GroupCosine, TokenRemap
from autodeep.graph import Block, GraphError
from autodeep.graph.text_input import TextFeatures

BLOCK_TYPES = ("ngram", "sequence", "transformer")
NGRAMS = {"words+chars": ("word1", "word2", "char"), "words": ("word1", "word2"),
          "unigrams+chars": ("word1", "char"), "unigrams": ("word1",), "chars": ("char",)}


def _dense(hp, x, units=None, dropout=None, layers=None):
    num_layers = layers or hp.Choice("num_layers", [1, 2], default=1)
    units = units or hp.Choice("units", [256, 64, 128, 512], default=256)
    rate = dropout if dropout is not None else hp.Choice("dropout", [0.5, 0.0, 0.25], default=0.5)
    for _ in range(num_layers):
        x = keras.layers.Dense(units, activation="relu")(x)
        if rate:
            x = keras.layers.Dropout(rate)(x)
    return x


class TextBlock(Block):
    """Encode texts with a searched architecture (AutoKeras' ``TextBlock``).

    Args:
        block_type: ``"ngram"`` (an MLP over TF-IDF word and character n-grams), ``"sequence"``
            (learned embeddings + convolutions, recurrent layers or pooling; AutoKeras' ``"vanilla"``
            is accepted for it) or ``"transformer"``; searched when ``None``.
        max_tokens: Caps the TF-IDF columns and the token vocabulary; searched when ``None``.
        pretraining: Only ``None``/``"random"``: nothing is downloaded.

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.TextBlock(block_type="ngram")(ak.TextInput()))
    """

    encodes_together = True  # AutoModel gives several text inputs to one TextBlock (shared encoder)

    def __init__(self, block_type: str | None = None, max_tokens: int | None = None,
                 pretraining: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if block_type == "vanilla":
            block_type = "sequence"
        if block_type == "bert":
            raise ValueError("TextBlock: block_type='bert' needs pretrained weights, which autodeep does not "
                             "download; use ak.BertBlock(weights_path=...) or one of " f"{list(BLOCK_TYPES)}.")
        if block_type not in (None, *BLOCK_TYPES):
            raise ValueError(f"TextBlock: block_type must be one of {list(BLOCK_TYPES)} or None; "
                             f"received {block_type!r}.")
        check_pretraining("TextBlock", pretraining)
        self.block_type = block_type
        self.max_tokens = max_tokens
        self.pretraining = pretraining

    # -- one text ------------------------------------------------------------
    def _ngram(self, hp, f: TextFeatures):
        ngrams = hp.Choice("ngrams", list(NGRAMS), default="words+chars")
        groups = [g for g in NGRAMS[ngrams] if f.groups[g][1] > f.groups[g][0]] or \
            [g for g in f.groups if f.groups[g][1] > f.groups[g][0]]
        if not groups:
            raise GraphError(f"{self.name}: the text vocabulary is empty.")
        total = sum(f.groups[g][1] - f.groups[g][0] for g in groups)
        cap = self.max_tokens or hp.Choice("max_features", [20000, 2000, 5000, 10000], default=20000)
        keep = min(1.0, cap / total)
        ranges = [[f.groups[g][0], f.groups[g][0] + max(1, int((f.groups[g][1] - f.groups[g][0]) * keep))]
                  for g in groups]  # each group is ranked by document frequency: keep its head
        x = ColumnSlices(ranges, scale=1.0 / math.sqrt(len(ranges)))(f.tfidf)
        return _dense(hp, x)

    def _sequence(self, hp, f: TextFeatures):
        model = hp.Choice("sequence_model", ["cnn", "pool", "rnn"], default="cnn")
        with hp.name_scope("embedding"):
            x = embed_tokens(hp, f, self.max_tokens, mask=model != "cnn")
        if model == "cnn":
            with hp.name_scope("conv_block"):
                x = ConvBlock(name="conv_block").build(hp, x)
            with hp.name_scope("temporal_reduction"):
                x = TemporalReduction(name="temporal_reduction").build(hp, x)
        elif model == "rnn":
            with hp.name_scope("rnn_block"):
                x = RNNBlock(name="rnn_block").build(hp, x)
        else:
            x = keras.layers.GlobalAveragePooling1D()(x)
        return _dense(hp, x)

    def _transformer(self, hp, f: TextFeatures):
        with hp.name_scope("transformer"):
            x = Transformer(self.max_tokens, name="transformer").build(hp, f)
        x = keras.layers.GlobalAveragePooling1D()(x)
        return _dense(hp, x)

    def _encode(self, hp, f: TextFeatures):
        block_type = self.block_type or hp.Choice("block_type", list(BLOCK_TYPES), default="ngram")
        return {"ngram": self._ngram, "sequence": self._sequence, "transformer": self._transformer}[block_type](hp, f)

    # -- several texts -------------------------------------------------------
    def _aligned(self, first: TextFeatures, other: TextFeatures) -> TextFeatures:
        """``other``'s TF-IDF columns and token ids expressed in ``first``'s vocabularies."""
        where = {t: i for i, t in enumerate(other.terms)}
        width = int(other.tfidf.shape[-1])
        tfidf = ColumnGather([where.get(t, width) for t in first.terms])(other.tfidf)
        ids = {t: i for i, t in enumerate(first.token_vocabulary)}
        mapping = [0, 1] + [ids.get(t, 1) for t in other.token_vocabulary[2:]]
        tokens = TokenRemap(mapping, first.sequence_length)(other.tokens)
        return TextFeatures(tfidf, tokens, first.groups, first.vocabulary_size, first.sequence_length,
                            first.terms, first.token_vocabulary)

    def _encode_together(self, hp, features: list[TextFeatures]):
        first = features[0]
        if not first.terms:
            raise GraphError(f"{self.name}: text inputs carry no vocabulary to align them by.")
        aligned = [first] + [self._aligned(first, f) for f in features[1:]]
        tfidf_in = keras.Input(shape=tuple(first.tfidf.shape[1:]), dtype=first.tfidf.dtype)
        tokens_in = keras.Input(shape=(first.sequence_length,), dtype="int32")
        shared = TextFeatures(tfidf_in, tokens_in, first.groups, first.vocabulary_size, first.sequence_length)
        encoder = keras.Model([tfidf_in, tokens_in], self._encode(hp, shared), name=f"{self.name}_encoder")
        codes = [encoder([f.tfidf, f.tokens]) for f in aligned]
        ranges = [r for r in first.groups.values() if r[1] > r[0]]
        parts = list(codes)
        for f, code in zip(aligned[1:], codes[1:]):
            parts.append(AbsoluteDifference()([codes[0], code]))
            parts.append(keras.layers.Multiply()([codes[0], code]))
            parts.append(GroupCosine(ranges)([first.tfidf, f.tfidf]))
        x = keras.layers.Concatenate()(parts)
        units = hp.Choice("pair_units", [128, 64, 256], default=128)
        return keras.layers.Dense(units, activation="relu")(x)

    def build(self, hp, inputs):
        features = inputs if isinstance(inputs, list) else [inputs]
        for f in features:
            if not isinstance(f, TextFeatures):
                raise GraphError(f"{self.name} reads texts (ak.TextInput()); received a tensor of shape "
                                 f"{tuple(getattr(f, 'shape', ()))}.")
        if len(features) == 1:
            return self._encode(hp, features[0])
        return self._encode_together(hp, features)

    def get_config(self):
        return {**super().get_config(), "block_type": self.block_type, "max_tokens": self.max_tokens,
                "pretraining": self.pretraining}
