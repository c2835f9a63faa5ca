"""The leaderboard: one row per trial, best first, read from a project folder."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from autodeep.graph.describe import describe_architecture
from autodeep.report.project_data import SearchRecord, load_search
from autodeep.search.morphing import describe_ops


def leaderboard(path) -> pd.DataFrame:
    """One row per trial of the search in project folder ``path``, best first.

    Columns: ``trial`` (Optuna's number, as in the log lines and ``trials/trial_NNNN``), ``architecture``,
    the objective (named as it is, e.g. ``val_loss``) and every other validation metric at the best epoch
    (``val_auc`` computed from the saved predictions for binary heads), ``fit_seconds``, ``epochs``,
    ``best_epoch``, ``params``, ``state`` (Optuna's, or ``INTERRUPTED`` for a trial cut off by its process's
    death, whose configuration runs again), ``error`` and ``ensemble_weight`` (0 for trials not in the
    exported model). A rerun still queued is not listed. A network-morphism search (``tuner="morph"``) adds
    ``parent`` (the trial a child was morphed from; empty for a network trained from scratch) and ``ops`` (its
    morphs, on the parent's body layers numbered from 0) after ``trial``.

    Example:
        >>> board = leaderboard("autodeep_runs/structured_data_classifier")  # doctest: +SKIP
        >>> board[["trial", "architecture", "val_loss", "ensemble_weight"]].head(3)  # doctest: +SKIP
    """
    return frame(load_search(path))


def frame(record: SearchRecord) -> pd.DataFrame:
    """The leaderboard of a loaded ``SearchRecord`` (see :func:`leaderboard`)."""
    objective, members = record.objective, record.members()
    rows = [_row(record, trial, objective, members) for trial in record.trials
            if trial.state.name != "WAITING"]  # queued (an interrupted trial's rerun), not yet a trial
    metrics = sorted({k for row in rows for k in row["metrics"]} - {objective})
    lineage = ["parent", "ops"] if any("morph_architecture" in t.user_attrs for t in record.trials) else []
    columns = ["trial", *lineage, "architecture", objective, *metrics, "fit_seconds", "epochs", "best_epoch",
               "params", "state", "error", "ensemble_weight"]
    table = pd.DataFrame([{**{k: v for k, v in row.items() if k != "metrics"}, **row["metrics"]} for row in rows],
                         columns=columns)
    for name in ("epochs", "best_epoch", "params", *lineage[:1]):
        table[name] = table[name].astype("Int64")
    table[objective] = table[objective].astype("float64")
    ascending = record.direction == "minimize"
    table = table.sort_values([objective, "trial"], ascending=[ascending, True], na_position="last", kind="stable")
    return table.reset_index(drop=True)


def _row(record: SearchRecord, trial, objective: str, members: dict) -> dict:
    attrs = trial.user_attrs
    metrics = _validation_metrics(record, trial)
    value = trial.value if trial.state.name == "COMPLETE" else None
    metrics[objective] = value
    return {"trial": trial.number, "architecture": describe_architecture(trial.params), "metrics": metrics,
            "fit_seconds": attrs.get("fit_seconds", math.nan), "epochs": attrs.get("epochs_run"),
            "best_epoch": attrs.get("best_epoch"), "params": attrs.get("params"),
            "state": "INTERRUPTED" if attrs.get("interrupted") else trial.state.name,
            "error": attrs.get("error", ""), "ensemble_weight": members.get(trial.number, 0.0),
            "parent": attrs.get("parent"), "ops": _ops(attrs)}


def _ops(attrs: dict) -> str:
    """A morph child's operations: those applied, or (it did not finish) those planned."""
    return describe_ops(attrs["morph_ops"] if "morph_ops" in attrs else attrs.get("morph_plan", {}).get("ops"))


def _validation_metrics(record: SearchRecord, trial) -> dict[str, float]:
    """``val_*`` values at the trial's best epoch, and the validation AUC of each binary head."""
    history = record.project.load_trial_history(trial.number)
    best = int(trial.user_attrs.get("best_epoch", 0) or 0)
    metrics = {k: float(v[best - 1]) for k, v in history.items() if k.startswith("val_") and 0 < best <= len(v)}
    heads = record.heads()
    predictions = record.project.load_val_predictions(trial.number) if trial.state.name == "COMPLETE" else []
    for k, head in enumerate(heads):
        if head.get("target_format") != "binary" or k >= len(predictions):
            continue
        name = "val_auc" if len(heads) == 1 else f"val_{head['name']}_auc"
        if name not in metrics:
            metrics[name] = _auc(record.validation_targets(k), predictions[k])
    return metrics


def _auc(targets, scores) -> float:
    from sklearn.metrics import roc_auc_score

    if targets is None or len(np.unique(targets)) < 2 or len(targets) != len(scores):
        return math.nan
    return float(roc_auc_score(np.asarray(targets).reshape(-1), np.asarray(scores, dtype="float64").reshape(-1)))
