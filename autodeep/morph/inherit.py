"""A network-morphism child's model: its parent rebuilt from the project folder, morphed, with a shorter budget.

``inherit`` is the one call a trial makes (``autodeep.fit.trial``). The parent is rebuilt from what any
process can read: the graph built with the parent's hyperparameter values (the child has the same), the
morph records of its chain (trial attribute ``morph_chain``) replayed, and its weights file
``trials/trial_NNNN/model.weights.h5``. So a child trains in any worker process, and after a resume.
"""

from __future__ import annotations

import math

from autodeep.morph.description import MorphError
from autodeep.morph.gp import architecture, realise
from autodeep.morph.records import replay

CHILD_SHARE = 0.5  # a child's epochs: this share of its parent's (fixed epochs: of the run's), at least 1
CHILD_PATIENCE = 2  # a child's early-stopping patience when the run stops early (its weights are trained already)


def child_budget(epochs: int | None, patience: int | None, parent_best_epoch: int,
                 timed: bool = False) -> tuple[int | None, int | None]:
    """``(epochs, patience)`` of a child: half the run's fixed ``epochs``; under a time limit (``timed``) the
    run's early stopping, within the time the search gives each trial (``autodeep.search.morphing``); else at
    most half its parent's best epoch (3 at least) with early stopping after ``CHILD_PATIENCE`` epochs
    without improvement.

    The paper trains each child like any network, to its early stop; a child here starts from trained
    weights, and most of its gain comes in its first epochs.

    Example:
        >>> child_budget(4, None, 10), child_budget(None, None, 20), child_budget(None, 1, 2)
        ((2, None), (10, 2), (3, 1))
        >>> child_budget(None, None, 20, timed=True), child_budget(4, None, 20, timed=True)
        ((None, None), (2, None))
    """
    if timed and epochs is None:
        return epochs, patience
    if epochs is not None:
        return max(1, math.ceil(epochs * CHILD_SHARE)), patience
    return max(3, math.ceil(parent_best_epoch * CHILD_SHARE)), min(patience or CHILD_PATIENCE, CHILD_PATIENCE)


def rebuild(model, chain: list | None):
    """A trial's own architecture from ``model`` (the graph built with its values): its ``morph_chain``
    replayed, when it has one (weights as they were: load the trial's weights file after)."""
    return replay(model, chain) if chain else model


def _architecture_record(model) -> dict:
    found = architecture(model)
    return {"layers": [list(layer) for layer in found.layers], "skips": [list(skip) for skip in found.skips]}


def inherit(model, lineage: dict | None, weights_file, epochs: int | None, patience: int | None,
            timed: bool = False):
    """``(model, (epochs, patience), attributes)`` for a trial built as ``model`` from its values.

    ``lineage`` is ``None`` outside a morph search (all is returned as given), ``{}`` for a morph search's
    trial from scratch (its architecture is recorded), or the plan of a child (``autodeep.search.morphing``):
    ``model`` becomes the parent (chain replayed, ``weights_file(parent)`` loaded), then the planned morphs
    are applied; a morph this network cannot take (e.g. a skip between positions that do not pool evenly)
    is left out and named in ``morph_skipped``. ``timed``: the trial has a deadline (see :func:`child_budget`).
    """
    if lineage is None:
        return model, (epochs, patience), {}
    if not lineage:
        return model, (epochs, patience), {"morph_architecture": _architecture_record(model), "morph_chain": []}
    from autodeep.train import quiet_optimizer_state

    model = rebuild(model, lineage["chain"])
    with quiet_optimizer_state():
        model.load_weights(weights_file(lineage["parent"]))
    records, applied, skipped = list(lineage["chain"]), [], []
    for op in lineage["ops"]:
        try:
            model, record = realise(model, op)
        except MorphError as error:
            skipped.append(f"{op['op']}: {error}")
            continue
        records.append(record)
        applied.append(op)
    attrs = {"parent": lineage["parent"], "morph_ops": applied, "morph_chain": records,
             "morph_architecture": _architecture_record(model), "inherited_epochs": lineage["inherited_epochs"]}
    if skipped:
        attrs["morph_skipped"] = skipped
    return model, child_budget(epochs, patience, lineage["parent_best_epoch"], timed), attrs
