"""Objectives computed on the validation predictions (names and ak.Metric) and the tuned decision threshold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, mean_absolute_error

import autodeep as ak

FAST = dict(max_trials=1, epochs=3, verbose=0, seed=0, ensemble_size=1, retrieval=False, refit=False)


@pytest.fixture(scope="module")
def rare():
    """About 17 % positives, weakly predictable from the first column: F1 at 0.5 is poor."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype("float32")
    y = (x[:, 0] + rng.normal(size=400) * 1.5 > 1.6).astype(int)
    return (x[:300], y[:300]), (x[300:], y[300:])


@pytest.fixture(scope="module")
def f1_model(rare, tmp_path_factory):
    (x, y), validation = rare
    clf = ak.StructuredDataClassifier(directory=str(tmp_path_factory.mktemp("f1")), objective="f1", **FAST)
    return clf.fit(x, y, validation_data=validation)


def test_f1_objective_scores_trials_on_the_validation_rows_at_the_tuned_threshold(rare, f1_model):
    _, (x_val, y_val) = rare
    threshold = f1_model.predictor_.manifest["outputs"][0]["threshold"]
    assert 0.0 < threshold < 0.5  # rare positives: the tuned threshold is below 0.5
    assert f1_model.predictor_.manifest["outputs"][0]["threshold_source"] == "validation"  # not bagged
    predicted = f1_model.predict(x_val)
    assert f1_model.study_.best_value == pytest.approx(f1_score(y_val, predicted), abs=1e-6)
    assert f1_model.predictor_.manifest["info"]["objective"] == "f1"


def test_predict_uses_the_threshold_and_predict_proba_is_unchanged(rare, f1_model):
    _, (x_val, y_val) = rare
    threshold = f1_model.predictor_.manifest["outputs"][0]["threshold"]
    proba = f1_model.predict_proba(x_val)
    assert np.array_equal(f1_model.predict(x_val), (proba[:, 1] >= threshold).astype(int))
    assert f1_score(y_val, f1_model.predict(x_val)) > f1_score(y_val, proba.argmax(axis=1))
    loaded = ak.load_model(f1_model.predictor_.path)  # the manifest carries the threshold
    assert np.array_equal(loaded.predict(x_val), f1_model.predict(x_val))


@pytest.mark.parametrize("name, score", [("f1", f1_score), ("balanced_accuracy", balanced_accuracy_score),
                                         ("accuracy", accuracy_score)])
def test_best_threshold_is_the_best_cut_of_the_weighted_rows(name, score):
    from autodeep.fit.metrics import METRICS, best_threshold

    rng = np.random.default_rng(3)
    y, p, w = (rng.random(300) < 0.2).astype(int), rng.random(300), rng.random(300) * 3
    p[:50] = np.round(p[:50], 1)  # ties: rows with equal probabilities fall on the same side of any threshold
    threshold = best_threshold(METRICS[name], y, p, w)
    cuts = [score(y, p >= t, sample_weight=w) for t in np.r_[np.unique(p), np.inf]]  # every cut of the rows
    assert score(y, p >= threshold, sample_weight=w) == pytest.approx(max(cuts), abs=1e-12)


def test_decision_threshold_none_keeps_argmax(rare, tmp_path):
    (x, y), validation = rare
    clf = ak.StructuredDataClassifier(directory=str(tmp_path), objective="f1", decision_threshold=None, **FAST)
    clf.fit(x, y, validation_data=validation)
    assert clf.predictor_.manifest["outputs"][0]["threshold"] is None
    assert np.array_equal(clf.predict(validation[0]), clf.predict_proba(validation[0]).argmax(axis=1))


def test_regression_objective_by_name_is_the_metric_of_the_validation_predictions(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((200, 3)).astype("float32")
    y = x @ np.array([1.0, 2.0, 3.0]) + rng.normal(size=200) * 0.1
    reg = ak.StructuredDataRegressor(directory=str(tmp_path), objective="mae", **FAST)
    reg.fit(x[:150], y[:150], validation_data=(x[150:], y[150:]))
    assert reg.study_.direction.name == "MINIMIZE"
    assert reg.study_.best_value == pytest.approx(mean_absolute_error(y[150:], reg.predict(x[150:])), rel=1e-4)


def test_a_callable_metric_with_a_direction(rare, tmp_path):
    (x, y), (x_val, y_val) = rare
    hits = ak.Metric(lambda t, p: float(np.sum(t * p)), direction="max", name="hits", needs="proba")
    clf = ak.StructuredDataClassifier(directory=str(tmp_path), objective=hits, **FAST)
    clf.fit(x, y, validation_data=(x_val, y_val))
    assert clf.study_.direction.name == "MAXIMIZE"
    assert clf.study_.best_value == pytest.approx(float(np.sum(y_val * clf.predict_proba(x_val)[:, 1])), rel=1e-4)


def test_a_metric_that_raises_is_reported_with_its_trial(rare, tmp_path):
    (x, y), validation = rare
    boom = ak.Metric(lambda t, p: 1 / 0, direction="max", name="boom")
    clf = ak.StructuredDataClassifier(directory=str(tmp_path), objective=boom, **FAST)
    with pytest.raises(RuntimeError, match="objective metric 'boom' failed in trial 0: ZeroDivisionError"):
        clf.fit(x, y, validation_data=validation)


@pytest.mark.parametrize("arguments, message", [
    ({"objective": "f_one"}, r"objective 'f_one' is not known: .*\['accuracy', 'auc', 'balanced_accuracy', 'f1', "
                             r"'log_loss', 'mae', 'mape', 'r2', 'rmse'\]"),
    ({"decision_threshold": 1.5}, "decision_threshold must be 'auto', None or a number in \\(0, 1\\); received 1.5"),
])
def test_bad_objective_and_threshold_are_named(rare, tmp_path, arguments, message):
    (x, y), _ = rare
    with pytest.raises(ValueError, match=message):
        ak.StructuredDataClassifier(directory=str(tmp_path), **{**FAST, **arguments}).fit(x, y)


def test_metric_checks_its_arguments():
    with pytest.raises(ValueError, match="Metric direction must be 'max' or 'min'; received 'up'"):
        ak.Metric(f1_score, direction="up")


def test_metrics_use_the_row_weights_when_their_function_takes_them():
    from autodeep.fit.metrics import METRICS

    y, p = np.array([0, 1, 1]), np.array([[0.2], [0.7], [0.1]])
    assert METRICS["f1"](y, p, "binary") == pytest.approx(2 / 3)
    assert METRICS["f1"](y, p, "binary", weights=np.array([1.0, 1.0, 0.0])) == pytest.approx(1.0)
    plain = ak.Metric(lambda t, q: float(np.mean(t == q)), direction="max", name="acc")
    assert plain(y, p, "binary", weights=np.array([1.0, 1.0, 0.0])) == pytest.approx(2 / 3)  # takes no weights


def test_metrics_by_name_and_callables_are_computed_for_the_leaderboard(rare, tmp_path):
    (x, y), (x_val, y_val) = rare
    positives = ak.Metric(lambda t, p: float(np.sum(p)), direction="max", name="positives")
    clf = ak.StructuredDataClassifier(directory=str(tmp_path), metrics=["f1", "auc", positives], **FAST)
    clf.fit(x, y, validation_data=(x_val, y_val))
    row = clf.tuner_results.iloc[0]
    proba = clf.predict_proba(x_val)[:, 1]
    assert row["user_attrs_val_f1"] == pytest.approx(f1_score(y_val, proba >= 0.5), abs=1e-6)
    assert row["user_attrs_val_positives"] == float(np.sum(proba >= 0.5))
    from sklearn.metrics import roc_auc_score

    assert row["user_attrs_val_auc"] == pytest.approx(roc_auc_score(y_val, proba), abs=1e-6)
