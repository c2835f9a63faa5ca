"""Run the search: a Searcher over the trials of one ``TrialRun``, in this process or published for worker
processes, until ``max_trials`` or the ``Budget``'s deadline; then the best trial."""

from __future__ import annotations

import contextlib

from autodeep.fit.budget import Budget
from autodeep.fit.members import completed_trials
from autodeep.fit.metrics import direction
from autodeep.fit.settings import Settings
from autodeep.fit.trial import TrialRun
from autodeep.graph import HyperParameters
from autodeep.search import Searcher
from autodeep.train import free_memory, frozen_heap


def make_searcher(settings: Settings, trial: TrialRun, initial_configs: list[dict], study_url: str) -> Searcher:
    """The Searcher of ``settings``, trying first the tuner's ``initial_hps``, then ``initial_configs`` (the
    task's known-good configurations); its trial lines go to ``trial.progress``."""
    return Searcher(
        tuner=settings.tuner, max_trials=settings.max_trials, direction=direction(settings.objective),
        storage=settings.storage or study_url, study_name=settings.project_name, seed=settings.seed,
        initial_configs=settings.initial_hps + initial_configs,
        max_consecutive_failures=settings.max_consecutive_failures, max_epochs=trial.epochs or 100,
        verbose=settings.verbose,
        fail_running=settings.n_workers == 1 and not settings.storage, progress=trial.progress)


def run_search(searcher: Searcher, trial: TrialRun, budget: Budget, settings: Settings):
    """Run the trials; returns the Optuna study. With several ``n_workers``, or a ``storage`` URL other
    machines may join, the search is published for worker processes: they receive ``searcher``, ``trial`` and
    ``budget``, nothing else. What is alive before the first trial stays out of the trials' garbage collections
    (``frozen_heap``)."""
    with trial.progress or contextlib.nullcontext(), frozen_heap():  # the live display ends with the search
        if settings.n_workers > 1 or settings.storage:
            from autodeep.search.worker import run_with_workers

            return run_with_workers(searcher, trial, budget, settings.n_workers, trial.project.path / "workers",
                                    verbose=settings.verbose)
        return searcher.run(trial.probe, trial.run, deadline=budget, cohort=trial)


def best_trial(study, trial: TrialRun):
    """The study's best trial; when none finished, a wiring mistake (the default configuration fails to
    build) or else the trials' errors are raised."""
    if not completed_trials(study):
        try:  # a wiring mistake is the error to report (the trials may predate it)
            trial.graph.build(trial.fixed(HyperParameters()), trial.specs)
        finally:
            free_memory()
        errors = {t.number: t.user_attrs.get("error", t.state.name) for t in study.trials}
        raise RuntimeError(f"No trial finished successfully, so there is no model to export. "
                           f"Trial errors: {errors}. Raise time_limit or max_trials, or fix the errors above.")
    return study.best_trial
