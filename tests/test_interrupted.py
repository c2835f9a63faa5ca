"""Trials cut off by their process's death do not cost a trial: they are recorded as interrupted, their
configuration runs again in its planned place, and the budget counts only trials that ended on their own.

The kill -9 of a real search process is in tests/test_scale.py
(test_kill_9_mid_trial_then_resume_keeps_finished_trials_and_reruns_the_cut_off_one)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cloudpickle
import optuna
import pytest

from autodeep.search import Searcher
from autodeep.search.searcher import WORKER_ID
from autodeep.search.worker import publish_search, start_workers
from helpers import orphan_trial

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the worker process cannot import this file
REPO = Path(__file__).resolve().parents[1]

CONFIGS = [{"x": v} for v in (0.1, 0.2, 0.3, 0.4, 0.5)]


def probe(hp):
    return hp.Float("x", 0.0, 1.0, default=0.5)


def test_ctrl_c_mid_trial_reruns_its_configuration_in_its_place_and_twice_cut_off_counts(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    ran, stop_at = [], {1, 2}  # the user stops the search in trial 1, then again in its rerun (trial 2)

    def objective(number, hp, reporter, deadline):
        x = probe(hp)
        ran.append((number, x))
        if number in stop_at:
            raise KeyboardInterrupt
        return (x - 0.3) ** 2

    def search():
        return Searcher("greedy", max_trials=4, storage=url, seed=0, verbose=0,
                        initial_configs=CONFIGS).run(probe, objective)

    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            search()
    study = search()
    assert ran == [(0, 0.1), (1, 0.2), (2, 0.2), (3, 0.3), (4, 0.4)]
    trials = study.trials
    assert trials[1].user_attrs["interrupted"] and trials[1].user_attrs["not_counted"]
    assert trials[2].user_attrs["rerun_of"] == 1 and trials[2].user_attrs["interrupted"]
    # cut off a second time: counted as failed and not run again (it may be what kills its process)
    assert "not_counted" not in trials[2].user_attrs and "2 times" in trials[2].user_attrs["error"]
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "FAIL", "COMPLETE", "COMPLETE"]
    # 3 complete + the failure that counts = max_trials; the known-good plan went on where it stood
    assert [t.params["x"] for t in trials[3:]] == [0.3, 0.4]


def test_a_trial_of_a_worker_that_died_at_the_end_is_rerun_by_the_process_that_waits(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    searcher = Searcher("random", max_trials=2, storage=url, seed=0, verbose=0, fail_running=False,
                        heartbeat_interval=1, grace_period=3)
    study, x_orphan = orphan_trial(searcher)  # another worker's trial: it chose its values, sent a heartbeat, died
    ran = []

    def objective(number, hp, reporter, deadline):
        ran.append((number, probe(hp)))
        return 0.0

    started = time.time()
    study = searcher.run(probe, objective)
    # trial 1 used the rest of the budget while the orphan still looked alive; once its heartbeat was
    # missing, the waiting process ran the orphan's configuration itself instead of ending one trial short
    assert [n for n, _ in ran] == [1, 2] and ran[1][1] == x_orphan
    assert time.time() - started >= 2.0
    assert study.trials[0].user_attrs["interrupted"] and "heartbeat" in study.trials[0].user_attrs["error"]
    assert study.trials[2].user_attrs["rerun_of"] == 0
    assert [t.state for t in study.trials[1:]] == [optuna.trial.TrialState.COMPLETE] * 2


def test_kill_9_of_a_worker_mid_trial_its_configuration_runs_again_elsewhere(tmp_path, monkeypatch):
    url, name = f"sqlite:///{tmp_path}/study.db", "w"
    searcher = Searcher("greedy", max_trials=3, storage=url, study_name=name, seed=0, verbose=0, fail_running=False,
                        heartbeat_interval=1, grace_period=3, initial_configs=CONFIGS)
    here = os.getpid()

    def run_trial(number, hp, reporter, deadline):
        x = probe(hp)
        if os.getpid() != here:
            time.sleep(600)  # the worker's trial: still running when it is killed
        return (x - 0.3) ** 2

    publish_search(searcher, SimpleNamespace(probe=probe, run=run_trial, cohort_size=1), None, tmp_path / "workers")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    worker = start_workers(1, url, name)[0]

    def workers_trial():
        trials = optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
        return [t for t in trials if t.state == optuna.trial.TrialState.RUNNING and "x" in t.params
                and t.user_attrs.get("worker") not in (None, WORKER_ID)]

    try:
        end = time.time() + 300
        while not workers_trial() and time.time() < end and worker.poll() is None:
            time.sleep(0.2)
        assert workers_trial(), "the worker never started a trial"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed = workers_trial()[0]
    study = searcher.run(probe, run_trial)  # this process finishes the search, as fit's process does
    trials = study.trials
    assert trials[killed.number].user_attrs["interrupted"] and "heartbeat" in trials[killed.number].user_attrs["error"]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3  # the dead worker's trial did not use the budget
    rerun = [t for t in complete if t.user_attrs.get("rerun_of") == killed.number]
    assert len(rerun) == 1 and rerun[0].params == killed.params
    # every known-good configuration ran once: the rerun kept the dead worker's, the others went on in order
    assert sorted(t.params["x"] for t in complete) == [0.1, 0.2, 0.3]
