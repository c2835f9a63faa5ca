"""Out-of-fold predictions of the bagged members, for tuning a binary head's decision threshold.

When the final stage bags (``autodeep.fit.final``), each fold model is early-stopped on the rows it did not
train on; its prediction of those rows is out of fold. A member's folds together cover every row of
train + validation, where the validation split holds only a fifth of them, so a threshold tuned on the
out-of-fold predictions rests on several times more rows. The members' out-of-fold predictions are averaged
with their ensemble weights on the rows every member covered (a member cut short by the deadline covers
fewer). The first head only: it is the head whose threshold is tuned (``autodeep.fit.metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodeep.data.rows import take_rows
from autodeep.train.batches import predict_model


@dataclass
class OutOfFold:
    """The first (binary) head's out-of-fold predictions: ``rows`` (indices into train + validation rows, in
    ``PreparedData.all_rows()`` order), their encoded ``targets``, the members' averaged probabilities of the
    positive class (``predictions``) and the rows' ``weights`` (None: unweighted)."""

    rows: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray
    weights: np.ndarray | None

    def arrays(self) -> dict:
        """The fields as named arrays (what ``Project.save_out_of_fold`` writes; no ``weights`` when None)."""
        named = {"rows": self.rows, "targets": self.targets, "predictions": self.predictions}
        return named if self.weights is None else {**named, "weights": self.weights}


def fold_prediction(model, x_all, stop_idx: np.ndarray, outputs=None) -> tuple[np.ndarray, np.ndarray]:
    """``(stop_idx, prediction)``: a fold model's first-head prediction of the rows it was stopped on, taken from
    ``outputs`` (its outputs on those rows, when its training returned them) or predicted."""
    if outputs is None:
        outputs = predict_model(model, take_rows(x_all, stop_idx), batch_size=1024)
    first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    return np.asarray(stop_idx), np.asarray(first, dtype="float64")


def combine(per_member: list[list[tuple]], member_weights: list[float], y_first, w_all, n_rows: int) \
        -> OutOfFold | None:
    """The members' fold predictions (``per_member``: per member, its ``fold_prediction`` results) averaged
    with ``member_weights`` on the rows every member covered; None when a member has none.

    Example:
        >>> member = [(np.array([0, 1]), np.array([[0.2], [0.6]])), (np.array([2]), np.array([[0.9]]))]
        >>> other = [(np.array([1, 2]), np.array([[0.4], [0.5]]))]
        >>> oof = combine([member, other], [3.0, 1.0], np.array([0, 1, 1]), None, 3)
        >>> oof.rows.tolist(), oof.predictions.round(3).tolist()
        ([1, 2], [0.55, 0.8])
    """
    if not per_member or any(not folds for folds in per_member):
        return None
    covered = np.ones(n_rows, dtype=bool)
    total = np.zeros(n_rows)
    for folds, weight in zip(per_member, member_weights):
        seen, values = np.zeros(n_rows, dtype=bool), np.zeros(n_rows)
        for stop_idx, prediction in folds:
            seen[stop_idx], values[stop_idx] = True, prediction.reshape(len(stop_idx), -1)[:, -1]
        covered &= seen
        total += values * weight
    rows = np.flatnonzero(covered)
    y_first = np.asarray(y_first)
    return OutOfFold(rows, y_first[rows].reshape(-1), total[rows] / sum(member_weights),
                     None if w_all is None else np.asarray(w_all, dtype="float64")[rows])
