"""Split row indices into training and validation parts: shuffled, seeded, stratified when possible."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from autodeep.data.adapters import check_lengths, to_target_array


def _can_stratify(labels: np.ndarray, n_val: int) -> bool:
    counts = np.bincount(labels)
    n_classes = len(counts)
    return counts.min() >= 2 and n_classes <= n_val and n_classes <= len(labels) - n_val


def train_validation_split(n: int, y=None, validation_split: float = 0.2, stratify: bool = True,
                           seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train_indices, validation_indices)`` for ``n`` rows.

    Stratified by ``y`` (pass class labels, for classification) when every class has at least
    two rows; otherwise a plain seeded shuffle. Both parts get at least one row.

    Example:
        >>> train, val = train_validation_split(10, validation_split=0.2, seed=0)
        >>> len(train), len(val), sorted([*train, *val]) == list(range(10))
        (8, 2, True)
    """
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be a float in (0, 1); received {validation_split!r}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2 so both parts get a row; received {n!r}.")
    n = int(n)
    n_val = min(n - 1, max(1, math.ceil(n * validation_split)))
    if y is not None and stratify:
        y = to_target_array(y)
        check_lengths(n, y, x_name="n", y_name="y")
        if y.ndim == 1:
            labels = pd.factorize(y, use_na_sentinel=False)[0]
            if _can_stratify(labels, n_val):
                train, val = train_test_split(np.arange(n), test_size=n_val, stratify=labels,
                                              random_state=seed)
                return train, val
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]
