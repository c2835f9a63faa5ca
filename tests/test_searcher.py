"""The Searcher on a cheap objective: budgets, strategies, failures, resume, determinism."""

import math
import time

import optuna
import pytest

from autodeep.search import SearchFailed, Searcher, TrialPruned


def probe(hp):
    x = hp.Float("x", -2.0, 2.0, default=0.5)
    kind = hp.Choice("kind", ["a", "b"], default="a")
    return x, kind


def objective(number, hp, reporter, deadline):
    x, kind = probe(hp)
    return (x - 1.0) ** 2 + (0.5 if kind == "a" else 0.0)


WORST = {"x": -2.0, "kind": "a"}  # the objective's maximum, 9.5; its minimum is 0 at x=1, kind "b"


@pytest.mark.parametrize("tuner", ["greedy", "random", "tpe", "bayesian"])
def test_each_tuner_runs_the_budget_and_explores(tuner, tmp_path):
    searcher = Searcher(tuner, max_trials=8, direction="minimize", seed=0, verbose=0,
                        storage=f"sqlite:///{tmp_path}/s.db", initial_configs=[WORST])
    study = searcher.run(probe, objective)
    assert len(study.trials) == 8
    params = [t.params for t in study.trials]
    assert len({(p["x"], p["kind"]) for p in params}) == 8  # eight different configurations
    assert {p["kind"] for p in params} == {"a", "b"}
    assert max(p["x"] for p in params) - min(p["x"] for p in params) > 2.0  # spread over the range [-2, 2]
    if tuner == "random":
        assert params[0] != WORST  # random ignores the known-good configurations
    else:
        assert params[0] == WORST and study.trials[0].value == 9.5  # the initial configuration comes first
        # then the search does better than the default configuration (x=0.5, kind "a": 0.75); seeded
        assert study.best_value < 0.5


def test_greedy_first_uses_initial_configs_then_mutates_the_best():
    configs = [{"x": 0.0, "kind": "b"}, {"x": 1.5}]
    study = Searcher("greedy", max_trials=6, direction="minimize", seed=1, verbose=0,
                     initial_configs=configs).run(probe, objective)
    assert study.trials[0].params == {"x": 0.0, "kind": "b"}
    assert study.trials[1].params == {"x": 1.5, "kind": "a"}   # unspecified -> default
    # every later trial is the best trial so far with exactly one of its two values redrawn
    for i, trial in enumerate(study.trials[2:], start=2):
        best = min(study.trials[:i], key=lambda t: t.value).params
        assert [k for k in best if trial.params[k] != best[k]] in (["x"], ["kind"]), (i, trial.params, best)


def test_greedy_goes_on_when_the_best_trial_searched_no_value():
    """A model with nothing left to search (every value fixed): greedy's later trials still run."""
    study = Searcher("greedy", max_trials=3, verbose=0, seed=0, initial_configs=[{}]).run(
        lambda hp: None, lambda number, hp, reporter, deadline: float(number))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3


def test_same_seed_same_sequence_of_configurations():
    def sequence(seed):
        study = Searcher("greedy", max_trials=6, direction="minimize", seed=seed, verbose=0,
                         initial_configs=[{}]).run(probe, objective)
        return [t.params for t in study.trials]

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)


def test_failed_trial_is_recorded_and_search_goes_on():
    calls = []

    def flaky(number, hp, reporter, deadline):
        calls.append(number)
        if number == 1:
            raise RuntimeError("out of memory (simulated)")
        if number == 2:
            return math.nan
        return objective(number, hp, reporter, deadline)

    study = Searcher("random", max_trials=5, direction="minimize", seed=0, verbose=0).run(probe, flaky)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 2 and len(study.trials) == 5
    assert "out of memory" in study.trials[1].user_attrs["error"]
    assert "nan" in study.trials[2].user_attrs["error"]


def test_consecutive_failures_end_the_search_with_a_clear_message():
    def broken(number, hp, reporter, deadline):
        raise ValueError("bad block")

    with pytest.raises(SearchFailed, match="last 3 trials failed.*bad block"):
        Searcher("random", max_trials=10, direction="minimize", max_consecutive_failures=3,
                 verbose=0).run(probe, broken)


def test_resume_counts_finished_trials_and_reruns_interrupted_ones(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    first = Searcher("random", max_trials=3, direction="minimize", storage=url, seed=0, verbose=0)
    first.run(probe, objective)
    # simulate a crash mid-trial: a RUNNING trial left in the storage
    study = optuna.load_study(study_name="autodeep", storage=url)
    study.ask()
    ran = []

    def counting(number, hp, reporter, deadline):
        ran.append(number)
        return objective(number, hp, reporter, deadline)

    resumed = Searcher("random", max_trials=5, direction="minimize", storage=url, seed=0, verbose=0)
    study = resumed.run(probe, counting)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE"] * 3 + ["FAIL"] + ["COMPLETE"] * 2
    interrupted = study.trials[3].user_attrs
    assert interrupted["interrupted"] is True and interrupted["error"].startswith("interrupted")
    assert study.trials[4].user_attrs["rerun_of"] == 3  # the cut-off trial runs again ...
    assert ran == [4, 5]  # ... and does not count: 3 done + its rerun + one more reach 5


def test_deadline_stops_starting_trials():
    def slow(number, hp, reporter, deadline):
        time.sleep(0.3)
        return objective(number, hp, reporter, deadline)

    started = time.time()
    study = Searcher("random", max_trials=100, direction="minimize", verbose=0).run(
        probe, slow, deadline=time.time() + 2.5)
    assert time.time() - started < 3.0
    assert 1 <= len(study.trials) < 100


def test_hyperband_prunes_through_the_reporter():
    def epochs(number, hp, reporter, deadline):
        x, kind = probe(hp)
        value = 10.0
        for epoch in range(1, 10):
            value = (x - 1.0) ** 2 + 1.0 / epoch
            if reporter(epoch, value):
                raise TrialPruned()
        return value

    study = Searcher("hyperband", max_trials=20, direction="minimize", seed=0, max_epochs=9,
                     verbose=0).run(probe, epochs)
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
