"""Trials cut off by their process's death (kill -9, a crash, Ctrl-C, a worker that stopped sending heartbeats).

Such a trial did not fail by its own error, so it must not cost the user a trial. It is kept in the study,
marked ``interrupted`` (state FAIL, user attributes ``interrupted=True`` and ``not_counted=True``, an
``error`` saying why), and its configuration is queued to run again as a new trial that records
``rerun_of`` (the number of the trial it replaces) and ``reruns`` (how many times that configuration was
cut off). The rerun takes the interrupted trial's place in the planned order (:func:`plan_index`), so the
greedy and known-good plans of the trials after it are those of a search that never crashed.

A configuration cut off ``MAX_RERUNS + 1`` times is not run again and counts as failed: a trial that keeps
taking its process down (the kernel's out-of-memory killer, for one) must not stop the search from ending.
"""

from __future__ import annotations

import optuna

from autodeep.search.cohorts import SIBLING_OF

TrialState = optuna.trial.TrialState

INTERRUPTED = "interrupted"
RERUN_OF = "rerun_of"
RERUNS = "reruns"
MAX_RERUNS = 1


def interrupt_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial, why: str) -> int | None:
    """Mark ``trial`` (RUNNING) interrupted and queue its configuration again; return the new trial's number.

    Returns ``None`` when another process finished the trial first (it queued the rerun), or when the
    configuration was already cut off ``MAX_RERUNS`` times (then the trial counts as failed).

    Example:
        >>> study = optuna.create_study()
        >>> trial = study.ask(); x = trial.suggest_float("x", 0.0, 1.0)
        >>> number = interrupt_trial(study, study.trials[0], "the process stopped mid-trial")
        >>> rerun = study.trials[number]
        >>> rerun.state.name, rerun.user_attrs[RERUN_OF], rerun.system_attrs["fixed_params"] == {"x": x}
        ('WAITING', 0, True)
    """
    storage = study._storage
    reruns = int(trial.user_attrs.get(RERUNS, 0))
    again = reruns < MAX_RERUNS
    try:
        storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        if again:
            storage.set_trial_user_attr(trial._trial_id, "not_counted", True)
            storage.set_trial_user_attr(trial._trial_id, "error", f"interrupted: {why}; its configuration runs again")
        else:
            storage.set_trial_user_attr(trial._trial_id, "error", (
                f"interrupted: {why}, and this configuration was cut off {reruns + 1} times: counted as failed, not "
                f"run again (it may be what stops its process, e.g. by running out of memory)"))
        storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        return None  # another process finished it first, and queued its rerun
    if not again:
        return None
    params = trial.system_attrs.get("fixed_params") or trial.params
    template = optuna.trial.create_trial(
        state=TrialState.WAITING, system_attrs={"fixed_params": dict(params)},
        user_attrs={RERUN_OF: int(trial.user_attrs.get(RERUN_OF, trial.number)), RERUNS: reruns + 1})
    trial_id = storage.create_new_trial(study._study_id, template_trial=template)
    return storage.get_trial_number_from_id(trial_id)


def plan_index(trials: list, number: int) -> int:
    """Trial ``number``'s place in the planned order (known-good configurations, greedy's random draws).

    A rerun takes the place of the trial it replaces; any other trial comes after the earlier ones, reruns and
    cohort siblings (``autodeep.search.cohorts``) not counted. Without interruptions or cohorts it is the trial
    number.

    Example:
        >>> class T:
        ...     def __init__(self, number, **attrs): self.number, self.user_attrs = number, attrs
        >>> trials = [T(0), T(1, interrupted=True), T(2, rerun_of=1), T(3), T(4, sibling_of=3), T(5)]
        >>> [plan_index(trials, n) for n in range(6)]
        [0, 1, 1, 2, 3, 3]
    """
    by_number = {t.number: t for t in trials}
    trial = by_number.get(number)
    if trial is not None and RERUN_OF in trial.user_attrs:
        return plan_index(trials, int(trial.user_attrs[RERUN_OF]))
    return number - sum(1 for t in trials if t.number < number
                        and (RERUN_OF in t.user_attrs or SIBLING_OF in t.user_attrs))
