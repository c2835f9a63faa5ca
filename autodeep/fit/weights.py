"""Row weights of a ``fit``: ``fit(sample_weight=)`` and the constructor's ``class_weight`` (scikit-learn's
split: per-row weights with the data, per-class weights with the model), multiplied into one weight per row.

The weights follow the rows through the validation split; they weight the Keras loss of every training fit
(trials, folds and the refit), the validation loss that scores trials and stops them early, and the loss that
greedy ensemble selection minimises. Each part's weights are scaled to mean 1, so the learning rate keeps its
meaning.

``class_weight`` is ``None``, ``"balanced"`` (each class weighs ``n_rows / (n_classes * n_rows_of_class)``, counted
on the training rows, as scikit-learn's ``compute_class_weight``), or ``{label: weight}`` (labels left out weigh
1). It applies to the first single-label classification head.
"""

from __future__ import annotations

import numpy as np


def check_sample_weight(sample_weight, n_rows: int, argument: str = "sample_weight") -> np.ndarray | None:
    """``sample_weight`` as a float array of ``n_rows`` finite, non-negative values, not all zero (or None).

    Example:
        >>> check_sample_weight([1, 2], 2).tolist()
        [1.0, 2.0]
        >>> check_sample_weight([1, -1], 2)
        Traceback (most recent call last):
        ValueError: sample_weight must be finite and >= 0; received -1.0 at row 1.
    """
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{argument} must be numbers, one per row; received {type(sample_weight).__name__}.") \
            from None
    if weights.ndim != 1 or len(weights) != n_rows:
        raise ValueError(f"{argument} must hold one weight per row ({n_rows}); received shape {weights.shape}.")
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if len(bad):
        raise ValueError(f"{argument} must be finite and >= 0; received {weights[bad[0]]} at row {bad[0]}.")
    if not weights.any():
        raise ValueError(f"{argument} is zero for every row; at least one row must have a positive weight.")
    return weights


def check_class_weight(class_weight):
    """``None``, ``"balanced"`` or a ``{label: weight >= 0}`` dict.

    Example:
        >>> check_class_weight("auto")
        Traceback (most recent call last):
        ValueError: class_weight must be None, 'balanced' or a {label: weight} dict; received 'auto'.
    """
    if class_weight is None or class_weight == "balanced":
        return class_weight
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be None, 'balanced' or a {{label: weight}} dict; "
                         f"received {class_weight!r}.")
    for label, weight in class_weight.items():
        if not isinstance(weight, (int, float, np.number)) or not np.isfinite(weight) or weight < 0:
            raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0; received {weight!r}.")
    return class_weight


def class_weights(class_weight, classes: np.ndarray, labels_tr: np.ndarray) -> np.ndarray:
    """One weight per class index (``classes``: the labels, in index order; ``labels_tr``: the training rows'
    class indices).

    Example:
        >>> class_weights("balanced", np.array(["a", "b"]), np.array([0, 0, 0, 1])).tolist()
        [0.6666666666666666, 2.0]
        >>> class_weights({"c": 2.0}, np.array(["a", "b"]), np.array([0, 1]))
        Traceback (most recent call last):
        ValueError: class_weight names classes the targets do not have: ['c']; the classes are ['a', 'b'].
    """
    if class_weight == "balanced":
        counts = np.bincount(labels_tr, minlength=len(classes)).astype("float64")
        return np.where(counts > 0, len(labels_tr) / (len(classes) * np.maximum(counts, 1)), 0.0)
    known = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise ValueError(f"class_weight names classes the targets do not have: {unknown}; "
                         f"the classes are {list(known)}.")
    weights = np.ones(len(classes))
    for label, weight in class_weight.items():
        weights[known[label]] = float(weight)
    return weights


def row_weights(class_weight, head_labels, sample_tr, sample_va, n_tr: int, n_va: int):
    """``(weights_tr, weights_va)``: the sample weights times the class weights, each scaled to mean 1; ``None``
    for both when no weight was given.

    ``head_labels`` is ``(classes, labels_tr, labels_va)`` of the first single-label classification head, or
    None (then ``class_weight`` must be None).
    """
    if class_weight is None and sample_tr is None and sample_va is None:
        return None, None
    w_tr = np.ones(n_tr) if sample_tr is None else np.asarray(sample_tr, dtype="float64")
    w_va = np.ones(n_va) if sample_va is None else np.asarray(sample_va, dtype="float64")
    if class_weight is not None:
        if head_labels is None:
            raise ValueError("class_weight needs a single-label classification head; this model has none.")
        classes, labels_tr, labels_va = head_labels
        per_class = class_weights(class_weight, classes, labels_tr)
        w_tr, w_va = w_tr * per_class[labels_tr], w_va * per_class[labels_va]
    for name, w in (("training", w_tr), ("validation", w_va)):
        if not w.any():
            raise ValueError(f"Every {name} row has weight zero (sample_weight times class_weight); at least one "
                             f"row of each part needs a positive weight.")
    return (w_tr / w_tr.mean()).astype("float32"), (w_va / w_va.mean()).astype("float32")


def weighted_validation(validation, weights):
    """Keras' ``validation_data``: ``(x, y)``, or ``(x, y, weights)`` when there are weights."""
    return validation if weights is None else (*validation, weights)


def first_class_labels(heads, codecs, ys_tr: list, ys_va: list):
    """``(classes, labels_tr, labels_va)`` of the first single-label classification head, or None."""
    for head, codec, y_tr, y_va in zip(heads, codecs, ys_tr, ys_va):
        if codec.task == "classification" and not codec.meta()["multi_label"]:
            return codec.classes_, codec.encode(y_tr).astype("int64"), codec.encode(y_va).astype("int64")
    return None


def split_validation_data(validation_data) -> tuple:
    """``(validation_data, weights)``: Keras' ``(x, y, sample_weight)`` form split; ``(x, y)`` has no weights.

    Example:
        >>> split_validation_data(([1], [2], [0.5]))
        (([1], [2]), [0.5])
    """
    if isinstance(validation_data, tuple) and len(validation_data) == 3:
        return validation_data[:2], validation_data[2]
    return validation_data, None
