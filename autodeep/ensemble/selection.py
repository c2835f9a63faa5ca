"""Greedy ensemble selection (Caruana et al., 2004) over the trials' validation predictions."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def validation_loss(target_format: str) -> Callable[..., float]:
    """The loss that ranks ensembles for a head, ``loss(y, p, weights=None)``: log loss for classes, mean
    squared error (over the targets' variance) for values; ``weights`` weigh the rows (None: equally).

    Example:
        >>> loss = validation_loss("binary")
        >>> y, p = np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]])
        >>> round(loss(y, p), 4), round(loss(y, p, weights=np.array([1.0, 0.0])), 4)
        (0.1643, 0.1054)
    """
    eps = 1e-7

    def binary(y, p, weights=None):
        p = np.clip(p.reshape(y.shape), eps, 1 - eps)
        return -_row_mean(y * np.log(p) + (1 - y) * np.log(1 - p), weights)

    def sparse(y, p, weights=None):
        p = np.clip(p, eps, 1.0)
        return -_row_mean(np.log(p[np.arange(len(y)), y.astype(int).reshape(-1)]), weights)

    def onehot(y, p, weights=None):
        return -_row_mean(np.sum(y * np.log(np.clip(p, eps, 1.0)), axis=1), weights)

    def squared(y, p, weights=None):
        centre = _row_mean(y, weights)
        return _row_mean((y.reshape(p.shape) - p) ** 2, weights) / (_row_mean((y - centre) ** 2, weights) + eps)

    losses = {"binary": binary, "multilabel": binary, "sparse": sparse, "onehot": onehot, "regression": squared}
    if target_format not in losses:
        raise ValueError(f"No validation loss for target_format {target_format!r}; known: {sorted(losses)}.")
    return losses[target_format]


def _row_mean(values, weights) -> float:
    """The mean of ``values`` over every entry, each row weighted by ``weights`` (None: equally)."""
    values = np.asarray(values, dtype="float64")
    return float(np.average(values.reshape(len(values), -1).mean(axis=1), weights=weights))


def greedy_selection(predictions: Sequence[Sequence[np.ndarray]], score: Callable[[list[np.ndarray]], float],
                     max_size: int = 10, patience: int = 3) -> dict[int, float]:
    """Pick members (with replacement) whose averaged predictions minimise ``score``; return their weights.

    Args:
        predictions: Per candidate, its list of output arrays (one per head).
        score: Loss of a list of averaged output arrays (lower is better).
        max_size: Most picks (a member picked twice weighs double).
        patience: Stop after this many picks that do not improve the loss.

    Example:
        >>> y = np.array([0.0, 1.0, 1.0, 0.0])
        >>> preds = [[np.array([0.4, 0.9, 0.6, 0.1])], [np.array([0.1, 0.6, 0.9, 0.4])], [np.array([0.9, 0.1, 0.1, 0.9])]]
        >>> greedy_selection(preds, lambda outs: float(np.mean((outs[0] - y) ** 2)))
        {0: 0.5, 1: 0.5}
    """
    if not predictions:
        raise ValueError("greedy_selection needs at least one candidate's predictions.")
    n_outputs = len(predictions[0])
    totals = [np.zeros_like(np.asarray(predictions[0][k], dtype="float64")) for k in range(n_outputs)]
    counts: dict[int, int] = {}
    best_loss, best_counts, stale, picks = np.inf, {}, 0, 0
    while picks < max_size and stale < patience:
        trial_losses = []
        for i, preds in enumerate(predictions):
            averaged = [(totals[k] + preds[k]) / (picks + 1) for k in range(n_outputs)]
            trial_losses.append(score(averaged))
        choice = int(np.argmin(trial_losses))
        for k in range(n_outputs):
            totals[k] = totals[k] + predictions[choice][k]
        counts[choice] = counts.get(choice, 0) + 1
        picks += 1
        if trial_losses[choice] < best_loss - 1e-12:
            best_loss, best_counts, stale = trial_losses[choice], dict(counts), 0
        else:
            stale += 1
    total = sum(best_counts.values())
    return {i: c / total for i, c in sorted(best_counts.items())}


def bootstrap_selection(predictions: Sequence[Sequence[np.ndarray]], targets: Sequence[np.ndarray],
                        losses: Sequence[Callable[[np.ndarray, np.ndarray], float]], max_size: int = 5,
                        bags: int = 20, seed: int = 0, weights: np.ndarray | None = None) -> dict[int, float]:
    """Greedy selection repeated on bootstrap resamples of the validation rows, the weightings averaged.

    One greedy pass on a few hundred validation rows fits their noise: it picks the few trials that happen
    to score best on those rows. Resampling the rows and averaging the picks (bagged ensemble selection,
    Caruana et al., 2006) spreads the weight over the trials that do well on most resamples, which
    generalises better; on large validation sets the resamples agree and the result is one greedy pass.

    Args:
        predictions: Per candidate, its list of output arrays (one per head), rows first.
        targets: Per head, the validation targets (rows first).
        losses: Per head, ``loss(targets, predictions) -> float`` (lower is better); the heads' sum is scored.
        max_size: Most picks of each greedy pass.
        bags: Bootstrap resamples.
        seed: Seed of the resampling.
        weights: Each validation row's weight (``fit(sample_weight=)``, ``class_weight``): rows are resampled in
            proportion to it, so each loss sees a weighted sample (None: every row alike).

    Example:
        >>> y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
        >>> preds = [[np.array([0.2, 0.9, 0.6, 0.1, 0.7, 0.4])], [np.array([0.1, 0.6, 0.9, 0.4, 0.8, 0.2])],
        ...          [np.array([0.9, 0.1, 0.1, 0.9, 0.2, 0.8])]]
        >>> weights = bootstrap_selection(preds, [y], [lambda t, p: float(np.mean((t - p) ** 2))])
        >>> sorted(weights), round(sum(weights.values()), 6)
        ([0, 1], 1.0)
    """
    if not predictions:
        raise ValueError("bootstrap_selection needs at least one candidate's predictions.")
    if len(targets) != len(losses) or len(targets) != len(predictions[0]):
        raise ValueError(f"bootstrap_selection needs one target array and one loss per output; received "
                         f"{len(predictions[0])} outputs, {len(targets)} targets and {len(losses)} losses.")
    targets = [np.asarray(t) for t in targets]
    predictions = [[np.asarray(p) for p in preds] for preds in predictions]
    n_rows = len(targets[0])
    rng = np.random.default_rng(seed)
    chance = None if weights is None else np.asarray(weights, dtype="float64") / np.sum(weights)
    totals: dict[int, float] = {}
    for _ in range(bags):
        rows = rng.choice(n_rows, n_rows, p=chance) if chance is not None else rng.integers(0, n_rows, n_rows)
        ys = [t[rows] for t in targets]
        resampled = [[p[rows] for p in preds] for preds in predictions]
        chosen = greedy_selection(resampled, lambda outs: sum(f(y, o) for f, y, o in zip(losses, ys, outs)),
                                  max_size=max_size)
        for i, w in chosen.items():
            totals[i] = totals.get(i, 0.0) + w / bags
    return {i: w for i, w in sorted(totals.items())}
