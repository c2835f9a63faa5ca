"""Trials trained together (``cohort_size``): the Searcher's siblings on a cheap objective (any backend), and the
JAX cohort trainer and an ``AutoModel`` search with cohorts in a JAX subprocess (Keras fixes its backend at
import; the suite runs on torch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

import autodeep as ak
from autodeep.search import Searcher

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL
RATES = [1e-3, 3e-3, 3e-4, 1e-4]


def probe(hp):
    return hp.Choice("units", [8, 16, 32], default=8), hp.Choice("learning_rate", RATES, default=1e-3)


class Cohort:
    """A cohort on a cheap objective: what ``TrialRun`` gives the Searcher, recording each call."""

    cohort_size = 3

    def __init__(self, fail_rate=None):
        self.calls, self.fail_rate = [], fail_rate

    def cohort_names(self, hp):
        return ["learning_rate"]

    def run_cohort(self, numbers, hps, deadline):
        self.calls.append(numbers)
        outcomes = []
        for hp in hps:
            units, rate = probe(hp)
            outcomes.append(ValueError("diverged") if rate == self.fail_rate else units * rate)
        return outcomes


def test_a_cohort_is_a_planned_trial_and_siblings_that_differ_only_in_the_learning_rate():
    cohort = Cohort()
    configs = [{"units": 16}, {"units": 32, "learning_rate": 3e-4}]
    study = Searcher("greedy", max_trials=7, direction="minimize", seed=0, verbose=0,
                     initial_configs=configs).run(probe, None, cohort=cohort)
    trials = study.trials
    assert [len(c) for c in cohort.calls] == [3, 3, 1]  # the last cohort is cut to the budget of 7
    assert [t.state for t in trials] == [COMPLETE] * 7
    assert [t.user_attrs.get("sibling_of") for t in trials] == [None, 0, 0, None, 3, 3, None]
    # the known-good configurations lead the first two cohorts: siblings take no place in the planned order
    assert trials[0].params == {"units": 16, "learning_rate": 1e-3}
    assert trials[3].params == {"units": 32, "learning_rate": 3e-4}
    for leader, siblings in ((trials[0], trials[1:3]), (trials[3], trials[4:6])):
        assert {t.params["units"] for t in siblings} == {leader.params["units"]}
        rates = [leader.params["learning_rate"], *(t.params["learning_rate"] for t in siblings)]
        assert len(set(rates)) == 3  # each sibling another learning rate
    assert all(t.value == t.params["units"] * t.params["learning_rate"] for t in trials)


def test_a_failed_member_is_recorded_and_its_cohort_and_the_search_go_on():
    cohort = Cohort(fail_rate=3e-3)
    study = Searcher("greedy", max_trials=6, direction="minimize", seed=0, verbose=0,
                     initial_configs=[{}, {"units": 32}]).run(probe, None, cohort=cohort)
    failed = [t for t in study.trials if t.state == FAIL]
    assert failed and all(t.params["learning_rate"] == 3e-3 for t in failed)
    assert all("ValueError: diverged" in t.user_attrs["error"] for t in failed)
    assert len([t for t in study.trials if t.state == COMPLETE]) == 6 - len(failed)


@pytest.mark.parametrize("tuner", ["hyperband", "morph"])
def test_pruning_and_morphing_searches_run_trials_one_by_one(tuner):
    cohort = Cohort()
    study = Searcher(tuner, max_trials=2, direction="minimize", seed=0, verbose=0).run(
        probe, lambda number, hp, reporter, deadline: float(probe(hp)[0]), cohort=cohort)
    assert cohort.calls == [] and len(study.trials) == 2


def test_cohort_size_below_one_is_refused_naming_the_argument(credit_g, tmp_path):
    model = ak.StructuredDataClassifier(max_trials=1, cohort_size=0, directory=str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match=r"cohort_size must be an integer >= 1; received 0"):
        model.fit(credit_g.head(50), "class")


def test_a_trial_without_siblings_builds_as_many_models_as_without_cohorts(credit_g, tmp_path, monkeypatch):
    """On torch no trial has siblings (the cohort trainer is JAX's): each trial's model is built once, by ``run``."""
    builds = []
    build = ak.graph.Graph.build
    monkeypatch.setattr(ak.graph.Graph, "build",
                        lambda self, *a, **k: builds.append(k.get("compile", True)) or build(self, *a, **k))
    counts = {}
    for size in (1, 4):
        builds.clear()
        model = ak.StructuredDataClassifier(max_trials=2, epochs=1, cohort_size=size, refit=False, seed=0, verbose=0,
                                            directory=str(tmp_path / str(size)))
        model.fit(credit_g.head(120), "class")
        trials = model.study_.trials
        assert [t.state for t in trials] == [COMPLETE, COMPLETE] and not any("cohort" in t.user_attrs for t in trials)
        counts[size] = sum(builds)  # compiled models (the planner's probes are not compiled)
    assert counts[4] == counts[1] >= 2


JAX_SCRIPT = textwrap.dedent("""
    import json, sys, tempfile
    import numpy as np
    import autodeep as ak, keras
    from autodeep.train.cohort import fit_cohort

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] ** 2 + rng.normal(scale=0.3, size=(300, 1)) > 0.5).astype("float32")
    fit, val = (x[:240], y[:240]), (x[240:], y[240:])

    def model(seed, learning_rate):
        keras.utils.set_random_seed(seed)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.1),
                              keras.layers.Dense(1, activation="sigmoid")])
        m.compile(keras.optimizers.AdamW(learning_rate, weight_decay=1e-4), "binary_crossentropy")
        return m

    out = {}
    trio = [model(1, 1e-2), model(2, 3e-3), model(3, 0.0)]
    results = fit_cohort(trio, *fit, val, batch_size=32, patience=4, seed=5)
    alone = model(2, 3e-3)
    [single] = fit_cohort([alone], *fit, val, batch_size=32, patience=4, seed=5)
    out["same_as_alone"] = {
        "weights": max(float(np.abs(a - b).max()) for a, b in zip(trio[1].get_weights(), alone.get_weights())),
        "epochs": [results[1].epochs_run, single.epochs_run], "best": [results[1].best_epoch, single.best_epoch]}
    # four members, two of which stop at once: the two left are dropped to a stack of two (no compile margin)
    from autodeep.train import cohort
    compactions, compact = [], cohort._compact
    cohort._compact = lambda *args: (compactions.append(len(args[1])), compact(*args))[1]
    cohort.COMPILE_MARGIN = 0.0
    quartet = [model(4, 0.0), model(2, 3e-3), model(5, 0.0), model(6, 1e-2)]
    compacted = fit_cohort(quartet, *fit, val, batch_size=32, patience=4, seed=5)
    out["compacted"] = {
        "stacks": compactions,
        "weights": max(float(np.abs(a - b).max()) for a, b in zip(quartet[1].get_weights(), alone.get_weights())),
        "epochs": [compacted[1].epochs_run, single.epochs_run],
        "frozen": [(r.epochs_run, r.best_epoch) for r in compacted[::2]]}
    out["members"] = [{"epochs": r.epochs_run, "best": r.best_epoch, "stopped": r.stopped, "score": r.score,
                       "evaluated": float(m.evaluate(*val, verbose=0)),
                       "predictions": float(np.abs(m.predict(val[0], verbose=0) - r.validation_predictions).max())}
                      for m, r in zip(trio, results)]

    # folds: member 0 trains on rows 0-79 (all positive), member 1 on 100-179 and 190-199 (all negative); each is
    # stopped on its own held-out rows (20 and 10 of them)
    xf = rng.normal(size=(200, 4)).astype("float32")
    yf = (np.arange(200) < 100).astype("float32")[:, None]
    folds = [(np.arange(80), np.arange(80, 100)), (np.r_[100:180, 190:200], np.arange(180, 190))]
    pair = [model(7, 1e-2), model(8, 1e-2)]
    bagged = fit_cohort(pair, xf, yf, batch_size=32, patience=4, seed=5, folds=folds)
    out["folds"] = [{"mean_on_all": float(m.predict(xf, verbose=0).mean()), "held_out": len(r.validation_predictions),
                     "predictions": float(np.abs(m.predict(xf[stop], verbose=0) - r.validation_predictions).max()),
                     "score": r.score, "evaluated": float(m.evaluate(xf[stop], yf[stop], verbose=0))}
                    for m, r, (_, stop) in zip(pair, bagged, folds)]

    df = ak.datasets.load_credit_g().sample(240, random_state=0)
    clf = ak.StructuredDataClassifier(max_trials=4, cohort_size=4, seed=0, directory=tempfile.mkdtemp(), verbose=0,
                                      bagging_folds=0, retrieval=False)
    clf.fit(df, "class")
    out["search"] = [{"state": t.state.name, "sibling_of": t.user_attrs.get("sibling_of"), "params": t.params,
                      "cohort": t.user_attrs.get("cohort"),
                      "saved": (clf.project_.trial_dir(t.number) / "model.weights.h5").exists()}
                     for t in clf.study_.trials]
    out["proba_rows"] = clf.predict_proba(df.head(5)).shape[0]

    import autodeep.fit.final as final
    together, fit_together = [], final.fit_cohort
    final.fit_cohort = lambda models, *a, **k: (together.append(len(k["folds"])), fit_together(models, *a, **k))[1]
    held_out, predict_fold = [], final.fold_prediction

    def fold_prediction(model, x, stop, outputs=None):  # the outputs the cohort returned, against a predict
        rows, given = predict_fold(model, x, stop, outputs)
        held_out.append([outputs is not None, float(np.abs(given - predict_fold(model, x, stop)[1]).max())])
        return rows, given

    final.fold_prediction = fold_prediction
    bagged = ak.StructuredDataClassifier(max_trials=1, bagging_folds=3, seed=0, directory=tempfile.mkdtemp(),
                                         verbose=0, retrieval=False).fit(df, "class")
    out["bagged"] = {"together": together, "final": bagged.predictor_.manifest["info"]["final"], "held_out": held_out,
                     "proba_rows": bagged.predict_proba(df.head(5)).shape[0]}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_member_trains_in_its_cohort_exactly_as_alone(on_jax):
    same = on_jax["same_as_alone"]
    assert same["weights"] < 1e-5
    assert same["epochs"][0] == same["epochs"][1] and same["best"][0] == same["best"][1]


def test_members_that_stopped_are_dropped_from_the_stack_without_changing_the_others(on_jax):
    compacted = on_jax["compacted"]
    assert compacted["stacks"] and compacted["stacks"][0] == 4  # a stack of four was compacted
    assert compacted["weights"] < 1e-5 and compacted["epochs"][0] == compacted["epochs"][1]
    assert compacted["frozen"] == [[5, 1], [5, 1]]  # each frozen member: 5 epochs, the first its best


def test_each_member_keeps_its_best_weights_and_stops_on_its_own(on_jax):
    moving, _, frozen = on_jax["members"]
    for member in on_jax["members"]:
        assert member["evaluated"] == pytest.approx(member["score"], abs=1e-4)  # the best weights were written back
        assert member["predictions"] < 1e-5  # and the validation outputs are those of the best epoch
    assert frozen["best"] == 1 and frozen["epochs"] == 1 + 4 and frozen["stopped"] == "early_stopping"
    assert moving["epochs"] > frozen["epochs"] and moving["score"] < frozen["score"]


def test_bagged_folds_train_together_each_on_its_own_rows_and_stops_on_its_own_held_out_rows(on_jax):
    positive, negative = on_jax["folds"]  # trained on all-positive and all-negative rows of the same features
    assert positive["mean_on_all"] > 0.9 and negative["mean_on_all"] < 0.1
    assert [positive["held_out"], negative["held_out"]] == [20, 10]  # its own held-out rows, not the padding
    for fold in on_jax["folds"]:
        assert fold["predictions"] < 1e-5  # outputs of the best epoch, whose weights were written back
        assert fold["evaluated"] == pytest.approx(fold["score"], abs=1e-4)  # the loss of its own held-out rows


def test_on_jax_a_configurations_bagged_folds_train_as_one_program(on_jax):
    bagged = on_jax["bagged"]
    assert bagged["together"] == [3]  # one fit_cohort call for the three folds
    assert bagged["final"]["member_kinds"] == ["bagged"] and bagged["final"]["models_per_member"] == [4]
    assert bagged["proba_rows"] == 5
    # the folds' out-of-fold predictions are the outputs fit_cohort returned, not predicted again, and equal to them
    assert [given for given, _ in bagged["held_out"]] == [True] * 3 and max(d for _, d in bagged["held_out"]) < 1e-5


def test_a_search_with_cohorts_records_each_member_as_its_own_trial(on_jax):
    trials = on_jax["search"]
    assert [t["state"] for t in trials] == ["COMPLETE"] * 4 and all(t["saved"] for t in trials)
    assert [t["sibling_of"] for t in trials] == [None, 0, 0, 0]
    assert all(t["cohort"] == [0, 1, 2, 3] for t in trials)  # trained together, not one by one
    assert len({t["params"]["learning_rate"] for t in trials}) == 4
    leader = {k: v for k, v in trials[0]["params"].items() if not k.endswith(("learning_rate", "frequency_scale"))}
    for sibling in trials[1:]:
        assert {k: v for k, v in sibling["params"].items() if k in leader} == leader
    assert on_jax["proba_rows"] == 5


def test_the_cohort_trainers_doctests_pass_on_jax():
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
                           str(root / "autodeep" / "train" / "cohort.py")], capture_output=True, text=True, env=env,
                          cwd=root, timeout=600)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout[-3000:]
