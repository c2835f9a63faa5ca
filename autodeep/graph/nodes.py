"""Nodes of the search graph: the inputs a user wires blocks to.

A node stands for data flowing between blocks. ``Input`` nodes are where raw
data enters; their ``kind`` tells the task layer which preprocessor to fit.
At build time each input node turns its Keras inputs into what blocks receive.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from autodeep.data.category_stats import ENCODINGS, HIGH_CARDINALITY_LEVELS, check_high_cardinality

_counters: dict[str, itertools.count] = {}


def unique_name(prefix: str) -> str:
    """``prefix_1``, ``prefix_2`` ... per prefix, for readable default names."""
    counter = _counters.setdefault(prefix, itertools.count(1))
    return f"{prefix}_{next(counter)}"


class Node:
    """A value in the graph, produced by an input or by a block.

    Example:
        >>> import autodeep as ak
        >>> node = ak.Input(name="features")
        >>> node.name
        'features'
    """

    def __init__(self, name: str | None = None):
        self.name = name or unique_name("node")
        self.in_blocks: list = []   # the block that produced this node (at most one)
        self.out_blocks: list = []  # blocks that consume it

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


@dataclasses.dataclass
class TabularFeatures:
    """What a structured-data input hands to blocks: numeric and categorical tensors, and its text columns.

    ``cardinalities[i]`` is the number of codes of categorical column ``i``; ``texts`` holds one
    ``TextFeatures`` (TF-IDF only, no token ids) per free-text column.
    """

    numerical: Any
    categorical: Any
    cardinalities: list[int]
    texts: list = dataclasses.field(default_factory=list)
    rows: int | None = None  # training rows the preprocessor was fit on (None: not known)


class Input(Node):
    """Plain numeric arrays: ``(n, ...)`` floats, used as they are.

    Example:
        >>> import numpy as np, autodeep as ak
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), max_trials=1)
    """

    kind = "numeric"

    def __init__(self, name: str | None = None, shape: tuple | None = None):
        super().__init__(name or unique_name("input"))
        self.shape = shape

    def to_block_input(self, tensors: dict[str, Any], meta: dict) -> Any:
        """Turn this input's Keras tensors (one per preprocessor output) into a block's input."""
        if len(tensors) == 1:
            return next(iter(tensors.values()))
        return dict(tensors)


class StructuredDataInput(Input):
    """A table: numerical and categorical columns, from pandas, numpy, CSV or Parquet.

    Args:
        column_names: Names for the columns of a numpy array.
        column_types: ``{"column": "numerical" | "categorical" | "datetime" | "text"}`` overriding inference.
        high_cardinality_levels: Columns with at least this many distinct training levels are ID codes
            (categorical columns; numerical ones as ``repeated_codes`` and ``integer_codes`` say); ``None``:
            none is.
        high_cardinality_encodings: What an ID code becomes, any of ``"embedding"`` (an embedding of its
            levels with at least 10 training rows, the rarer ones pooled), ``"count"`` (its level's training
            count) and ``"target"`` (its level's out-of-fold mean target); all three by default
            (``autodeep.data.category_stats``).
        repeated_codes: Whether numerical columns with 64 or more distinct values, 32 of them of 10 or more
            training rows each, are ID codes too (they stay numbers as well) when their values predict the
            target clearly better, out of fold, than 32 bins of them do (by two standard errors): a day index
            that a day's rows share, an ID stored as a number, an amount whose exact values mean something. On
            by default; a measurement whose repeated values say no more than their neighbours is not one.
        integer_codes: Whether integer-valued numerical columns with ``high_cardinality_levels`` distinct values
            are ID codes too, however rare their values. Off by default: amounts and counts are integers with
            many values too; an ID column of integers can also be named in ``column_types`` as categorical.

    Example:
        >>> import autodeep as ak
        >>> table = ak.StructuredDataInput(column_types={"zip": "categorical", "review": "text"})
        >>> table.kind
        'structured'
    """

    kind = "structured"

    def __init__(self, column_names: list[str] | None = None, column_types: dict | None = None,
                 name: str | None = None, high_cardinality_levels: int | None = HIGH_CARDINALITY_LEVELS,
                 high_cardinality_encodings=ENCODINGS, integer_codes: bool = False, repeated_codes: bool = True):
        super().__init__(name or unique_name("structured_data_input"))
        self.column_names = column_names
        self.column_types = column_types
        self.high_cardinality_encodings = check_high_cardinality(high_cardinality_levels, high_cardinality_encodings)
        self.high_cardinality_levels = high_cardinality_levels
        self.integer_codes = bool(integer_codes)
        self.repeated_codes = bool(repeated_codes)

    def to_block_input(self, tensors: dict[str, Any], meta: dict) -> TabularFeatures:
        from autodeep.graph.text_input import TextFeatures

        texts = [TextFeatures(tensors[f"text_{i}"], None, dict(t["groups"]), 0, 0)
                 for i, t in enumerate(meta.get("texts", []))]
        return TabularFeatures(tensors["numerical"], tensors["categorical"], list(meta["cardinalities"]), texts,
                               meta.get("rows"))
