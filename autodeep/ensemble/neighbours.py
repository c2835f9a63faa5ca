"""Neighbour blending for a fitted search (``autodeep.ensemble.retrieval``): which inputs distances are
taken over, and the blend of each head chosen on validation rows. ``autodeep.fit.blend`` wraps the exported
model in the layers that apply it."""

from __future__ import annotations

import numpy as np

from autodeep.ensemble import validation_loss
from autodeep.ensemble.retrieval import choose_blend, rank_loss, row_distances

BLENDABLE = ("binary", "sparse", "onehot", "regression")  # single-label targets a prediction can be averaged with
MAX_ROWS = 10_000  # "auto": training + validation rows at most (memory and predict cost grow with the rows)


def retrieval_keys(graph, specs: dict) -> list[tuple[str, str]]:
    """The model inputs a distance is taken over, ``[(key, "numeric" | "categorical")]``: every non-empty
    array of the structured-data inputs; empty when any input is not structured data."""
    if not graph.inputs or any(node.kind != "structured" for node in graph.inputs):
        return []
    keys = []
    for node in graph.inputs:
        for key, (shape, dtype) in specs[node.name]["features"].items():
            if int(np.prod(shape)) > 0 and key in ("numerical", "categorical"):  # not text columns' n-grams
                keys.append((f"{node.name}__{key}", "categorical" if "int" in str(dtype) else "numeric"))
    return keys


def reference_targets(head, y: np.ndarray) -> np.ndarray:
    """A head's prepared targets as rows of the same width as its prediction (class ids become one-hot)."""
    y = np.asarray(y)
    if head.target_format == "sparse":
        return np.eye(head.num_classes, dtype="float32")[y.reshape(-1).astype(int)]
    return y.reshape(len(y), -1).astype("float32")


def per_head(graph, targets) -> list:
    """Targets as a list with one entry per head (a dict by head name for several heads, else one array)."""
    return [targets[h.name] for h in graph.heads] if isinstance(targets, dict) else [targets]


def blend_criterion(target_format: str):
    """What a head's blend is chosen by: ranking (``1 - AUC``) for a binary head, else its validation loss.

    Example:
        >>> blend_criterion("binary").__name__, blend_criterion("sparse").__name__
        ('rank_loss', 'sparse')
    """
    return rank_loss if target_format == "binary" else validation_loss(target_format)


def choose_blends(graph, keys, val_predictions: list, arrays_tr: dict, targets_tr, arrays_va: dict,
                  targets_va, seed: int = 0, weights_va=None) -> list[dict]:
    """Per head, the blend that lowers its validation loss most (``used`` False when none helps enough), the
    loss weighting each validation row by ``weights_va`` (``fit(sample_weight=)``, ``class_weight``; None: equally).

    The reference is the training rows only: the validation predictions come from models fit on them."""
    distances = row_distances([arrays_va[k] for k, _ in keys], [arrays_tr[k] for k, _ in keys])
    choices = []
    for head, prediction, y_tr, y_va in zip(graph.heads, val_predictions, per_head(graph, targets_tr),
                                            per_head(graph, targets_va)):
        if head.target_format not in BLENDABLE:
            choices.append({"used": False, "reason": f"target_format {head.target_format!r}"})
            continue
        choices.append(choose_blend(distances, reference_targets(head, y_tr), prediction, y_va,
                                    blend_criterion(head.target_format), seed=seed, weights=weights_va))
    return choices
