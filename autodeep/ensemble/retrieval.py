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


def rank_loss(targets: np.ndarray, predictions: np.ndarray) -> float:
    """``1 - ROC AUC`` of a binary head's probabilities (NaN when the rows hold one class only).

    Binary heads choose their blend by ranking rather than log loss: a blend that pulls near-duplicates
    of negative rows towards 0 ranks better, yet the rare positive among them costs it a large log loss,
    so on a few hundred validation rows log loss rejects blends that rank the test rows better.

    Example:
        >>> rank_loss(np.array([[0.0], [1.0], [1.0]]), np.array([[0.2], [0.9], [0.1]]))
        0.5
    """
    from scipy.stats import rankdata  # the Mann-Whitney form of AUC, far cheaper than sklearn per call

    positive = np.asarray(targets).reshape(len(targets), -1)[:, 0] > 0.5
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(np.asarray(predictions, dtype="float64").reshape(len(positive), -1)[:, 0])
    return float(1.0 - (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def choose_blend(distances: np.ndarray, reference_targets: np.ndarray, predictions: np.ndarray,
                 targets: np.ndarray, loss: Callable[[np.ndarray, np.ndarray], float], taus=TAUS, priors=PRIORS,
                 min_gain: float = MIN_GAIN, seed: int = 0, halvings: int = HALVINGS) -> dict:
    """Pick ``tau`` and ``prior`` that minimise ``loss(targets, blend(...))`` on validation rows.

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
    pulls = []  # per tau: sum_j w_j y_j and sum_j w_j for every validation row
    for tau in taus:
        weights = np.exp(-np.asarray(distances, dtype="float64") / tau)
        pulls.append((weights @ reference_targets, weights.sum(axis=1, keepdims=True)))

    def blended(t, prior, rows):
        pulled, mass = pulls[t]
        return (pulled[rows] + prior * predictions[rows]) / (mass[rows] + prior)

    def best(rows):
        found, lowest = None, loss(targets[rows], predictions[rows])
        for t in range(len(taus)):
            for prior in priors:
                value = loss(targets[rows], blended(t, prior, rows))
                if value < lowest:
                    found, lowest = (t, prior), value
        return found, lowest

    everything = np.arange(n)
    base = loss(targets, predictions)
    found, lowest = best(everything)
    rng = np.random.default_rng(seed)
    held_out = []
    for order in (rng.permutation(n) for _ in range(halvings if n >= 20 else 0)):  # < 20 rows: no evidence
        for pick_rows, score_rows in ((order[: n // 2], order[n // 2:]), (order[n // 2:], order[: n // 2])):
            pick, _ = best(pick_rows)
            own = loss(targets[score_rows], predictions[score_rows])
            gain = 0.0 if pick is None or not own > 0 else (
                1.0 - loss(targets[score_rows], blended(*pick, score_rows)) / own)
            held_out.append(gain if np.isfinite(gain) else 0.0)  # a half with one class only: no evidence
    result = {"used": False, "tau": None, "prior": None, "loss": float(lowest), "base_loss": float(base),
              "gain": float(1.0 - lowest / base) if base > 0 else 0.0,
              "held_out_gain": float(np.mean(held_out)) if held_out else 0.0}
    if found is not None and result["held_out_gain"] >= min_gain:
        result.update(used=True, tau=float(taus[found[0]]), prior=float(found[1]))
    return result
