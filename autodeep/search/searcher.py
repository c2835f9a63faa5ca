"""Searcher: the trial loop over an Optuna study.

It knows nothing of Keras. The task layer gives it two callables:
``probe(hp)`` declares the search space for one set of values (used to plan
greedy and known-good trials) and ``run_trial(number, hp, reporter, deadline)``
trains one candidate and returns its score.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import statistics
import sys
import time
import traceback
import warnings
from typing import Any, Callable

import optuna

from autodeep.graph.graph import GraphError
from autodeep.graph.hyperparameters import HyperParameters
from autodeep.search import cohorts, morphing
from autodeep.search.interruptions import interrupt_trial, plan_index
from autodeep.search.space import trial_source
from autodeep.search.strategies import make_pruner, make_sampler, planned_values
from autodeep.search.tuners import resolve_tuner

TrialState = optuna.trial.TrialState
optuna.logging.set_verbosity(optuna.logging.WARNING)


class TrialPruned(Exception):
    """Raised by ``run_trial`` when the pruner stopped the trial early."""


class SearchFailed(RuntimeError):
    """The search cannot go on (for example too many consecutive failed trials)."""


class Searcher:
    """Runs trials of one study until ``max_trials`` are finished or the deadline comes.

    Args:
        tuner: ``"greedy"``, ``"bayesian"`` (Gaussian process), ``"tpe"``, ``"random"``,
            ``"hyperband"`` (TPE with Hyperband pruning on per-epoch scores) or ``"morph"`` (network
            morphism: children of the best trials inherit their weights, ``autodeep.search.morphing``);
            or a tuner class or object naming one (``ak.Greedy``, ``ak.NetworkMorphism(...)``).
        max_trials: Trials to finish, counting those of an earlier run of the same study.
        direction: ``"minimize"`` or ``"maximize"`` the objective.
        storage: Optuna storage URL (``sqlite:///...``, ``postgresql://...``).
        study_name: The study's name inside the storage.
        seed: Seeds the sampler and the greedy planner: same seed, same configurations.
        initial_configs: Known-good values tried first (all tuners but random).
        max_consecutive_failures: Stop with ``SearchFailed`` after this many failures in a row.
        verbose: 1 prints a line per trial, 0 is silent.
        progress: An ``autodeep.search.progress.SearchProgress`` the trial lines go to (it also shows a live
            status on a terminal); plain lines without a time budget when None.
        fail_running: Mark every trial left RUNNING interrupted when the study opens (a crashed
            single-process search). Only when one process runs the search: with several
            workers, a dead worker's trial is found by its missing heartbeat instead.
        heartbeat_interval, grace_period: Seconds between a running trial's heartbeats, and
            without one before any process marks the trial interrupted (RDB storages only).
        wait_for_workers: After the budget, wait until trials that other workers still run
            have finished (the process that exports the model does).

    Several processes (or machines) may run the same study at once: the budget
    counts finished and running trials, so together they do not overshoot, and a
    trial planned by the greedy/known-good strategy is keyed by its own trial
    number, so two workers never plan the same configuration at the same moment.

    ``run_trial`` returns the score, or ``(score, attributes)`` where the
    attributes (JSON values) are stored with the trial; the trial also records the
    ``worker`` (``host:pid``) that ran it.

    A trial cut off by its process's death (kill -9, Ctrl-C, a worker without heartbeats) is
    recorded as interrupted, does not count against ``max_trials``, and its configuration runs
    again (see ``autodeep.search.interruptions``).

    Example:
        >>> from autodeep.search import Searcher
        >>> def probe(hp): return hp.Float("x", -2.0, 2.0, default=0.5)
        >>> def run_trial(number, hp, reporter, deadline): return (probe(hp) - 1.0) ** 2
        >>> study = Searcher("random", max_trials=5, direction="minimize", verbose=0, seed=0).run(probe, run_trial)
        >>> len(study.trials)
        5
    """

    def __init__(self, tuner: str = "greedy", max_trials: int = 10, direction: str = "minimize",
                 storage: str | None = None, study_name: str = "autodeep", seed: int | None = None,
                 initial_configs: list[dict] | None = None, max_consecutive_failures: int = 3,
                 max_epochs: int = 100, verbose: int = 1, fail_running: bool = True,
                 heartbeat_interval: int = 10, grace_period: int | None = None, wait_for_workers: bool = True,
                 progress=None):
        self.tuner, given = resolve_tuner(tuner)  # a strategy name, or a tuner object
        self.morph = getattr(given, "morph_settings", None) or morphing.MorphSettings()  # tuner="morph"'s
        self.max_trials = max_trials
        self.direction = direction
        self.storage = storage
        self.study_name = study_name
        self.seed = seed
        self.initial_configs = list(initial_configs or [])
        self.max_consecutive_failures = max_consecutive_failures
        self.max_epochs = max_epochs
        self.verbose = verbose
        self.fail_running = fail_running
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.wait_for_workers = wait_for_workers
        from autodeep.search.progress import SearchProgress

        self.progress = progress if progress is not None else SearchProgress(max_trials)

    def open_storage(self):
        """The Optuna storage: an RDB URL gets heartbeats (so a dead worker's trial is failed)."""
        url = self.storage
        if not isinstance(url, str) or "://" not in url or url.startswith("journal"):
            return url
        engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        grace = self.grace_period or max(3 * self.heartbeat_interval, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                              heartbeat_interval=self.heartbeat_interval, grace_period=grace)

    def open_study(self) -> optuna.Study:
        """Create the study, or load it to resume; trials left running by a crash are marked interrupted and
        queued to run again."""
        study = optuna.create_study(
            storage=self.open_storage(), study_name=self.study_name, load_if_exists=True, direction=self.direction,
            sampler=make_sampler(self.tuner, self.seed), pruner=make_pruner(self.tuner, self.max_epochs))
        if self.fail_running:
            for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                self._interrupted(study, trial, "the process stopped mid-trial")
        return study

    def _interrupted(self, study: optuna.Study, trial, why: str) -> None:
        rerun = interrupt_trial(study, trial, why)
        if self.verbose and rerun is not None:
            print(f"[autodeep] trial {trial.number} was interrupted ({why}): it does not count against "
                  f"max_trials, and its configuration runs again as trial {rerun}", file=sys.stdout, flush=True)

    def run(self, probe: Callable[[HyperParameters], Any], run_trial: Callable[..., float],
            deadline: float | Callable[[optuna.Study], float] | None = None, cohort=None) -> optuna.Study:
        """Run trials until the budget is spent; return the study.

        ``deadline`` is a ``time.time()`` after which no trial runs, or a callable
        ``study -> time`` asked before each trial (so the caller can keep time back
        for work after the search that depends on the trials so far). ``cohort`` (a ``TrialRun`` of
        ``autodeep.fit.trial``, or any object with its ``cohort_size``, ``cohort_names(hp)`` and ``run_cohort(numbers,
        hps, deadline)``) trains each planned trial with its siblings (``autodeep.search.cohorts``) when its
        ``cohort_size`` is over 1 and the tuner neither prunes (hyperband) nor morphs.
        """
        study = self.open_study()
        self.started = time.time()  # tuner="morph" shares the search time out from here
        deadline_at = deadline if callable(deadline) else (lambda _study: deadline)
        if cohort is not None and (cohort.cohort_size < 2 or self.tuner in ("hyperband", "morph")):
            cohort = None
        while self._run_trials(study, probe, run_trial, deadline_at, cohort) == "budget" and self.wait_for_workers:
            self.wait_for_running(study, deadline_at(study))
            if len(_finished(study)) + len(_running(study)) >= self.max_trials:
                break  # else a trial other workers ran was interrupted: its rerun is due
        return study

    def _run_trials(self, study: optuna.Study, probe, run_trial, deadline_at, cohort=None) -> str:
        """Ask and run trials until the budget is used (``"budget"``) or no time is left (``"time"``)."""
        while True:
            self.fail_stale_trials(study)
            deadline = deadline_at(study)
            finished = _finished(study)
            if len(finished) + len(_running(study)) >= self.max_trials:
                return "budget"
            if deadline is not None and not self._time_for_another(finished, deadline):
                return "time"
            self._check_failures(finished)
            with warnings.catch_warnings():  # heartbeats are sent by _heartbeat below, not by study.optimize
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask()
            if self._over_budget(study, trial):  # another worker asked at the same moment
                _tell_overflow(study, trial)
                return "budget"
            if cohort is not None:
                self._run_cohort(study, trial, probe, cohort, deadline)
            else:
                self._run_one(study, trial, probe, run_trial, deadline)

    def _run_one(self, study: optuna.Study, trial: optuna.Trial, probe, run_trial, deadline) -> None:
        """Run one asked trial and record its outcome (score, pruned, failed, or interrupted and re-raised)."""
        trial.set_user_attr("worker", WORKER_ID)
        t0 = time.time()
        try:
            with _heartbeat(study, trial):
                children_now = self.tuner == "morph" and morphing.children_now(study, deadline, self.started,
                                                                                self.morph)
                trial, plan = self._plan(study, trial, probe, children_now)
                hp = HyperParameters(source=trial_source(trial))
                hp.lineage = self._lineage(study, trial, plan)
                reporter = _reporter(trial) if self.tuner == "hyperband" else None
                outcome = run_trial(trial.number, hp, reporter,
                                    morphing.trial_deadline(deadline, hp.lineage, t0, self.started, self.morph))
        except (KeyboardInterrupt, SystemExit):  # the process stops: the trial did not fail by its own error
            self._interrupted(study, study._storage.get_trial(trial._trial_id), "the process was stopped")
            raise
        except Exception as error:
            outcome = error
        self._record(study, trial, outcome, t0)

    def _run_cohort(self, study: optuna.Study, trial: optuna.Trial, probe, cohort, deadline) -> None:
        """Run one asked trial and its siblings together (``autodeep.search.cohorts``); record each outcome."""
        trial.set_user_attr("worker", WORKER_ID)
        t0 = time.time()
        trials = [trial]
        try:
            with _heartbeat(study, trial):
                trial, _ = self._plan(study, trial, probe)
                hp = HyperParameters(source=trial_source(trial))
                probe(hp)
                trials = [trial, *self._ask_siblings(study, trial, hp, cohort)]
            with contextlib.ExitStack() as beats:
                for member in trials:
                    beats.enter_context(_heartbeat(study, member))
                outcomes = cohort.run_cohort([t.number for t in trials],
                                             [HyperParameters(source=trial_source(t)) for t in trials], deadline)
        except (KeyboardInterrupt, SystemExit):
            for member in trials:
                self._interrupted(study, study._storage.get_trial(member._trial_id), "the process was stopped")
            raise
        except Exception as error:
            outcomes = [error] * len(trials)
        for member, outcome in zip(trials, outcomes):
            self._record(study, member, outcome, t0)

    def _ask_siblings(self, study: optuna.Study, leader: optuna.Trial, hp: HyperParameters, cohort) -> list:
        """Ask the siblings of ``leader`` (planned as ``hp``), as many as the cohort and the budget hold."""
        room = self.max_trials - len(_finished(study)) - len(_running(study))
        names = cohort.cohort_names(hp)
        siblings = []
        for values in cohorts.sibling_values(hp.values, hp.space, names, min(cohort.cohort_size - 1, room)
                                             if names else 0):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                sibling = study.ask()
            if self._over_budget(study, sibling):
                _tell_overflow(study, sibling)
                break
            sibling.set_user_attr("worker", WORKER_ID)
            sibling.set_user_attr(cohorts.SIBLING_OF, leader.number)
            study._storage.set_trial_system_attr(sibling._trial_id, "fixed_params", values)
            siblings.append(optuna.trial.Trial(study, sibling._trial_id))
        return siblings

    def _record(self, study: optuna.Study, trial: optuna.Trial, outcome, t0: float) -> None:
        """Record a trial's outcome: ``run_trial``'s score or ``(score, attributes)``, or the exception that ended
        it (pruned, failed; a wiring mistake is raised, it uses no budget)."""
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            score, attrs = (outcome if isinstance(outcome, tuple) else (outcome, {}))
            score = float(score)
            for key, value in attrs.items():
                trial.set_user_attr(key, value)
            if not math.isfinite(score):
                raise FloatingPointError(f"the objective is {score}")
        except TrialPruned:
            trial.set_user_attr("seconds", time.time() - t0)
            study.tell(trial, state=TrialState.PRUNED)
            self._log(study, trial.number, "pruned", t0)
            return
        except GraphError as error:  # a wiring mistake: nothing trained, so no budget is used
            trial.set_user_attr("error", f"GraphError: {error}")
            trial.set_user_attr("not_counted", True)
            study.tell(trial, state=TrialState.FAIL)
            raise
        except Exception as error:  # a failed trial is recorded and the search goes on
            trial.set_user_attr("error", f"{type(error).__name__}: {error}")
            trial.set_user_attr("traceback", "".join(traceback.format_exception(error))[-4000:])
            trial.set_user_attr("seconds", time.time() - t0)
            study.tell(trial, state=TrialState.FAIL)
            self._log(study, trial.number, f"failed ({type(error).__name__}: {error})", t0)
            return
        trial.set_user_attr("seconds", time.time() - t0)
        study.tell(trial, score)
        self._log(study, trial.number, f"score={score:.5g}{morphing.lineage_text(attrs)}", t0)

    def _plan(self, study: optuna.Study, trial: optuna.Trial, probe, children_now: bool = False) \
            -> tuple[optuna.Trial, dict | None]:
        """Fix the planned values (known-good, greedy, or a morph child's parent's) of a trial that was just
        asked; return it and, for a morph child, its plan (``autodeep.search.morphing``). ``children_now``: a
        morph search plans a child even if known-good starts are left (``autodeep.search.morphing.children_now``)."""
        if trial._fixed_params:  # a trial the user enqueued keeps its values; a rerun, its original's plan too
            return trial, morphing.replanned(study, trial) if self.tuner == "morph" else None
        index = plan_index(study.get_trials(deepcopy=False), trial.number)  # a rerun takes its original's place
        plan = None
        if self.tuner == "morph" and (children_now or index >= len(self.initial_configs)):
            plan = morphing.plan_child(study, index, self.seed, self.morph)
        if plan is not None:
            values = next(t for t in study.get_trials(deepcopy=False) if t.number == plan["parent"]).params
        else:
            values = planned_values(self.tuner, study, probe, self.initial_configs, self.seed, number=trial.number,
                                    index=index)
        if values is None:
            return trial, plan
        study._storage.set_trial_system_attr(trial._trial_id, "fixed_params", dict(values))
        return optuna.trial.Trial(study, trial._trial_id), plan  # re-read: its suggestions now return the plan

    def _lineage(self, study: optuna.Study, trial: optuna.Trial, plan: dict | None) -> dict | None:
        """What a morph search's trial inherits (``{}``: from scratch); ``None`` in other searches."""
        if self.tuner != "morph":
            return None
        if plan:
            trial.set_user_attr(morphing.PARENT, plan["parent"])
            trial.set_user_attr(morphing.PLAN, plan)
        return morphing.lineage(study, plan)

    def _over_budget(self, study: optuna.Study, trial: optuna.Trial) -> bool:
        """Whether ``trial`` is beyond ``max_trials`` once earlier-numbered trials are counted."""
        earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number
                   and t.state != TrialState.WAITING and _counted(t)]
        return len(earlier) >= self.max_trials

    def wait_for_running(self, study: optuna.Study, deadline: float | None = None, poll: float = 0.5) -> None:
        """Wait until no trial is running (other workers' included); dead workers' trials fail by heartbeat."""
        if not _heartbeat_enabled(study):
            return
        while _running(study) and (deadline is None or time.time() < deadline):
            time.sleep(poll)
            self.fail_stale_trials(study)

    def fail_stale_trials(self, study: optuna.Study) -> None:
        """Mark interrupted the running trials whose worker stopped sending heartbeats (RDB storages), and queue
        their configurations to run again."""
        if not _heartbeat_enabled(study):
            return
        storage = study._storage
        for trial_id in storage._get_stale_trial_ids(study._study_id):  # what optuna.storages.fail_stale_trials does
            self._interrupted(study, storage.get_trial(trial_id), "its worker stopped sending heartbeats")

    def _time_for_another(self, finished: list, deadline: float) -> bool:
        remaining = deadline - time.time()
        durations = [t.user_attrs["seconds"] for t in finished if "seconds" in t.user_attrs]
        typical = statistics.median(durations[-5:]) if durations else 0.0
        return remaining > max(2.0, 0.35 * typical)

    def _check_failures(self, finished: list) -> None:
        n = self.max_consecutive_failures
        if n and len(finished) >= n and all(t.state == TrialState.FAIL for t in finished[-n:]):
            last = finished[-1].user_attrs.get("error", "unknown error")
            raise SearchFailed(
                f"The search stopped: the last {n} trials failed (max_consecutive_failures={n}). "
                f"Last error: {last}. Each trial's error is recorded in the study's user attributes.")

    def _log(self, study, number, outcome, t0) -> None:
        if not self.verbose:
            return
        try:
            best = (study.best_value, study.best_trial.number)
        except ValueError:
            best = None
        self.progress.trial_ended(number, outcome, time.time() - t0, done=len(_finished(study)), best=best,
                                  max_trials=self.max_trials)


#: Who runs a trial, recorded as its ``worker`` user attribute.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def _finished(study: optuna.Study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and _counted(t)]


def _tell_overflow(study: optuna.Study, trial: optuna.Trial) -> None:
    """Record ``trial``, asked beyond the budget (other workers used it), as not run and not counted."""
    trial.set_user_attr("overflow", True)
    trial.set_user_attr("error", "not run: the budget was used by other workers")
    study.tell(trial, state=TrialState.FAIL)


def _counted(trial) -> bool:
    """Whether a trial uses the budget: not one asked beyond it, nor one a wiring mistake stopped."""
    return not (trial.user_attrs.get("overflow") or trial.user_attrs.get("not_counted"))


def _running(study: optuna.Study) -> list:
    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def _heartbeat_enabled(study: optuna.Study) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled  # the check study.optimize makes

    return is_heartbeat_enabled(study._storage)


@contextlib.contextmanager
def _heartbeat(study: optuna.Study, trial: optuna.Trial):
    """Record the trial's heartbeat in a thread while it runs (RDB storages with a heartbeat)."""
    if not _heartbeat_enabled(study):
        yield
        return
    from optuna.storages._heartbeat import get_heartbeat_thread  # what study.optimize uses

    with get_heartbeat_thread(trial._trial_id, study._storage):
        yield


def _reporter(trial: optuna.Trial) -> Callable[[int, float], bool]:
    def report(step: int, value: float) -> bool:
        if not math.isfinite(value):
            return False
        trial.report(value, step)
        return trial.should_prune()

    return report
