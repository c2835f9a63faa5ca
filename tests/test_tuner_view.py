"""``clf.tuner_`` answers what AutoKeras programs ask after a search: the oracle's best trials and the best
models rebuilt from the trial folders."""

from __future__ import annotations

import numpy as np
import pytest

import autodeep as ak
from autodeep.fit.settings import check_settings


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] - 2.0 * x[:, 1]).astype("float32")


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuner")
    x, y = _data()
    x_val, y_val = _data(32, seed=1)
    clf = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner="greedy", max_trials=3,
                       directory=folder, seed=0, verbose=0, ensemble_size=1, refit=False)
    assert not hasattr(clf, "tuner_")  # a fitted attribute: set by fit
    clf.fit(x, y, epochs=2, validation_data=(x_val, y_val))
    return clf, folder, x_val


def test_the_oracle_lists_the_best_trials_with_keras_tuner_names(searched):
    clf, folder, _ = searched
    assert clf.tuner == "greedy"  # the argument, as given
    assert type(clf.tuner_) is ak.Greedy and clf.tuner_.strategy == "greedy"
    best = clf.tuner_.oracle.get_best_trials(2)
    study = clf.study_
    ranked = sorted((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert [t.trial_id for t in best] == [f"{t.number:04d}" for t in ranked[:2]]
    assert [t.score for t in best] == [t.value for t in ranked[:2]] and best[0].score <= best[1].score
    assert best[0].hyperparameters.values == ranked[0].params  # every value the trial used
    assert (folder / "auto_model" / "trials" / f"trial_{best[0].trial_id}" / "model.weights.h5").is_file()
    assert clf.tuner_.get_best_hyperparameters(1)[0].values == ranked[0].params
    with pytest.raises(ValueError, match="num_trials"):
        clf.tuner_.oracle.get_best_trials(0)


def test_best_models_are_rebuilt_from_the_trial_folders(searched):
    clf, folder, x_val = searched
    models = clf.tuner_.get_best_models(2)
    assert len(models) == 2
    arrays = ak.load_model(clf.save(folder / "saved")).transform(x_val)  # the inputs the trials were scored on
    for model, trial in zip(models, clf.tuner_.oracle.get_best_trials(2)):
        kept = np.load(folder / "auto_model" / "trials" / f"trial_{trial.trial_id}" / "val_pred_0.npy")
        np.testing.assert_allclose(np.asarray(model.predict(arrays, verbose=0)).reshape(kept.shape), kept,
                                   rtol=1e-4, atol=1e-5)  # the trial's own weights, not fresh ones


def test_the_tuner_object_is_a_valid_tuner_argument(searched, capsys):
    clf, *_ = searched
    again = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=clf.tuner_)
    assert again.tuner is clf.tuner_  # stored as given
    assert check_settings(again).tuner == "greedy"
    clf.tuner_.results_summary(1)
    printed = capsys.readouterr().out
    best = clf.tuner_.oracle.get_best_trials(1)[0]
    assert f"Trial {best.trial_id} summary" in printed and f"Score: {best.score}" in printed
    assert "Showing 1 best trials" in printed
