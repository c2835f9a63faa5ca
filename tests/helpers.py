"""Helpers several test files share (imported as ``helpers``: pytest puts tests/ on the path)."""

from __future__ import annotations

import warnings

import pandas as pd
from sklearn.metrics import roc_auc_score


def auc_by_columns(folder, train: pd.DataFrame, test: pd.DataFrame, target: str, positive, column_sets: dict,
                   epochs: int) -> dict:
    """For each ``{name: columns}`` of ``column_sets``, a one-trial ``StructuredDataClassifier`` (seed 0) fit
    on ``train[columns + [target]]`` in project ``name`` of ``folder``: ``{name: (ROC AUC on test, model)}``,
    the AUC of the ``positive`` class's probability on ``test[columns]`` against ``test[target]``."""
    import autodeep as ak

    found = {}
    for name, columns in column_sets.items():
        clf = ak.StructuredDataClassifier(max_trials=1, epochs=epochs, directory=folder, project_name=name,
                                          verbose=0, seed=0)
        clf.fit(train[columns + [target]], target)
        proba = clf.predict_proba(test[columns])[:, list(clf.classes_).index(positive)]
        found[name] = (roc_auc_score(test[target] == positive, proba), clf)
    return found


def orphan_trial(searcher):
    """``(study, trial)``: ``searcher``'s study with one trial that another worker started (it chose ``x``,
    sent one heartbeat, then died), and that trial's ``x``."""
    study = searcher.open_study()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "heartbeat is supposed to be used with optimize"
        orphan = study.ask()
    x = orphan.suggest_float("x", 0.0, 1.0)
    study._storage.record_heartbeat(orphan._trial_id)
    return study, x
