"""``TextInput``: raw strings enter the graph here, as TF-IDF n-grams and token id sequences."""

from __future__ import annotations

import dataclasses
from typing import Any

from autodeep.graph.nodes import Input, unique_name


@dataclasses.dataclass
class TextFeatures:
    """What a text input hands to blocks: both representations its vectoriser made, and their layout.

    ``tfidf`` is ``(n, F)`` with column ranges ``groups`` (``word1``, ``word2``, ``char``), each
    ranked by document frequency; ``tokens`` is ``(n, sequence_length)`` int ids below
    ``vocabulary_size`` (0 padding, 1 unknown). ``terms``/``token_vocabulary`` name the columns
    and ids, so blocks that read several text inputs can align them.
    """

    tfidf: Any
    tokens: Any
    groups: dict[str, list[int]]
    vocabulary_size: int
    sequence_length: int
    terms: list[str] = dataclasses.field(default_factory=list, repr=False)
    token_vocabulary: list[str] = dataclasses.field(default_factory=list, repr=False)


class TextInput(Input):
    """Raw texts: a list, numpy array or pandas Series of strings (AutoKeras' ``TextInput``).

    The vectoriser (TF-IDF n-grams and token sequences) is fit on the training texts and
    saved with the model, so the exported model takes raw strings.

    Example:
        >>> import autodeep as ak
        >>> text = ak.TextInput()
        >>> text.kind
        'text'
    """

    kind = "text"
    patience = 4  # early stopping: TF-IDF MLPs peak within a few epochs; waiting 10 more wastes short budgets

    def __init__(self, name: str | None = None):
        super().__init__(name or unique_name("text_input"))

    def to_block_input(self, tensors: dict[str, Any], meta: dict) -> TextFeatures:
        return TextFeatures(tensors["tfidf"], tensors["tokens"], dict(meta["groups"]), int(meta["vocabulary_size"]),
                            int(meta["sequence_length"]), list(meta.get("terms", [])), list(meta.get("tokens", [])))
