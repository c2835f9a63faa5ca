"""The scikit-learn estimator protocol: get_params/set_params, clone, score, fitted attributes, and the task
classes inside cross_val_score, a Pipeline with a ColumnTransformer, and GridSearchCV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import autodeep as ak

FAST = dict(epochs=1, verbose=0, seed=0, ensemble_size=1, retrieval=False, refit=False)


@pytest.fixture
def cancer():
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x.iloc[:160], y.iloc[:160]


def _trials(model) -> int:
    return len(model.study_.trials)


def test_get_params_lists_every_constructor_argument_and_set_params_rebuilds_the_head():
    clf = ak.StructuredDataClassifier(max_trials=3, time_limit=60, loss="binary_crossentropy", num_classes=2)
    params = clf.get_params()
    assert {"max_trials", "time_limit", "loss", "num_classes", "bagging_folds", "column_types"} <= set(params)
    assert "inputs" not in params and "outputs" not in params  # built by the task class, not arguments
    assert (params["max_trials"], params["time_limit"], params["loss"]) == (3, 60, "binary_crossentropy")
    clf.set_params(loss="categorical_crossentropy", time_limit=30)
    assert clf.outputs.loss == "categorical_crossentropy" and clf.time_limit == 30 and clf.max_trials == 3
    with pytest.raises(ValueError, match="max_trial.*not parameters of StructuredDataClassifier"):
        clf.set_params(max_trial=2)
    model = ak.AutoModel(ak.Input(), ak.RegressionHead(), max_trials=2)
    assert {"inputs", "outputs", "max_trials"} <= set(model.get_params())


@pytest.mark.parametrize("cls, kind", [(ak.StructuredDataClassifier, "c"), (ak.StructuredDataRegressor, "r"),
                                       (ak.ImageClassifier, "c"), (ak.TextRegressor, "r"),
                                       (ak.TimeseriesForecaster, "r")])
def test_clone_passes_scikit_learns_identity_check_for_every_task_class(cls, kind):
    tuner = ak.Greedy(seed=3)
    model = cls(tuner=tuner, max_trials=2, time_limit=10)
    copy = clone(model)  # raises when a constructor modifies an argument
    assert copy.tuner is not tuner and type(copy.tuner) is type(tuner) and copy.tuner.seed == 3
    assert copy.get_params().keys() == model.get_params().keys()
    assert (is_classifier(copy), is_regressor(copy)) == (kind == "c", kind == "r")


def test_a_clone_fits_in_its_own_project_folder(tmp_path, cancer):
    x, y = cancer
    clf = ak.StructuredDataClassifier(max_trials=1, directory=str(tmp_path), **FAST).fit(x, y)
    copy = clone(clf).fit(x, y)
    assert copy.project_.path != clf.project_.path
    assert copy.project_.path.name.startswith("structured_data_classifier_clone_")
    assert _trials(copy) == 1  # a fresh study, not the original's resumed
    # The clone's second fit resumes its own study (autodeep's overwrite=False), in the same folder.
    path = copy.project_.path
    assert copy.fit(x, y).project_.path == path


def test_a_cloned_automodel_keeps_its_heads_wired_to_its_inputs(tmp_path):
    x = np.random.default_rng(0).random((80, 3)).astype("float32")
    node = ak.Input()
    head = ak.RegressionHead()(ak.DenseBlock()(node))
    fast = {k: v for k, v in FAST.items() if k != "epochs"}
    model = ak.AutoModel(node, head, max_trials=1, directory=str(tmp_path), **fast)
    copy = clone(model)
    assert copy.inputs is not node and copy.outputs.in_blocks  # deep copies, still connected
    assert copy.fit(x, x.sum(axis=1), epochs=1).predict(x[:4]).shape == (4,)


def test_score_and_fitted_attributes(tmp_path, cancer):
    x, y = cancer
    clf = ak.StructuredDataClassifier(max_trials=1, directory=str(tmp_path), **FAST)
    assert not hasattr(clf, "n_features_in_")
    clf.fit(x, y)
    assert clf.score(x, y) == pytest.approx(accuracy_score(y, clf.predict(x)))
    assert clf.n_features_in_ == x.shape[1] and list(clf.feature_names_in_) == list(x.columns)
    assert list(clf.classes_) == [0, 1]
    xd, yd = load_diabetes(return_X_y=True)
    reg = ak.StructuredDataRegressor(max_trials=1, directory=str(tmp_path), **FAST).fit(xd[:150], yd[:150])
    assert reg.score(xd[150:200], yd[150:200]) == pytest.approx(r2_score(yd[150:200], reg.predict(xd[150:200])))
    assert reg.n_features_in_ == xd.shape[1] and not hasattr(reg, "feature_names_in_")  # numpy: no names


def test_cross_validate_fits_each_fold_in_a_fresh_study(tmp_path, cancer):
    x, y = cancer
    clf = ak.StructuredDataClassifier(max_trials=1, directory=str(tmp_path), **FAST)
    result = cross_validate(clf, x, y, cv=2, return_estimator=True)
    assert len(result["test_score"]) == 2 and all(0.0 <= s <= 1.0 for s in result["test_score"])
    folds = result["estimator"]
    assert len({m.project_.path for m in folds}) == 2 and all(_trials(m) == 1 for m in folds)
    assert not hasattr(clf, "predictor_")  # the estimator given is never fitted


def test_pipeline_with_a_column_transformer_in_front(tmp_path, credit_g):
    df = credit_g.head(200)
    x, y = df.drop(columns="class"), df["class"]
    categorical = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    numeric = [c for c in x.columns if c not in categorical]
    front = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                               ("num", StandardScaler(), numeric)])
    pipe = Pipeline([("front", front), ("clf", ak.StructuredDataClassifier(max_trials=1, directory=str(tmp_path),
                                                                             **FAST))])
    pipe.fit(x, y)
    width = front.transform(x.head(1)).shape[1]
    assert pipe.named_steps["clf"].n_features_in_ == width
    assert set(pipe.predict(x.tail(20))) <= set(y) and pipe.predict_proba(x.tail(20)).shape == (20, 2)
    assert pipe.score(x, y) == pytest.approx(accuracy_score(y, pipe.predict(x)))


def test_grid_search_over_max_trials(tmp_path, cancer):
    x, y = cancer
    search = GridSearchCV(ak.StructuredDataClassifier(directory=str(tmp_path), **FAST),
                          {"max_trials": [1, 2]}, cv=2)
    search.fit(x, y)
    assert [p["max_trials"] for p in search.cv_results_["params"]] == [1, 2]
    best = search.best_estimator_
    assert _trials(best) == search.best_params_["max_trials"]  # the refit ran its own study, not a resumed one
    assert search.score(x, y) == pytest.approx(accuracy_score(y, best.predict(x)))
