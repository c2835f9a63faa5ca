"""Neighbour blending: pull a model's prediction towards the targets of training rows that look like the query.

Trees memorise rows; a smooth network does not. On tables where many rows repeat (51 % of kc1's test rows
repeat a training row exactly), that costs a network about 0.02 AUC. The fix here is nonparametric and
post hoc: for a query row q with model prediction p,

    p' = (sum_j w_j y_j + prior * p) / (sum_j w_j + prior),    w_j = exp(-d(q, r_j) / tau)

over the reference rows r_j (all training rows) with targets y_j. ``d`` is the mean over the model's input
columns of the squared difference (numeric columns, already scaled) or 2 x mismatch (categorical codes,
the squared distance of two one-hot codes), so an exact duplicate has d = 0 and weighs 1. ``tau`` and
``prior`` are chosen on validation rows (with the reference restricted to the rows the models were fit on)
and the blend is kept only if it lowers the validation loss by a margin. The same formula runs inside the
exported model as ``autodeep.blocks.layers.NeighbourBlend``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

TAUS = (1e-3, 3e-3, 1e-2, 3e-2)  # near-exact matches: smoother kernels only compete with the network
PRIORS = (0.5, 1.0, 2.0, 4.0, 8.0)
MIN_GAIN = 0.002  # mean held-out relative drop of the validation loss needed to keep a blend
HALVINGS = 20  # random halvings of the validation rows behind the held-out gain (each half picks, the other scores)


def row_distances(query: Sequence[np.ndarray], reference: Sequence[np.ndarray], chunk: int = 2048) -> np.ndarray:
    """Mean per-column squared distance between every query row and every reference row, ``(n_query, n_ref)``.

    Float arrays are numeric columns (squared difference); integer arrays are categorical codes (2 if the
    codes differ, else 0). Arrays are 2-D and paired by position.

    Example:
        >>> q = [np.array([[0.0, 1.0]], "float32"), np.array([[3]], "int32")]
        >>> r = [np.array([[0.0, 1.0], [1.0, 1.0]], "float32"), np.array([[3], [4]], "int32")]
        >>> row_distances(q, r).round(4).tolist()
        [[0.0, 1.0]]
    """
    if len(query) != len(reference) or not query:
        raise ValueError(f"row_distances needs the same non-empty list of arrays for query and reference; "
                         f"received {len(query)} and {len(reference)} arrays.")
    n_columns = sum(np.asarray(a).reshape(len(a), -1).shape[1] for a in reference)
    n_query, n_ref = len(query[0]), len(reference[0])
    out = np.zeros((n_query, n_ref), dtype="float32")
    for q, r in zip(query, reference):
        q, r = np.asarray(q).reshape(n_query, -1), np.asarray(r).reshape(n_ref, -1)
        if np.issubdtype(r.dtype, np.integer):
            for start in range(0, n_query, chunk):
                block = q[start:start + chunk]
                out[start:start + chunk] += 2.0 * (block[:, None, :] != r[None, :, :]).sum(axis=2)
        else:
            q, r = q.astype("float32"), r.astype("float32")
            squared = (q ** 2).sum(axis=1)[:, None] + (r ** 2).sum(axis=1)[None, :] - 2.0 * q @ r.T
            out += np.maximum(squared, 0.0)
    return out / max(n_columns, 1)


def blend(distances: np.ndarray, reference_targets: np.ndarray, predictions: np.ndarray, tau: float,
          prior: float) -> np.ndarray:
    """The blended prediction ``(sum_j w_j y_j + prior * p) / (sum_j w_j + prior)`` with ``w = exp(-d / tau)``.

    Example:
        >>> d = np.array([[0.0, 5.0]]); y = np.array([[1.0], [0.0]]); p = np.array([[0.2]])
        >>> blend(d, y, p, tau=0.01, prior=1.0).round(3).tolist()
        [[0.6]]
    """
    weights = np.exp(-np.asarray(distances, dtype="float64") / tau)
    predictions = np.asarray(predictions, dtype="float64").reshape(len(weights), -1)
    targets = np.asarray(reference_targets, dtype="float64").reshape(weights.shape[1], -1)
    return (weights @ targets + prior * predictions) / (weights.sum(axis=1, keepdims=True) + prior)


def rank_loss(targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``1 - ROC AUC`` of a binary head's probabilities, each row weighted by ``weights`` (None: equally; NaN
    when one class has no weight).

    Binary heads choose their blend by ranking rather than log loss: a blend that pulls near-duplicates
    of negative rows towards 0 ranks better, yet the rare positive among them costs it a large log loss,
    so on a few hundred validation rows log loss rejects blends that rank the test rows better.

    Example:
        >>> y, p = np.array([[0.0], [1.0], [1.0]]), np.array([[0.2], [0.9], [0.1]])
        >>> rank_loss(y, p), rank_loss(y, p, weights=np.array([1.0, 3.0, 1.0]))
        (0.5, 0.25)
    """
    positive = np.asarray(targets).reshape(len(targets), -1)[:, 0] > 0.5
    w = np.ones(len(positive)) if weights is None else np.asarray(weights, dtype="float64").reshape(-1)
    w_pos, w_neg = np.where(positive, w, 0.0), np.where(positive, 0.0, w)
    if not w_pos.sum() > 0 or not w_neg.sum() > 0:
        return float("nan")
    # the Mann-Whitney form of AUC, far cheaper than sklearn per call: each positive row counts the negative
    # weight below its probability, and half the negative weight tied with it
    values, inverse = np.unique(np.asarray(predictions, dtype="float64").reshape(len(positive), -1)[:, 0],
                                return_inverse=True)
    tied = np.bincount(inverse, weights=w_neg, minlength=len(values))
    below = np.cumsum(tied) - tied
    wins = float(np.sum(w_pos * (below[inverse] + 0.5 * tied[inverse])))
    return float(1.0 - wins / (w_pos.sum() * w_neg.sum()))


def choose_blend(distances: np.ndarray, reference_targets: np.ndarray, predictions: np.ndarray,
                 targets: np.ndarray, loss: Callable[[np.ndarray, np.ndarray], float], taus=TAUS, priors=PRIORS,
                 min_gain: float = MIN_GAIN, seed: int = 0, halvings: int = HALVINGS, weights=None) -> dict:
    """Pick ``tau`` and ``prior`` that minimise ``loss(targets, blend(...))`` on validation rows (with
    ``weights``, the rows' weights, the loss is ``loss(targets, blend(...), weights)``).

    Picking the best of 25 settings on a few hundred rows finds a "gain" in noise, so the pick is also made
    on each half of the rows and scored on the other half, over ``halvings`` random halvings; the blend is
    kept (``used``) only if that held-out gain averages at least ``min_gain`` of the model's own loss.
    Averaging several halvings steadies the estimate, so a small true gain is not lost to one unlucky split.
    Returns ``{"used", "tau", "prior", "loss", "base_loss", "gain", "held_out_gain"}`` (tau and prior None
    when not used).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> ref = rng.integers(0, 2, (200, 1)).astype(float); d = np.where(np.eye(50, 200) > 0, 0.0, 9.0)
        >>> choice = choose_blend(d, ref, np.full((50, 1), 0.5), ref[:50], lambda y, p: float(np.mean((y - p) ** 2)))
        >>> choice["used"], choice["gain"] > 0.5, choice["held_out_gain"] > 0.5
        (True, True, True)
    """
    n = len(distances)
    predictions = np.asarray(predictions, dtype="float64").reshape(n, -1)
    reference_targets = np.asarray(reference_targets, dtype="float64").reshape(np.shape(distances)[1], -1)
    targets = np.asarray(targets)
    row_weights = None if weights is None else np.asarray(weights, dtype="float64").reshape(-1)
    pulls = []  # per tau: sum_j w_j y_j and sum_j w_j for every validation row
    for tau in taus:
        kernel = np.exp(-np.asarray(distances, dtype="float64") / tau)
        pulls.append((kernel @ reference_targets, kernel.sum(axis=1, keepdims=True)))

    def score(rows, setting=None):  # the loss of the rows' predictions, blended with setting (tau index, prior)
        p = predictions[rows]
        if setting is not None:
            pulled, mass = pulls[setting[0]]
            p = (pulled[rows] + setting[1] * p) / (mass[rows] + setting[1])
        return loss(targets[rows], p) if row_weights is None else loss(targets[rows], p, row_weights[rows])

    def best(rows):
        found, lowest = None, score(rows)
        for setting in ((t, prior) for t in range(len(taus)) for prior in priors):
            value = score(rows, setting)
            if value < lowest:
                found, lowest = setting, value
        return found, lowest

    def gain(pick, rows):  # the relative drop of the rows' loss under a setting picked on other rows
        own = score(rows)
        return 0.0 if pick is None or not own > 0 else 1.0 - score(rows, pick) / own

    base, (found, lowest) = score(np.arange(n)), best(np.arange(n))
    held_out = _held_out_gain(n, best, gain, seed, halvings)
    result = {"used": False, "tau": None, "prior": None, "loss": float(lowest), "base_loss": float(base),
              "gain": float(1.0 - lowest / base) if base > 0 else 0.0, "held_out_gain": held_out}
    if found is not None and held_out >= min_gain:
        result.update(used=True, tau=float(taus[found[0]]), prior=float(found[1]))
    return result


def _held_out_gain(n: int, best, gain, seed: int, halvings: int) -> float:
    """The mean over ``halvings`` random halvings of ``n`` rows, both ways, of ``gain(pick, other_half)`` where
    ``best(half)`` picks; 0 with fewer than 20 rows (no evidence) and for a half whose gain is not finite."""
    rng = np.random.default_rng(seed)
    held_out = []
    for order in (rng.permutation(n) for _ in range(halvings if n >= 20 else 0)):
        for pick_rows, score_rows in ((order[: n // 2], order[n // 2:]), (order[n // 2:], order[: n // 2])):
            value = gain(best(pick_rows)[0], score_rows)
            held_out.append(value if np.isfinite(value) else 0.0)  # a half with one class only: no evidence
    return float(np.mean(held_out)) if held_out else 0.0
