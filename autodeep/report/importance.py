"""Permutation feature importance on the user's raw columns, through an exported model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MAX_ROWS_PER_CALL = 50_000  # rows of permuted copies predicted at once


def table_columns(predictor) -> list[str]:
    """The raw columns the exported model was trained on; a ``ValueError`` unless it has one table input."""
    inputs = predictor.manifest["inputs"]
    config = inputs[0]["preprocessor"].get("config", {}) if len(inputs) == 1 else {}
    if len(inputs) != 1 or "columns" not in config:
        kinds = [i["kind"] for i in inputs]
        raise ValueError(f"feature_importance needs a model with one table input; this model's inputs are {kinds}.")
    return list(config["columns"])


def check_columns(x, expected: list[str]) -> pd.DataFrame:
    """``x`` as a DataFrame with exactly the training columns, in their order; else a ``ValueError`` naming
    the missing and the extra columns.

    Example:
        >>> check_columns(pd.DataFrame({"a": [1], "c": [2]}), ["a", "b"])
        Traceback (most recent call last):
        ...
        ValueError: x must have the training columns: missing ['b'], extra ['c'].
    """
    if not isinstance(x, pd.DataFrame):
        raise TypeError(f"x must be a pandas DataFrame with the training columns; received {type(x).__name__}.")
    names = [str(c) for c in x.columns]
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing or extra:
        raise ValueError(f"x must have the training columns: missing {missing}, extra {extra}.")
    return x.set_axis(names, axis=1)[expected].reset_index(drop=True)


def _scorer(predictor, y):
    """``(name, score(x) -> float)``, higher is better: AUC for a binary head, minus the log loss for a
    multiclass one, R² for regression."""
    from sklearn.metrics import log_loss, r2_score, roc_auc_score

    codec = predictor.codecs[0]
    if len(predictor.codecs) != 1:
        raise ValueError(f"feature_importance needs a model with one head; this one has {len(predictor.codecs)}.")
    if codec.task != "classification":
        target = np.asarray(y, dtype="float64").reshape(len(y), -1)
        return "r2", lambda p: float(r2_score(target, np.asarray(p, dtype="float64").reshape(len(target), -1)))
    labels = np.asarray(codec.encode(y))
    if labels.ndim == 2:
        raise ValueError("feature_importance does not handle multi-label heads.")
    if len(codec.classes_) == 2:
        return "auc", lambda p: float(roc_auc_score(labels, p[:, 1]))
    classes = np.arange(len(codec.classes_))
    return "neg_log_loss", lambda p: -float(log_loss(labels, np.clip(p, 1e-7, 1), labels=classes))


def feature_importance(predictor, x, y, n_repeats: int = 5, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each raw column of ``x``: how much the exported model's score drops when
    the column's values are shuffled (AUC for a binary head, log loss for multiclass, R² for regression).

    Returns one row per column, most important first: ``importance_mean``, ``importance_std`` (over the
    ``n_repeats`` shuffles) and a 95 % confidence interval of the mean, ``ci_low`` and ``ci_high``.
    ``x`` must hold the training columns (a ``ValueError`` names the missing and extra ones).

    Example:
        >>> clf.feature_importance(x_test, y_test, n_repeats=5).head(3)  # doctest: +SKIP
    """
    if not isinstance(n_repeats, int) or n_repeats < 2:
        raise ValueError(f"n_repeats must be an int of at least 2 (for a spread); received {n_repeats!r}.")
    frame = check_columns(x, table_columns(predictor))
    if len(frame) != len(y):
        raise ValueError(f"x and y must have the same number of rows; received {len(frame)} and {len(y)}.")
    name, score = _scorer(predictor, y)
    predict = predictor.predict if name == "r2" else predictor.predict_proba
    baseline = score(predict(frame))
    permuted = _permuted_predictions(predict, frame, n_repeats, np.random.default_rng(seed))
    rows = []
    for column in frame.columns:
        drops = [baseline - score(p) for p in permuted[column]]
        mean, std = float(np.mean(drops)), float(np.std(drops, ddof=1))
        half = 1.96 * std / math.sqrt(n_repeats)
        rows.append({"column": column, "importance_mean": mean, "importance_std": std,
                     "ci_low": mean - half, "ci_high": mean + half})
    table = pd.DataFrame(rows).set_index("column").sort_values("importance_mean", ascending=False)
    table.attrs.update(score=name, baseline=baseline)
    return table


def _permuted_predictions(predict, frame: pd.DataFrame, n_repeats: int, rng) -> dict[str, list[np.ndarray]]:
    """Per column, predictions on ``n_repeats`` copies of ``frame`` with that column shuffled; the copies of
    all columns are predicted together, ``MAX_ROWS_PER_CALL`` rows at a time (one call for small data)."""
    n = len(frame)
    jobs = [(column, r) for column in frame.columns for r in range(n_repeats)]
    per_call = max(1, MAX_ROWS_PER_CALL // max(n, 1))
    out: dict[str, list[np.ndarray]] = {column: [] for column in frame.columns}
    for start in range(0, len(jobs), per_call):
        batch = jobs[start:start + per_call]
        copies = []
        for column, _ in batch:
            copy = frame.copy()
            copy[column] = frame[column].to_numpy()[rng.permutation(n)]
            copies.append(copy)
        predictions = np.asarray(predict(pd.concat(copies, ignore_index=True)))
        for i, (column, _) in enumerate(batch):
            out[column].append(predictions[i * n:(i + 1) * n])
    return out
