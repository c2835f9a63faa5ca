"""Select the trials the final model is made of: greedy ensemble selection over the trials' validation
predictions, on bootstrap resamples of the validation rows (``autodeep.ensemble.bootstrap_selection``)."""

from __future__ import annotations

import numpy as np

from autodeep.ensemble import bootstrap_selection, validation_loss
from autodeep.graph import Graph
from autodeep.storage import Project

CANDIDATES = 20  # best completed trials the selection considers


def completed_trials(study) -> list:
    """The study's finished trials."""
    import optuna

    return [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


def select_members(study, graph: Graph, project: Project, targets_va, ensemble_size: int,
                   seed: int = 0, row_weights=None, metric=None) -> list[tuple]:
    """``[(trial, weight)]``, heaviest first, of the trials to export (the best trial alone when
    ``ensemble_size`` is 1 or fewer than two trials have their predictions and weights on disk);
    ``row_weights``: the validation rows' weights (``autodeep.fit.weights``), or None; ``metric``: the objective's
    ``Metric`` ranks the first head's ensembles (None: each head's validation loss)."""
    import optuna

    best = study.best_trial
    if ensemble_size <= 1:
        return [(best, 1.0)]
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    ranked = sorted(completed_trials(study), key=lambda t: t.value, reverse=reverse)[:CANDIDATES]
    candidates, predictions = [], []
    for trial in ranked:
        preds = project.load_val_predictions(trial.number)
        if len(preds) == len(graph.heads) and (project.trial_dir(trial.number) / "model.weights.h5").exists():
            candidates.append(trial)
            predictions.append(preds)
    if len(candidates) <= 1:
        return [(best, 1.0)]
    ys = [targets_va[h.name] for h in graph.heads] if isinstance(targets_va, dict) else [targets_va]
    losses = [validation_loss(h.target_format) for h in graph.heads]
    if metric is not None:
        losses[0] = metric.loss(graph.heads[0].target_format) or losses[0]
    weights = bootstrap_selection(predictions, ys, losses, max_size=ensemble_size, seed=seed, weights=row_weights)
    return sorted(((candidates[i], w) for i, w in weights.items()), key=lambda m: -m[1])


def member_predictions(graph: Graph, members: list[tuple], project: Project) -> list[np.ndarray] | None:
    """Per head, the members' validation predictions averaged with their weights (None when a member's
    predictions are not on disk)."""
    total = sum(w for _, w in members)
    outputs = [0.0] * len(graph.heads)
    for trial, weight in members:
        predictions = project.load_val_predictions(trial.number)
        if len(predictions) != len(graph.heads):
            return None
        for k, p in enumerate(predictions):
            outputs[k] = outputs[k] + np.asarray(p, dtype="float64") * (weight / total)
    return outputs
