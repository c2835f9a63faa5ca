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
    best = study.best_trial
    if ensemble_size <= 1:
        return [(best, 1.0)]
    candidates, predictions = [], []
    for trial in ranked_trials(study)[:CANDIDATES]:
        preds = project.load_val_predictions(trial.number)
        if len(preds) == len(graph.heads) and project.weights_file(trial.number).exists():
            candidates.append(trial)
            predictions.append(preds)
    if len(candidates) <= 1:
        return [(best, 1.0)]
    ys = [targets_va[h.name] for h in graph.heads] if isinstance(targets_va, dict) else [targets_va]
    weights = choose(graph, predictions, ys, ensemble_size, seed, row_weights, metric)
    return sorted(((candidates[i], w) for i, w in weights.items()), key=lambda m: -m[1])


def choose(graph: Graph, predictions: list, targets: list, ensemble_size: int, seed: int = 0, row_weights=None,
           metric=None) -> dict[int, float]:
    """``{candidate: weight}`` of ``bootstrap_selection`` over ``predictions`` (per candidate, per head, rows
    first) against ``targets`` (per head), each head ranked by its validation loss (the first by ``metric``'s
    loss when it has one).

    Example:
        >>> import autodeep as ak
        >>> x = ak.Input(); graph = Graph(inputs=[x], outputs=[ak.RegressionHead()(ak.DenseBlock()(x))])
        >>> y = np.array([[0.0], [1.0], [1.0], [0.0]])
        >>> good, bad = np.array([[0.2], [0.8], [0.7], [0.1]]), np.array([[0.9], [0.2], [0.3], [0.8]])
        >>> {i: round(w, 6) for i, w in choose(graph, [[bad], [good]], [y], ensemble_size=3).items()}
        {1: 1.0}
    """
    losses = [validation_loss(h.target_format) for h in graph.heads]
    if metric is not None:
        losses[0] = metric.loss(graph.heads[0].target_format) or losses[0]
    return bootstrap_selection(predictions, targets, losses, max_size=ensemble_size, seed=seed, weights=row_weights)


def ranked_trials(study) -> list:
    """The study's finished trials, best first."""
    import optuna

    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return sorted(completed_trials(study), key=lambda t: t.value, reverse=reverse)


def bagging_pool(study, project: Project, members: list[tuple], size: int) -> list:
    """The best finished trials with their weights in ``project`` that are not ``members`` (``[(trial,
    weight)]``), so that members and pool hold ``size`` trials: what the final stage bags after the members
    while time is left (``autodeep.fit.final``)."""
    chosen = {trial.number for trial, _ in members}
    pool = [t for t in ranked_trials(study) if t.number not in chosen and project.weights_file(t.number).exists()]
    return pool[:max(size - len(members), 0)]


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
