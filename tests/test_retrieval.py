"""Neighbour blending: distances, the validation choice, the Keras layer, and the export of a blended model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.blocks.layers import NeighbourBlend
from autodeep.ensemble import validation_loss
from autodeep.ensemble.retrieval import blend, choose_blend, rank_loss, row_distances
from autodeep.ensemble import neighbours


def memorised_table(n_unique=120, repeats=5, seed=0):
    """Rows that repeat, with a label per distinct row that no feature explains: only memory can learn it."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"a": rng.normal(size=n_unique).round(2), "b": rng.normal(size=n_unique).round(2),
                         "c": rng.choice(["u", "v", "w"], n_unique)})
    labels = rng.integers(0, 2, n_unique)
    rows = rng.permutation(np.repeat(np.arange(n_unique), repeats))
    return base.iloc[rows].reset_index(drop=True), labels[rows], rows


def test_row_distances_match_a_direct_computation_and_duplicates_are_zero():
    rng = np.random.default_rng(0)
    num, cat = rng.normal(size=(30, 3)).astype("float32"), rng.integers(0, 4, (30, 2)).astype("int32")
    d = row_distances([num[:7], cat[:7]], [num, cat])
    direct = (((num[:7, None] - num[None]) ** 2).sum(-1) + 2 * (cat[:7, None] != cat[None]).sum(-1)) / 5
    np.testing.assert_allclose(d, direct, atol=1e-4)
    assert np.allclose(np.diag(d[:, :7]), 0.0, atol=1e-5)
    with pytest.raises(ValueError, match="same non-empty list"):
        row_distances([num], [num, cat])


def test_choose_blend_keeps_a_blend_only_when_validation_loss_drops():
    rng = np.random.default_rng(1)
    ref_y = rng.integers(0, 2, (300, 1)).astype(float)
    loss = lambda y, p: float(np.mean((y.reshape(p.shape) - p) ** 2))  # noqa: E731
    # every validation row duplicates a reference row: the blend recovers its label
    dup = np.where(np.eye(60, 300) > 0, 0.0, 3.0)
    found = choose_blend(dup, ref_y, np.full((60, 1), 0.5), ref_y[:60], loss)
    assert found["used"] and found["tau"] is not None and found["gain"] > 0.5 and found["held_out_gain"] > 0.5
    np.testing.assert_allclose(found["loss"], loss(ref_y[:60], blend(dup, ref_y, np.full((60, 1), 0.5),
                                                                     found["tau"], found["prior"])))
    # no row resembles any other and the model is already right: nothing to gain, nothing used
    far = np.full((60, 300), 50.0)
    y_val = rng.integers(0, 2, (60, 1)).astype(float)
    kept = choose_blend(far, ref_y, y_val * 0.98 + 0.01, y_val, loss)
    assert not kept["used"] and kept["tau"] is None and kept["gain"] < 0.005
    # neighbours whose labels are noise: a setting picked on one half of the rows does not help the other
    noise_y = rng.integers(0, 2, (80, 1)).astype(float)
    lucky = choose_blend(rng.uniform(0, 0.05, (80, 300)), rng.integers(0, 2, (300, 1)).astype(float),
                         np.full((80, 1), 0.5), noise_y, loss, taus=(1e-3,), priors=(0.5,))
    assert not lucky["used"] and lucky["held_out_gain"] < 0.005


def test_layer_computes_the_numpy_blend():
    rng = np.random.default_rng(2)
    num, cat = rng.normal(size=(40, 3)).astype("float32"), rng.integers(0, 3, (40, 2)).astype("int32")
    targets = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    query_num, query_cat = np.vstack([num[:5], rng.normal(size=(3, 3))]).astype("float32"), cat[:8]
    prediction = rng.dirichlet(np.ones(3), 8).astype("float32")
    layer = NeighbourBlend(0.05, 2.0, ["numeric", "categorical"], reference_rows=40, columns=[3, 2], outputs=3)
    layer([prediction, query_num, query_cat])
    layer.set_weights([num, cat.astype("float32"), targets])
    got = np.asarray(layer([prediction, query_num, query_cat]))
    want = blend(row_distances([query_num, query_cat], [num, cat]), targets, prediction, 0.05, 2.0)
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)  # a blend of distributions is one
    with pytest.raises(ValueError, match="kinds"):
        NeighbourBlend(0.1, 1.0, ["image"], reference_rows=1, columns=[1], outputs=1)


def test_classifier_exports_a_blend_that_recalls_repeated_rows(tmp_path):
    x, y, rows = memorised_table()
    seen = rows < 100  # rows 100..119 never appear in training
    common = dict(max_trials=1, epochs=2, verbose=0, seed=0, bagging_folds=0)
    clf = ak.StructuredDataClassifier(directory=tmp_path / "on", **common).fit(x[seen], y[seen])
    plain = ak.StructuredDataClassifier(directory=tmp_path / "off", retrieval=False, **common).fit(x[seen], y[seen])
    used = clf.predictor_.manifest["info"]["final"]["retrieval"]
    assert used[0]["used"] and used[0]["gain"] >= 0.005
    assert "retrieval" not in plain.predictor_.manifest["info"]["final"]
    assert any(type(layer).__name__ == "NeighbourBlend" for layer in clf.export_model().layers)
    # the labels are noise to the features, so only the blend gets the training rows right
    assert (clf.predict(x[seen]) == y[seen]).mean() > 0.9
    assert (plain.predict(x[seen]) == y[seen]).mean() < 0.8
    # unseen rows fall back to the network: probabilities stay proper
    proba = clf.predict_proba(x[~seen])
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    loaded = ak.load_model(clf.save(tmp_path / "export"))
    np.testing.assert_allclose(loaded.predict_proba(x.head(30)), clf.predict_proba(x.head(30)), atol=1e-6)
    assert np.isfinite(clf.evaluate(x[seen], y[seen])[0])


def test_regressor_and_multiclass_heads_are_blended(tmp_path):
    x, labels, rows = memorised_table(n_unique=80, repeats=4, seed=3)
    values = np.random.default_rng(4).normal(size=80)[rows] * 10 + 50  # a value per distinct row
    reg = ak.StructuredDataRegressor(directory=tmp_path / "reg", max_trials=1, epochs=2, verbose=0, seed=0,
                                     bagging_folds=0).fit(x, values)
    assert reg.predictor_.manifest["info"]["final"]["retrieval"][0]["used"]
    assert np.sqrt(np.mean((reg.predict(x) - values) ** 2)) < 3.0  # the values' spread is 10
    classes = np.array(["p", "q", "r"])[np.random.default_rng(5).integers(0, 3, 80)[rows]]
    clf = ak.StructuredDataClassifier(directory=tmp_path / "multi", max_trials=1, epochs=2, verbose=0, seed=0,
                                      bagging_folds=0).fit(x, classes)
    assert clf.predictor_.manifest["info"]["final"]["retrieval"][0]["used"]
    assert (clf.predict(x) == classes).mean() > 0.9


def test_retrieval_argument_and_when_it_is_tried(tmp_path):
    from autodeep.fit.blend import blend_keys
    from autodeep.fit.prepare import PreparedData

    with pytest.raises(ValueError, match="retrieval must be 'auto', True or False; received 'yes'"):
        ak.StructuredDataClassifier(retrieval="yes", directory=tmp_path).fit(np.zeros((4, 1)), [0, 1, 0, 1])
    clf = ak.StructuredDataClassifier(directory=tmp_path, verbose=0)
    graph = clf._build_graph()
    specs = {graph.inputs[0].name: {"features": {"numerical": ((3,), "float32"), "categorical": ((0,), "int32")}}}

    def data(n_rows):
        return PreparedData([], [], specs, {"x": np.zeros((n_rows, 2))}, None, {"x": np.zeros((0, 2))}, None)

    key = f"{graph.inputs[0].name}__numerical"
    assert blend_keys("auto", graph, data(100)) == [(key, "numeric")]  # empty arrays are skipped
    assert blend_keys("auto", graph, data(neighbours.MAX_ROWS + 1)) == []
    assert blend_keys(True, graph, data(neighbours.MAX_ROWS + 1)) == [(key, "numeric")]
    assert blend_keys(False, graph, data(100)) == []
    image = ak.ImageClassifier(directory=tmp_path)
    image_graph = image._build_graph()
    assert neighbours.retrieval_keys(image_graph, {}) == []  # only structured data is blended


def test_two_heads_blend_separately_and_export_one_model(tmp_path):
    x, labels, rows = memorised_table(n_unique=80, repeats=4, seed=6)
    values = np.random.default_rng(7).normal(size=80)[rows] * 10 + 50
    node = ak.StructuredDataInput()
    body = ak.StructuredDataBlock(num_layers=1, num_units=32)(node)
    model = ak.AutoModel(node, [ak.ClassificationHead(name="label")(body), ak.RegressionHead(name="value")(body)],
                         max_trials=1, directory=tmp_path, seed=0, verbose=0, bagging_folds=0)
    model.fit(x, [labels, values], epochs=2)
    used = [c["used"] for c in model.predictor_.manifest["info"]["final"]["retrieval"]]
    assert used == [True, True]
    predicted_labels, predicted_values = model.predict(x)
    assert (predicted_labels.ravel() == labels).mean() > 0.9
    assert np.sqrt(np.mean((predicted_values.ravel() - values) ** 2)) < 3.0
    assert list(model.export_model().output_names) == ["label", "value"]
    assert len(model.evaluate(x, [labels, values])) >= 3  # total loss and one per head


def test_member_predictions_are_weighted_and_missing_files_turn_blending_off(tmp_path):
    from types import SimpleNamespace

    stored = {0: [np.ones((2, 1))], 1: [np.zeros((2, 1))], 2: []}  # trial 2's predictions were never written
    project = SimpleNamespace(load_val_predictions=lambda number: stored[number])
    from autodeep.fit.members import member_predictions

    graph = ak.StructuredDataClassifier(directory=tmp_path, verbose=0)._build_graph()
    trial = lambda number: SimpleNamespace(number=number)  # noqa: E731
    averaged = member_predictions(graph, [(trial(0), 3.0), (trial(1), 1.0)], project)
    np.testing.assert_allclose(averaged[0], np.full((2, 1), 0.75))
    assert member_predictions(graph, [(trial(0), 1.0), (trial(2), 1.0)], project) is None


def test_binary_heads_choose_their_blend_by_ranking():
    from sklearn.metrics import roc_auc_score

    assert neighbours.blend_criterion("binary") is rank_loss
    y, p = np.array([0, 1, 2]), np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    assert neighbours.blend_criterion("sparse")(y, p) == pytest.approx(validation_loss("sparse")(y, p))
    rng = np.random.default_rng(3)
    y_val = rng.integers(0, 2, (200, 1)).astype(float)
    y_val[:120] = (rng.uniform(size=(120, 1)) < 0.1)  # rows that repeat reference rows: mostly negative
    ref_y = np.zeros((400, 1))
    ref_y[200:] = rng.integers(0, 2, (200, 1))
    p_val = np.clip(0.35 + 0.2 * y_val + rng.normal(0, 0.15, (200, 1)), 0.02, 0.98)
    assert rank_loss(y_val, p_val) == pytest.approx(1 - roc_auc_score(y_val.ravel(), p_val.ravel()))
    d = np.full((200, 400), 5.0)
    d[np.arange(120), np.arange(120)] = 0.0
    found = choose_blend(d, ref_y, p_val, y_val, rank_loss)
    blended = blend(d, ref_y, p_val, found["tau"], found["prior"])
    assert found["used"] and found["held_out_gain"] > 0.05
    assert roc_auc_score(y_val.ravel(), blended.ravel()) > roc_auc_score(y_val.ravel(), p_val.ravel()) + 0.02
    # one class only: AUC is undefined, so there is no evidence and no blend (and no crash)
    none = choose_blend(d, ref_y, p_val, np.zeros((200, 1)), rank_loss)
    assert not none["used"] and none["held_out_gain"] == 0.0 and np.isfinite(none["gain"])


def test_the_blend_is_chosen_with_the_validation_rows_weights():
    from sklearn.metrics import log_loss, roc_auc_score

    rng = np.random.default_rng(5)
    y_val = rng.integers(0, 2, (200, 1)).astype(float)
    ref_y = np.r_[y_val[:100], 1.0 - y_val[100:]]  # rows 0-99 repeat a row of their class, rows 100-199 of the other
    d = np.full((200, 200), 5.0)
    d[np.arange(200), np.arange(200)] = 0.0
    p_val = np.clip(0.4 + 0.2 * y_val + rng.normal(0, 0.15, (200, 1)), 0.02, 0.98)
    w = rng.uniform(0.5, 2.0, 200)
    assert rank_loss(y_val, p_val, w) == pytest.approx(1 - roc_auc_score(y_val.ravel(), p_val.ravel(), sample_weight=w))
    assert validation_loss("binary")(y_val, p_val, w) == pytest.approx(log_loss(y_val, p_val, sample_weight=w))
    helped, hurt = np.r_[np.ones(100), np.zeros(100)], np.r_[np.zeros(100), np.ones(100)]
    kept = choose_blend(d, ref_y, p_val, y_val, rank_loss, weights=helped)  # only the rows the blend helps count
    assert kept["used"] and kept["held_out_gain"] > 0.05
    assert not choose_blend(d, ref_y, p_val, y_val, rank_loss, weights=hurt)["used"]
    w_y = np.where(y_val.ravel() == 1, 3.0, 1.0)  # the regression loss too: weighted squared error over the variance
    variance = np.cov(y_val.ravel(), aweights=w_y, ddof=0)
    expected = np.average((y_val.ravel() - p_val.ravel()) ** 2, weights=w_y) / variance
    assert validation_loss("regression")(y_val, p_val, w_y) == pytest.approx(expected, rel=1e-5)
