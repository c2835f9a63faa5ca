"""The time budget of ``fit``: the one place that decides how ``time_limit`` is shared.

The search runs until its deadline; what comes after it (bagging or refitting the chosen trials, then the
export) is kept back from the limit. Before any trial finished, the search may use ``SEARCH_SHARE`` of the
limit; once one did, the reserve is what its configuration is expected to need for the final model (a refit,
or the bagging of ``RESELECT_MIN`` trials), and at most ``FINAL_SHARE`` of the limit. ``Budget`` is a plain,
picklable object: the search and the workers call it as their deadline.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

SEARCH_SHARE = 0.85  # of time_limit before any trial finished; the rest is kept for the refit and the export
EXPORT_SECONDS = 4.0  # kept back for building, saving and reloading the exported model
FINAL_SHARE = 0.4  # most of time_limit kept back from the search for the refit or bagging of the best trial
# "auto" bags tables up to this many rows (train + validation); measured with benchmarks/tabular.py at
# time_limit=60, bagging helped tables of 550-1,700 rows and cost AUC at 4,300 rows.
BAGGING_MAX_ROWS = 3_000
BAGGING_FOLDS = 5
REESTIMATE = 1.15  # margin on the measured seconds of a trial when estimating a refit or a fold
# trials whose bagging the search leaves time for: the fewest from which the final stage chooses the ensemble
# again on their out-of-fold rows (``autodeep.fit.final``)
RESELECT_MIN = 3


def bagging_folds(setting, refit: bool, n_rows: int, epochs: int | None, lazy: bool) -> int:
    """Folds to bag each chosen configuration on (0: refit on all rows instead).

    ``setting`` is ``AutoModel``'s ``bagging_folds``: ``"auto"`` bags in-memory tables of at most
    ``BAGGING_MAX_ROWS`` rows trained with early stopping (``epochs=None``).

    Example:
        >>> bagging_folds("auto", True, 1_000, None, lazy=False), bagging_folds("auto", True, 1_000, 5, lazy=False)
        (5, 0)
    """
    if not refit or setting == 0:
        return 0
    if setting != "auto":
        return setting
    small = n_rows <= BAGGING_MAX_ROWS and not lazy
    return BAGGING_FOLDS if small and epochs is None else 0


def per_epoch_seconds(trial) -> float:
    """Seconds ``trial`` took per epoch of its own training."""
    return trial.user_attrs.get("fit_seconds", 0.0) / max(trial.user_attrs.get("epochs_run", 1), 1)


def refit_epochs(trial) -> int:
    """Epochs a refit of ``trial`` trains from scratch: its best epoch, plus the epochs a morph child's inherited
    weights carry."""
    return int(trial.user_attrs.get("best_epoch", 1)) + int(trial.user_attrs.get("inherited_epochs", 0))


def fold_seconds(trial) -> float:
    """Expected seconds to train ``trial``'s configuration on one fold (early stopping, as in the trial); a
    morph child's fold trains from scratch, so the epochs its inherited weights carry count too."""
    epochs = trial.user_attrs.get("epochs_run", 1) + trial.user_attrs.get("inherited_epochs", 0)
    return per_epoch_seconds(trial) * epochs * REESTIMATE


@dataclass
class Budget:
    """When the search must stop, and whether a refit or a fold still fits before ``time_limit``.

    Example:
        >>> budget = Budget(started=0.0, time_limit=100.0, refit=True, folds=0, n_tr=800, n_va=200)
        >>> budget.deadline, budget.search_deadline([])  # no trial finished yet: 85 % of the limit
        (100.0, 85.0)
    """

    started: float
    time_limit: float | None
    refit: bool
    folds: int
    n_tr: int
    n_va: int

    @classmethod
    def plan(cls, started: float, settings, n_tr: int, n_va: int, lazy: bool = False) -> "Budget":
        """The budget of a ``fit`` that started at ``started`` with ``settings`` (``autodeep.fit.settings``)
        on ``n_tr`` training and ``n_va`` validation rows (``lazy``: read from disk)."""
        folds = bagging_folds(settings.bagging_folds, settings.refit, n_tr + n_va, settings.epochs, lazy)
        return cls(started, settings.time_limit, settings.refit, folds, n_tr, n_va)

    @property
    def deadline(self) -> float | None:
        """``time.time()`` at which the whole ``fit`` should be done (None: no limit)."""
        return self.started + self.time_limit if self.time_limit else None

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without a limit)."""
        return self.deadline - time.time() if self.deadline else math.inf

    def __call__(self, study) -> float | None:
        """The search deadline for ``study`` (the Searcher calls this before each trial)."""
        import optuna

        completed = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
        return self.search_deadline(completed, study.best_trial if completed else None)

    def search_deadline(self, completed: list, best=None) -> float | None:
        """Keep back the refit time of ``best``, or the time to bag ``RESELECT_MIN`` trials like it (a share of the
        limit before any trial finished)."""
        if not self.time_limit:
            return None
        if not completed or not self.refit:
            reserve = (1 - SEARCH_SHARE) * self.time_limit if self.refit else EXPORT_SECONDS
        elif self.folds:
            reserve = EXPORT_SECONDS + RESELECT_MIN * self.folds * fold_seconds(best)
        else:  # a refit longer than the share kept back would not fit: keep back the export only
            refit = self.refit_seconds(best)
            reserve = EXPORT_SECONDS + (refit if EXPORT_SECONDS + refit <= FINAL_SHARE * self.time_limit else 0.0)
        return self.deadline - min(reserve, FINAL_SHARE * self.time_limit)

    def refit_seconds(self, trial) -> float:
        """Expected seconds to retrain ``trial``'s configuration on train + validation rows (``refit_epochs``)."""
        rows = (self.n_tr + self.n_va) / max(self.n_tr, 1)
        return per_epoch_seconds(trial) * refit_epochs(trial) * rows * REESTIMATE

    def fold_fits(self, trial) -> bool:
        """Whether one more fold of ``trial`` fits before the deadline, the export kept back."""
        return fold_seconds(trial) <= self.remaining() - EXPORT_SECONDS

    def folds_together(self, trial, folds: int) -> bool:
        """Whether ``folds`` folds of ``trial`` may train together: with no time limit, or with twice their time
        in turn left. Folds trained together stop together, so a deadline that cuts them loses every fold (at
        60 s they also ran slower than in turn: one more compile, and the slowest fold sets the pace).

        Example:
            >>> Budget(started=0.0, time_limit=None, refit=True, folds=5, n_tr=800, n_va=200).folds_together(None, 5)
            True
        """
        return not self.time_limit or 2 * folds * fold_seconds(trial) <= self.remaining() - EXPORT_SECONDS

    def refit_fits(self, trial) -> bool:
        """Whether a refit of ``trial`` on all rows fits before the deadline, the export kept back."""
        return self.refit_seconds(trial) < self.remaining() - EXPORT_SECONDS
