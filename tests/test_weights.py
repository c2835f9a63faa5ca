"""Row weights: fit(sample_weight=), class_weight, their checks, and weighted ensemble selection."""

from __future__ import annotations

import numpy as np
import pytest

import autodeep as ak
from autodeep.ensemble import bootstrap_selection, validation_loss

FAST = dict(max_trials=1, epochs=3, verbose=0, seed=0, ensemble_size=1, retrieval=False, refit=False)


@pytest.fixture(scope="module")
def imbalanced():
    """20 % positives and features without signal: the model can only learn the class rate."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 4)).astype("float32"), (rng.random(300) < 0.2).astype(int)


@pytest.fixture(scope="module")
def unweighted(imbalanced, tmp_path_factory):
    x, y = imbalanced
    return ak.StructuredDataClassifier(directory=str(tmp_path_factory.mktemp("plain")), **FAST).fit(x, y)


def test_class_weight_balanced_moves_the_predicted_class_rate(imbalanced, unweighted, tmp_path):
    x, y = imbalanced
    balanced = ak.StructuredDataClassifier(directory=str(tmp_path), class_weight="balanced", **FAST).fit(x, y)
    assert balanced.predict_proba(x)[:, 1].mean() > unweighted.predict_proba(x)[:, 1].mean() + 0.1
    assert (balanced.predict(x) == 1).mean() > (unweighted.predict(x) == 1).mean()
    # The validation loss that scores the trial is weighted too: not the unweighted fit's.
    assert balanced.study_.best_value != pytest.approx(unweighted.study_.best_value, rel=0.05)


def test_sample_weight_and_fit_class_weight_move_the_predicted_probabilities(imbalanced, unweighted, tmp_path):
    x, y = imbalanced
    bagged = {**FAST, "refit": True, "bagging_folds": 2}  # the fold models are weighted too
    weighted = ak.StructuredDataClassifier(directory=str(tmp_path / "a"), objective="f1", **bagged)
    weighted.fit(x, y, sample_weight=np.where(y == 1, 4.0, 1.0))
    assert weighted.predictor_.manifest["info"]["final"]["kind"] == "bagged"
    assert weighted.predict_proba(x)[:, 1].mean() > unweighted.predict_proba(x)[:, 1].mean() + 0.1
    _check_out_of_fold_threshold(weighted, x)
    keras_style = ak.StructuredDataClassifier(directory=str(tmp_path / "b"), **FAST)
    keras_style.fit(x, y, class_weight={0: 1.0, 1: 4.0})  # Keras' fit argument is accepted too
    assert keras_style.predict_proba(x)[:, 1].mean() > unweighted.predict_proba(x)[:, 1].mean() + 0.1


def _check_out_of_fold_threshold(clf, x):
    """A bagged fit with objective="f1" tunes the threshold on the folds' weighted out-of-fold predictions."""
    from sklearn.metrics import f1_score

    head, final = clf.predictor_.manifest["outputs"][0], clf.predictor_.manifest["info"]["final"]
    assert head["threshold_source"] == "out_of_fold"
    oof = np.load(clf.project_.path / "out_of_fold.npz")
    assert sorted(oof["rows"]) == list(range(len(x))) and final["out_of_fold_rows"] == len(x)  # both folds
    targets, p, w = oof["targets"], oof["predictions"], oof["weights"]
    assert np.array_equal(w > 2 * w.min(), targets == 1)  # each row keeps its own target and (normalised) weight
    best = max(f1_score(targets, p >= t, sample_weight=w) for t in np.r_[np.unique(p), np.inf])
    assert f1_score(targets, p >= head["threshold"], sample_weight=w) == pytest.approx(best, abs=1e-12)
    assert np.array_equal(clf.predict(x), (clf.predict_proba(x)[:, 1] >= head["threshold"]).astype(int))


@pytest.mark.parametrize("weights, message", [
    (np.ones(10), r"sample_weight must hold one weight per row \(300\); received shape \(10,\)"),
    (np.r_[-1.0, np.ones(299)], r"sample_weight must be finite and >= 0; received -1.0 at row 0"),
    (np.zeros(300), "sample_weight is zero for every row"),
    (np.r_[np.nan, np.ones(299)], "sample_weight must be finite"),
])
def test_bad_sample_weight_is_named(imbalanced, tmp_path, weights, message):
    x, y = imbalanced
    with pytest.raises(ValueError, match=message):
        ak.StructuredDataClassifier(directory=str(tmp_path), **FAST).fit(x, y, sample_weight=weights)


@pytest.mark.parametrize("class_weight, message", [
    ("auto", "class_weight must be None, 'balanced' or a {label: weight} dict; received 'auto'"),
    ({0: 1.0, 7: 2.0}, r"class_weight names classes the targets do not have: \[7\]; the classes are \[0, 1\]"),
    ({1: -2.0}, r"class_weight\[1\] must be a finite number >= 0; received -2.0"),
])
def test_bad_class_weight_is_named(imbalanced, tmp_path, class_weight, message):
    x, y = imbalanced
    with pytest.raises(ValueError, match=message):
        ak.StructuredDataClassifier(directory=str(tmp_path), class_weight=class_weight, **FAST).fit(x, y)


def test_class_weight_on_a_regressor_is_refused(tmp_path):
    x = np.random.default_rng(0).random((50, 3)).astype("float32")
    reg = ak.StructuredDataRegressor(directory=str(tmp_path), class_weight="balanced", **FAST)
    with pytest.raises(ValueError, match="class_weight needs a single-label classification head"):
        reg.fit(x, x.sum(axis=1))


def test_ensemble_selection_follows_the_row_weights():
    """Candidate 0 is right on the first half of the rows, candidate 1 on the second half: the weights decide."""
    y = np.array([0.0, 1.0] * 10)
    good_first = np.where(np.arange(20) < 10, y, 1 - y) * 0.8 + 0.1
    good_second = np.where(np.arange(20) >= 10, y, 1 - y) * 0.8 + 0.1
    loss = [validation_loss("binary")]
    first_half = np.where(np.arange(20) < 10, 1.0, 0.0)
    assert list(bootstrap_selection([[good_first], [good_second]], [y], loss, weights=first_half)) == [0]
    assert list(bootstrap_selection([[good_first], [good_second]], [y], loss, weights=1 - first_half)) == [1]
