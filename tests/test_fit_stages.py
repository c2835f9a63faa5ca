"""The stages of ``AutoModel.fit`` (``autodeep.fit``), each on its own: settings, data preparation, the
time budget, one trial and what a worker receives, member selection, the final model."""

from __future__ import annotations

import ast
import pickle
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.fit.budget import EXPORT_SECONDS, FINAL_SHARE, SEARCH_SHARE, Budget
from autodeep.fit.members import select_members
from autodeep.fit.prepare import prepare_data
from autodeep.fit.settings import check_settings
from autodeep.fit.trial import TrialRun
from autodeep.graph import Graph, HyperParameters
from autodeep.search.worker import load_payload, publish_search
from autodeep.search import Searcher
from autodeep.storage import Project

PACKAGE = Path(ak.__file__).parent


def _regression_graph():
    node = ak.Input(name="x")
    return Graph([node], [ak.RegressionHead(name="y")(ak.DenseBlock(num_layers=1, num_units=8, dropout=0.0)(node))])


def _trial(attrs: dict):
    return SimpleNamespace(user_attrs=attrs)


# -- settings ----------------------------------------------------------------------------------
def test_constructor_stores_arguments_as_given_and_fit_checks_them(tmp_path):
    tuner = ak.RandomSearch(seed=7)
    model = ak.AutoModel(ak.Input(), ak.RegressionHead(), max_trials="3", tuner=tuner, directory=tmp_path)
    assert model.max_trials == "3" and model.tuner is tuner and model.seed is None  # nothing resolved yet
    with pytest.raises(TypeError, match="max_trials must be an integer >= 1; received '3' of type str"):
        model.fit(np.zeros((4, 1), "float32"), np.zeros(4))
    model.max_trials = 3
    settings = check_settings(model, epochs=2)
    assert (settings.max_trials, settings.tuner, settings.seed, settings.epochs) == (3, "random", 7, 2)


def test_unknown_keywords_name_the_closest_valid_one_and_autokeras_ones_are_accepted(tmp_path):
    with pytest.raises(TypeError, match="AutoModel\\(\\) got an unexpected keyword argument 'max_trial'; "
                                        "did you mean 'max_trials'\\?"):
        ak.AutoModel(ak.Input(), ak.RegressionHead(), max_trial=5)
    with pytest.raises(TypeError, match="'colum_types'; did you mean 'column_types'"):  # a subclass's own name
        ak.StructuredDataClassifier(colum_types={})
    model = ak.AutoModel(ak.Input(), ak.RegressionHead(), executions_per_trial=2, directory=tmp_path)
    with pytest.raises(TypeError, match="AutoModel.fit\\(\\) got an unexpected keyword argument 'epoch'; "
                                        "did you mean 'epochs'"):
        model.fit(np.zeros((4, 1), "float32"), np.zeros(4), epoch=1)


# -- prepare -----------------------------------------------------------------------------------
def test_prepare_data_splits_stratified_and_configures_the_heads():
    node = ak.StructuredDataInput(name="t")
    graph = Graph([node], [ak.ClassificationHead(name="c")(ak.StructuredDataBlock()(node))])
    x = pd.DataFrame({"a": np.arange(50.0), "b": ["p", "q"] * 25})
    y = np.array(["yes"] * 40 + ["no"] * 10)
    data = prepare_data(graph, [x], [y], None, 0.2, seed=0)
    assert (data.n_tr, data.n_va) == (40, 10)
    assert graph.heads[0].num_classes == 2
    assert sorted(np.asarray(data.targets_va).ravel().tolist()) == [0.0] * 2 + [1.0] * 8  # 8 "yes", 2 "no"
    arrays, targets = data.all_rows()
    assert len(targets) == 50 and {len(v) for v in arrays.values()} == {50}


def test_prepare_data_with_validation_rows_uses_them_as_given():
    graph = _regression_graph()
    x, x_val = np.random.rand(30, 2).astype("float32"), np.random.rand(7, 2).astype("float32")
    data = prepare_data(graph, [x], [x.sum(axis=1)], ([x_val], [x_val.sum(axis=1)]), 0.2, seed=0)
    assert (data.n_tr, data.n_va) == (30, 7)
    np.testing.assert_allclose(np.asarray(data.targets_va).ravel(), x_val.sum(axis=1), rtol=1e-6)


# -- budget ------------------------------------------------------------------------------------
def test_budget_keeps_back_a_share_then_the_best_trials_refit_or_folds():
    budget = Budget(started=1000.0, time_limit=100.0, refit=True, folds=0, n_tr=800, n_va=200)
    assert budget.search_deadline([]) == 1000.0 + 100.0 * SEARCH_SHARE
    best = _trial({"fit_seconds": 8.0, "epochs_run": 10, "best_epoch": 5})
    refit = 8.0 / 10 * 5 * 1000 / 800 * 1.15  # per epoch x best epoch x all rows / training rows x margin
    assert budget.refit_seconds(best) == pytest.approx(refit)
    assert budget.search_deadline([best], best) == pytest.approx(1100.0 - EXPORT_SECONDS - refit)
    slow = _trial({"fit_seconds": 80.0, "epochs_run": 1, "best_epoch": 1})
    assert budget.search_deadline([slow], slow) == pytest.approx(1100.0 - EXPORT_SECONDS)  # the refit cannot fit
    assert not Budget(time.time(), 100.0, True, 0, 800, 200).refit_fits(slow)  # 115 s needed
    bagged = Budget(started=1000.0, time_limit=100.0, refit=True, folds=5, n_tr=800, n_va=200)
    assert bagged.search_deadline([best], best) == pytest.approx(1100.0 - FINAL_SHARE * 100.0)  # 5 folds: 50 s
    quick = _trial({"fit_seconds": 1.0, "epochs_run": 10, "best_epoch": 5})
    # the bagging of three trials like it: enough to choose the ensemble again on their out-of-fold rows
    assert bagged.search_deadline([quick], quick) == pytest.approx(1100.0 - EXPORT_SECONDS - 3 * 5 * 1.0 * 1.15)
    assert Budget(0.0, None, True, 0, 10, 2).search_deadline([best], best) is None  # no time limit
    child = _trial({"fit_seconds": 8.0, "epochs_run": 10, "best_epoch": 5, "inherited_epochs": 15})
    assert budget.refit_seconds(child) == pytest.approx(4 * refit)  # trained from scratch: 20 epochs, not 5


def test_budget_says_whether_a_fold_or_refit_still_fits():
    trial = _trial({"fit_seconds": 10.0, "epochs_run": 1, "best_epoch": 1})
    now = time.time()
    assert Budget(now, 60.0, True, 5, 100, 25).fold_fits(trial)
    assert not Budget(now, 12.0, True, 5, 100, 25).fold_fits(trial)  # 11.5 s needed, 8 s left after export
    assert not Budget(now, 14.0, True, 0, 100, 25).refit_fits(trial)  # 14.4 s needed
    assert Budget(now, None, True, 0, 100, 25).refit_fits(trial)
    assert Budget(now, 130.0, True, 5, 100, 25).folds_together(trial, 5)  # 57.5 s in turn; 115 s of 126 s left
    assert not Budget(now, 100.0, True, 5, 100, 25).folds_together(trial, 5)  # 96 s left: in turn


# -- one trial, and what a worker receives -----------------------------------------------------
def _trial_run(tmp_path, **kwargs) -> TrialRun:
    graph = _regression_graph()
    x = np.random.default_rng(0).random((40, 2)).astype("float32")
    data = prepare_data(graph, [x], [x.sum(axis=1)], None, 0.25, seed=0)
    return TrialRun(graph, data.specs, {"learning_rate": 0.01}, data.arrays_tr, data.targets_tr, data.arrays_va,
                    data.targets_va, Project(tmp_path, "p"), epochs=1, seed=0, **kwargs)


def test_trial_run_trains_saves_and_is_exactly_what_a_worker_receives(tmp_path):
    run = _trial_run(tmp_path)
    score, attrs = run.run(0, HyperParameters(), reporter=None, deadline=None)
    assert np.isfinite(score) and attrs["epochs_run"] == 1 and attrs["params"] > 0
    assert len(run.project.load_val_predictions(0)) == 1
    assert (run.project.trial_dir(0) / "model.weights.h5").exists()
    searcher = Searcher("random", max_trials=1, direction="minimize", verbose=0,
                        storage=run.project.study_url, study_name="p")
    budget = Budget(0.0, None, True, 0, len(run.targets_tr), len(run.targets_va))
    study = publish_search(searcher, run, budget, tmp_path / "workers")
    payload = load_payload(study.user_attrs["autodeep_payload"])
    assert sorted(payload) == ["deadline", "searcher", "trial"] and payload["deadline"] == budget
    received = payload["trial"]
    assert type(received) is TrialRun and received.hyperparameters == {"learning_rate": 0.01}
    assert received.arrays_tr.keys() == run.arrays_tr.keys()
    for key in run.arrays_tr:
        np.testing.assert_array_equal(received.arrays_tr[key], run.arrays_tr[key])
    assert pickle.loads(pickle.dumps(budget)) == budget  # the deadline is plain data too


def test_trial_run_refuses_a_model_over_max_model_size(tmp_path):
    run = _trial_run(tmp_path, max_model_size=10)
    with pytest.raises(ValueError, match="more than max_model_size=10"):
        run.run(0, HyperParameters(), reporter=None, deadline=None)


# -- members -----------------------------------------------------------------------------------
def test_select_members_is_the_best_trial_alone_without_an_ensemble(tmp_path):
    import optuna

    study = optuna.create_study(direction="minimize")
    for value in (3.0, 1.0, 2.0):
        study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=value))
    graph = _regression_graph()
    members = select_members(study, graph, Project(tmp_path, "p"), np.zeros(3), ensemble_size=1)
    assert [(t.value, w) for t, w in members] == [(1.0, 1.0)]
    # trials without predictions on disk cannot be ensembled: the best alone again
    assert [t.value for t, _ in select_members(study, graph, Project(tmp_path, "p"), np.zeros(3), 5)] == [1.0]


def test_bagged_trials_are_chosen_again_on_their_out_of_fold_rows():
    from autodeep.fit.budget import RESELECT_MIN
    from autodeep.fit.final import Member, reselected

    rng = np.random.default_rng(0)
    y = rng.normal(size=(40, 1))
    folds = [(np.arange(20, 40), np.arange(20)), (np.arange(20), np.arange(20, 40))]

    def member(number, prediction, kind="bagged", weight=0.25):
        covered = [(stop, prediction[stop]) for _, stop in folds] if kind == "bagged" else []
        return Member(SimpleNamespace(number=number), weight, ["model"], kind, covered)

    run = SimpleNamespace(graph=_regression_graph(), seed=0, metric=None)
    close, noisy = y + rng.normal(scale=0.1, size=y.shape), y + rng.normal(scale=2.0, size=y.shape)
    chosen = [member(0, noisy), member(1, close), member(2, noisy * 0.5), member(3, y, kind="trial_weights")]
    members, selected_from = reselected(chosen, [], run, None, None, y, folds, None, ensemble_size=5)
    # the trial that was not bagged has no out-of-fold rows and leaves; the one close to y on every row wins
    assert selected_from == 3 and [(m.trial.number, m.weight) for m in members] == [(1, pytest.approx(1.0))]
    few = chosen[:RESELECT_MIN - 1]
    assert reselected(few, [], run, None, None, y, folds, None, ensemble_size=5) == (few, 0)  # too few: unchanged


# -- the house rules the stages exist for ------------------------------------------------------
def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, node.end_lineno - node.lineno + 1


def test_fit_is_short_and_the_stage_modules_have_no_function_over_60_lines():
    fit = [n for n, _ in _functions(PACKAGE / "tasks" / "auto_model.py") if n.name == "fit"][0]
    assert fit.end_lineno - fit.lineno + 1 <= 40
    long = [f"{p.name}:{n.name} ({size})" for p in sorted((PACKAGE / "fit").glob("*.py"))
            for n, size in _functions(p) if size > 60]
    assert long == []
