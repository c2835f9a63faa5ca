"""Where each kind of input is declared: its input node, preprocessor, default block and first configurations.

A modality is one row of ``MODALITIES``. Adding a kind of data means adding a row here (and
its node, preprocessor and block in their layers): the task layer looks everything up by the
input node's ``kind`` and holds no per-kind branches, and nothing registers itself on import.

* ``input``: the graph node class users wire (its ``kind`` is the row's key);
* ``preprocessor``: the fitted transform from raw input to model arrays, saved as JSON in the
  artifact (``preprocessor_from_config`` builds only the classes named here, so loading a
  model never runs code named by the file);
* ``options``: the preprocessor's constructor arguments, read from the input node;
* ``block``: what an input gets when the user wires only inputs and heads;
* ``starts``: known-good hyperparameter values tried first, from the input's ``specs()``
  (names as the auto-wired graph scopes them: ``<block>_1/...``).

Example:
    >>> import autodeep as ak
    >>> m = modality_of(ak.StructuredDataInput())
    >>> m.preprocessor.__name__, m.block.__name__, len(m.starts({})) > 1
    ('TablePreprocessor', 'StructuredDataBlock', True)
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Callable

from autodeep.blocks import DenseBlock, ImageBlock, StructuredDataBlock, TextBlock, TimeseriesBlock
from autodeep.data.array_preprocessor import ArrayPreprocessor
from autodeep.data.image_preprocessor import ImagePreprocessor
from autodeep.data.table_preprocessor import TablePreprocessor
from autodeep.data.text import TextVectorizer
from autodeep.data.timeseries_preprocessor import TimeseriesPreprocessor
from autodeep.graph import ImageInput, Input, StructuredDataInput, TextInput, TimeseriesInput


@dataclasses.dataclass(frozen=True)
class Modality:
    """One kind of input: how it is preprocessed, encoded by default and where its search starts.

    Example:
        >>> MODALITIES["text"].block.__name__
        'TextBlock'
    """

    kind: str
    input: type
    preprocessor: type
    options: Callable[[Input], dict]
    block: type
    starts: Callable[[dict], list[dict]]

    def preprocessor_for(self, node: Input):
        """The unfitted preprocessor ``node`` needs."""
        return self.preprocessor(**self.options(node))


# -- first configurations, per modality ---------------------------------------------------------------------

def table_starts(spec: dict | None = None) -> list[dict]:
    """The configurations a table search tries first, in order, the same for every table ``spec``: the
    portfolio shipped in ``autodeep/portfolios/tables.json`` (``benchmarks/portfolio.py`` learns it).

    Example:
        >>> starts = table_starts()
        >>> len(starts) >= 1 and all(isinstance(config, dict) for config in starts)
        True
    """
    text = resources.files("autodeep.portfolios").joinpath("tables.json").read_text(encoding="utf-8")
    return json.loads(text)["configurations"]


def image_starts(channels: int) -> list[dict]:
    """The known-good configurations for images with ``channels`` channels, in the order they are tried.

    Small CNNs first (fast on a CPU), then keras.applications nets. The small CNN is 3x3 conv stages of one
    conv + batchnorm (32-64-128... filters, as many stages as the size allows), max-pool, light dropout, then
    global average pooling (flatten for small maps): the best model a few CPU minutes buy.

    Colour images (photos) start with the small CNN trained on shifted and mirrored images: on 8,000 CIFAR-10
    images it reached 0.570 test accuracy after 12 epochs, against 0.547 without augmentation and 0.536 with
    shifts alone (torch backend, 12 fixed epochs, seed 0). Grey images are often
    digits or documents, where a mirror image is another symbol: they start without augmentation and are
    only shifted later.

    Example:
        >>> image_starts(3)[0]["image_block_1/image_augmentation/horizontal_flip"]
        True
        >>> image_starts(1)[0].get("image_block_1/augment", False), image_starts(1)[1]["image_block_1/augment"]
        (False, True)
    """
    b = "image_block_1"
    conv, aug = f"{b}/conv_block", f"{b}/image_augmentation"
    small = {f"{conv}/num_layers": 1, f"{conv}/dropout": 0.1}
    shift = {f"{b}/augment": True, f"{aug}/translation_factor": 0.1}  # ak.RandomShift: ~10 % more time per epoch
    configs = [
        small,
        {**small, **shift, f"{aug}/horizontal_flip": True},
        {f"{conv}/num_layers": 1, f"{conv}/filters": 64, f"{conv}/dropout": 0.25, "classification_head/dropout": 0.25},
        {**shift, f"{aug}/horizontal_flip": True},  # two convs per stage, dropout .25
        {f"{b}/block_type": "resnet", f"{b}/res_net_block/version": "resnet50_v2"},
        {f"{b}/block_type": "efficient", f"{b}/efficient_net_block/version": "b0"},
        {f"{b}/block_type": "xception"},
    ]
    if channels == 3:
        configs[0], configs[1] = configs[1], configs[0]
        return [dict(c) for c in configs]
    return [{k: (False if k == f"{aug}/horizontal_flip" else v) for k, v in c.items()} for c in configs]


def _text_starts(spec: dict) -> list[dict]:
    """Texts: the TF-IDF n-gram MLP (strong and fast on a CPU), its variants, then sequence models and a
    small Transformer."""
    b = "text_block_1"
    conv = f"{b}/conv_block"
    return [
        {},  # word 1-2-grams + char 2-4-grams TF-IDF (20k columns) -> Dense(256) -> dropout 0.5
        {f"{b}/ngrams": "words", f"{b}/units": 128, "learning_rate": 3e-3},
        {f"{b}/ngrams": "unigrams+chars", f"{b}/dropout": 0.25, f"{b}/max_features": 10000},
        {f"{b}/num_layers": 2, f"{b}/dropout": 0.25, "learning_rate": 3e-4},
        {f"{b}/block_type": "sequence", f"{b}/sequence_model": "cnn", f"{conv}/num_blocks": 1,
         f"{conv}/num_layers": 1, f"{conv}/kernel_size": 5, f"{conv}/filters": 64, f"{conv}/use_batchnorm": False,
         f"{b}/temporal_reduction/reduction_type": "global_max", f"{b}/embedding/embedding_dim": 128},
        {f"{b}/block_type": "sequence", f"{b}/sequence_model": "pool", f"{b}/embedding/embedding_dim": 128,
         f"{b}/dropout": 0.25},
        {f"{b}/block_type": "transformer"},
    ]


def _timeseries_starts(spec: dict) -> list[dict]:
    """Time series: an MLP with a linear path, the linear autoregression, a GRU, a small 1-D CNN, a narrow
    MLP, an LSTM."""
    b = "timeseries_block_1"
    rnn, conv, dense = f"{b}/rnn_block", f"{b}/conv_block", f"{b}/dense_block"
    return [
        {},  # full window -> Dense(256) x2, dropout 0.1, concatenated with the flattened window
        {f"{b}/block_type": "linear", "learning_rate": 3e-3},
        {f"{b}/block_type": "rnn", f"{rnn}/layer_type": "gru", f"{rnn}/units": 64, f"{rnn}/bidirectional": False,
         f"{rnn}/num_layers": 1},
        {f"{b}/block_type": "conv", f"{conv}/num_blocks": 1, f"{conv}/num_layers": 1, f"{conv}/filters": 32,
         f"{conv}/kernel_size": 3, f"{conv}/use_batchnorm": False, f"{conv}/dropout": 0.0},
        {f"{dense}/num_layers": 1, f"{dense}/units_0": 64, f"{dense}/dropout": 0.0, "learning_rate": 3e-3},
        {f"{b}/block_type": "rnn", f"{rnn}/layer_type": "lstm", f"{rnn}/units": 32, f"{rnn}/bidirectional": False,
         f"{rnn}/num_layers": 1},
    ]


# -- the declaration ------------------------------------------------------------------------------------------

MODALITIES: dict[str, Modality] = {m.kind: m for m in [
    Modality("numeric", Input, ArrayPreprocessor, lambda node: {}, DenseBlock, lambda spec: [{}]),
    Modality("structured", StructuredDataInput, TablePreprocessor,
             lambda node: {"column_names": node.column_names, "column_types": node.column_types,
                           "high_cardinality_levels": node.high_cardinality_levels,
                           "high_cardinality_encodings": node.high_cardinality_encodings,
                           "integer_codes": node.integer_codes, "repeated_codes": node.repeated_codes},
             StructuredDataBlock, table_starts),
    Modality("image", ImageInput, ImagePreprocessor,
             lambda node: {"image_size": node.image_size, "on_error": node.on_error}, ImageBlock,
             lambda spec: image_starts(int(spec["features"]["images"][0][-1]))),
    Modality("text", TextInput, TextVectorizer, lambda node: {}, TextBlock, _text_starts),
    Modality("timeseries", TimeseriesInput, TimeseriesPreprocessor,
             lambda node: {"lookback": node.lookback, "column_names": node.column_names,
                           "column_types": node.column_types}, TimeseriesBlock, _timeseries_starts),
]}


def modality_of(node) -> Modality:
    """The declared modality of an input node (by its ``kind``).

    Example:
        >>> import autodeep as ak
        >>> modality_of(ak.TextInput()).kind
        'text'
    """
    found = MODALITIES.get(getattr(node, "kind", None))
    if found is None:
        raise ValueError(f"No modality is declared for {node!r} (kind {getattr(node, 'kind', None)!r}); "
                         f"declared kinds: {sorted(MODALITIES)} (autodeep/modalities.py).")
    return found


def preprocessor_for(node):
    """The unfitted preprocessor an input node needs.

    Example:
        >>> import autodeep as ak
        >>> type(preprocessor_for(ak.Input())).__name__
        'ArrayPreprocessor'
    """
    return modality_of(node).preprocessor_for(node)


def initial_configs(node, specs: dict) -> list[dict]:
    """Known-good configurations for a task whose only input is ``node`` (``specs``: every input's specs).

    Example:
        >>> import autodeep as ak
        >>> initial_configs(ak.Input(name="x"), {"x": {}})
        [{}]
    """
    return modality_of(node).starts(specs[node.name])


def preprocessor_from_config(entry: dict):
    """Rebuild a fitted preprocessor saved as ``{"class": name, "config": ...}``; only declared classes load.

    Example:
        >>> import numpy as np
        >>> p = ArrayPreprocessor().fit(np.zeros((2, 3)))
        >>> preprocessor_from_config({"class": "ArrayPreprocessor", "config": p.get_config()}).shape_
        (3,)
    """
    classes = {m.preprocessor.__name__: m.preprocessor for m in MODALITIES.values()}
    cls = classes.get(entry.get("class"))
    if cls is None:
        raise ValueError(f"The artifact names an unknown preprocessor {entry.get('class')!r}; "
                         f"known: {sorted(classes)}. Was it saved by a newer autodeep?")
    return cls.from_config(entry["config"])
