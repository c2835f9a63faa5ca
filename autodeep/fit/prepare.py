"""Prepare the data for the search: check the row counts, fit each head's target codec, split off the
validation rows, fit each input's preprocessor on the training rows, and turn everything into the named
arrays the Keras models take."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from autodeep.data import TargetCodec, check_lengths, train_validation_split
from autodeep.data.checks import check_fraction
from autodeep.data.rows import concat_rows, take_rows
from autodeep.fit.weights import check_class_weight, check_sample_weight, first_class_labels, row_weights
from autodeep.graph import Graph
from autodeep.modalities import preprocessor_for


@dataclass
class PreparedData:
    """The fitted target codecs and preprocessors, each input's preprocessed format (``specs``), and the
    training and validation arrays (``{"<input>__<key>": array}``) and targets (one array, or a dict by head
    name for several heads)."""

    codecs: list
    preprocessors: list
    specs: dict
    arrays_tr: dict
    targets_tr: object
    arrays_va: dict
    targets_va: object
    raw_train: list = field(default_factory=list, repr=False)       # the raw inputs of the training rows
    raw_validation: list = field(default_factory=list, repr=False)  # and of the validation rows, for the report
    weights_tr: np.ndarray | None = None  # each row's weight (autodeep.fit.weights), None: unweighted
    weights_va: np.ndarray | None = None

    @property
    def n_tr(self) -> int:
        return len(next(iter(self.arrays_tr.values())))

    @property
    def n_va(self) -> int:
        return len(next(iter(self.arrays_va.values())))

    def all_rows(self) -> tuple:
        """``(arrays, targets)`` of the training rows followed by the validation rows."""
        return concat_rows(self.arrays_tr, self.arrays_va), concat_rows(self.targets_tr, self.targets_va)

    def all_weights(self) -> np.ndarray | None:
        """The weights of ``all_rows()``' rows (None: unweighted)."""
        return None if self.weights_tr is None else np.concatenate([self.weights_tr, self.weights_va])


def prepare_data(graph: Graph, xs: list, ys: list, validation: tuple | None, validation_split: float,
                 seed: int, sample_weight=None, validation_weight=None, class_weight=None) -> PreparedData:
    """Prepare ``xs`` (one raw input per graph input) and ``ys`` (one target per head) for the search.

    ``validation`` is ``(xs, ys)`` of separate validation rows, or ``None`` to hold out ``validation_split``
    of the rows (stratified by the first single-label classification head). The heads are configured from
    the fitted codecs (number of classes, output size). ``sample_weight`` (of ``xs``' rows), ``validation_weight``
    (of ``validation``'s) and ``class_weight`` give each row its weight (``autodeep.fit.weights``).

    Example:
        >>> import numpy as np, autodeep as ak
        >>> node = ak.Input(); graph = ak.graph.Graph([node], [ak.RegressionHead()(node)])
        >>> x = np.random.rand(10, 3).astype("float32")
        >>> data = prepare_data(graph, [x], [x.sum(axis=1)], None, 0.2, seed=0)
        >>> data.n_tr, data.n_va
        (8, 2)
    """
    n = _check_rows(xs, ys)
    sample_weight = check_sample_weight(sample_weight, n)
    codecs = [TargetCodec(head.task).fit(t, argument="y") for head, t in zip(graph.heads, ys)]
    for head, codec in zip(graph.heads, codecs):
        head.configure(codec.meta())
    if validation is not None:
        (train_x, train_y), (val_x, val_y) = (xs, ys), validation
        sw_tr, sw_va = sample_weight, validation_weight
    else:
        check_fraction("validation_split", validation_split)
        stratify = next((codec.encode(t) for codec, t in zip(codecs, ys)
                         if codec.task == "classification" and not codec.meta()["multi_label"]), None)
        train_idx, val_idx = train_validation_split(n, y=stratify, validation_split=validation_split, seed=seed)
        ys = [t if isinstance(t, (pd.Series, pd.DataFrame, np.ndarray)) else np.asarray(t) for t in ys]
        train_x, val_x = [take_rows(r, train_idx) for r in xs], [take_rows(r, val_idx) for r in xs]
        train_y, val_y = [take_rows(t, train_idx) for t in ys], [take_rows(t, val_idx) for t in ys]
        sw_tr, sw_va = (None, None) if sample_weight is None else (sample_weight[train_idx], sample_weight[val_idx])
    preprocessors, arrays_tr = fit_preprocessors(graph, train_x, *_supervision(codecs[0], train_y[0]))
    data = PreparedData(codecs, preprocessors, {node.name: p.specs() for node, p in zip(graph.inputs, preprocessors)},
                        arrays_tr, encode_targets(graph, codecs, train_y),
                        transform(graph, preprocessors, val_x), encode_targets(graph, codecs, val_y),
                        raw_train=train_x, raw_validation=val_x)
    labels = first_class_labels(graph.heads, codecs, train_y, val_y) if class_weight is not None else None
    data.weights_tr, data.weights_va = row_weights(
        check_class_weight(class_weight), labels, sw_tr,
        check_sample_weight(sw_va, data.n_va, "validation_data[2]") if validation is not None else sw_va,
        data.n_tr, data.n_va)
    return data


def fit_preprocessors(graph: Graph, raws: list, y=None, target_type: str | None = None) -> tuple[list, dict]:
    """Each input's preprocessor fit on its training rows ``raws``, and the training rows' named arrays.

    A preprocessor that ``uses_targets`` is fit with the first head's encoded targets ``y`` (of
    ``target_type``, see ``_supervision``) and gives the training rows' arrays itself (their target
    statistics out of fold); the others are fit on the rows alone and transform them."""
    preprocessors, arrays = [], {}
    for node, raw in zip(graph.inputs, raws):
        pre = preprocessor_for(node)
        if getattr(pre, "uses_targets", False):
            out = pre.fit_transform(raw, y, target_type)
        else:
            out = pre.fit(raw).transform(raw)
        preprocessors.append(pre)
        arrays.update({f"{node.name}__{key}": value for key, value in out.items()})
    return preprocessors, arrays


def _supervision(codec, y) -> tuple:
    """``(encoded targets, target type)`` of one head's training targets for preprocessors that describe
    categories by their targets: "binary", "multiclass" or "continuous"; ``(None, None)`` for multi-label and
    multi-output targets."""
    meta = codec.meta()
    encoded = np.asarray(codec.encode(y))
    if codec.task == "classification":
        if meta["multi_label"]:
            return None, None
        return encoded, "binary" if meta["num_classes"] == 2 else "multiclass"
    encoded = encoded.reshape(len(encoded), -1)
    return (encoded[:, 0], "continuous") if encoded.shape[1] == 1 else (None, None)


def transform(graph: Graph, preprocessors: list, raws: list) -> dict:
    """The model's named input arrays, ``{"<input>__<key>": array}``, of one raw value per input."""
    arrays = {}
    for node, pre, raw in zip(graph.inputs, preprocessors, raws):
        for key, value in pre.transform(raw).items():
            arrays[f"{node.name}__{key}"] = value
    return arrays


def encode_targets(graph: Graph, codecs: list, ys: list):
    """Each head's encoded targets in the format its loss takes: one array, or a dict by head name."""
    prepared = {h.name: h.prepare_targets(c.encode(t)) for h, c, t in zip(graph.heads, codecs, ys)}
    return prepared if len(prepared) > 1 else next(iter(prepared.values()))


def _check_rows(xs: list, ys: list) -> int:
    """The number of rows; every input and target must have it."""
    n = len(pd.DataFrame(xs[0])) if isinstance(xs[0], dict) else _n_rows(xs[0])
    for i, raw in enumerate(xs):
        check_lengths(_n_rows(raw), [0] * n, x_name=f"x[{i}]" if len(xs) > 1 else "x", y_name="x[0]")
    for i, target in enumerate(ys):
        check_lengths(n, target, x_name="x", y_name=f"y[{i}]" if len(ys) > 1 else "y")
    return n


def _n_rows(raw) -> int:
    if isinstance(raw, (str, Path)):
        raise TypeError("x is a path; only the task classes (e.g. ak.StructuredDataClassifier) read paths.")
    return len(raw)
