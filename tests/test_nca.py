"""The ModernNCA-style retrieval model (``StructuredDataBlock(block_type="modernnca")``): rows kept in the model,
a row never its own candidate while training, the vote, and a search and artifact built on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from keras import ops
from sklearn.metrics import roc_auc_score

import autodeep as ak
from autodeep.blocks.nca import NeighbourVote, RowMemory, UsableCandidates, all_layers
from autodeep.graph import GraphError


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["colour"] = rng.choice(["red", "green"], n)
    frame["label"] = np.where(np.sin(3 * x[:, 0]) + x[:, 1] > 0, "yes", "no")
    return frame


def _retrieval_model(tmp_path):
    node = ak.StructuredDataInput()
    head = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="modernnca")(node))
    return ak.AutoModel(inputs=node, outputs=head, max_trials=1, seed=0, verbose=0, directory=str(tmp_path))


def test_the_vote_is_the_softmax_of_minus_distances_over_the_usable_candidates():
    rng = np.random.default_rng(0)
    query, candidates = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")
    targets = rng.random((5, 2)).astype("float32")
    usable = np.ones((4, 5), "float32")
    usable[0, :2] = 0.0  # the first query row may not see the first two candidates
    layer = NeighbourVote(width=2, capacity=5)
    layer.build()
    layer.targets.assign(targets)
    out = ops.convert_to_numpy(layer([query, candidates, np.arange(5), usable]))
    distances = np.sqrt(((query[:, None] - candidates[None]) ** 2).sum(-1))
    weights = np.exp(-distances) * usable
    np.testing.assert_allclose(out, weights / weights.sum(1, keepdims=True) @ targets, rtol=1e-4, atol=1e-5)


def test_while_training_a_row_is_not_its_own_candidate_but_at_prediction_its_duplicate_votes():
    rows = [np.random.default_rng(1).normal(size=(6, 4)).astype("float32"), np.arange(6, dtype="int32")[:, None]]
    stored = np.array([1, 1, 1, 1, 1, 0], "float32")  # the last memory row holds nothing
    training = ops.convert_to_numpy(UsableCandidates()(rows, rows, stored, training=True))
    predicting = ops.convert_to_numpy(UsableCandidates()(rows, rows, stored, training=False))
    expected = np.tile(stored, (6, 1))
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_array_equal(training, expected)
    np.testing.assert_array_equal(predicting, np.tile(stored, (6, 1)))


def test_a_retrieval_model_keeps_the_rows_it_was_refit_on_and_predicts_from_their_labels(tmp_path):
    train, test = _table(320), _table(120, seed=1)
    model = _retrieval_model(tmp_path).fit(train.drop(columns="label"), train["label"], epochs=15)
    keras_model = model.export_model()
    [memory] = [layer for layer in all_layers(keras_model) if isinstance(layer, RowMemory)]
    [vote] = [layer for layer in all_layers(keras_model) if isinstance(layer, NeighbourVote)]
    stored = ops.convert_to_numpy(memory.stored).astype(bool)
    assert stored.sum() == len(train) and memory.capacity == 384  # refit on all 320 rows; 1.5 x 256 fit rows
    targets = ops.convert_to_numpy(vote.targets)[:, 0]
    assert targets[stored].sum() == (train["label"] == "yes").sum() and not targets[~stored].any()
    proba = np.asarray(model.predict_proba(test.drop(columns="label")))
    assert roc_auc_score(test["label"] == "yes", proba[:, -1]) > 0.8  # the labels of near rows, a learned metric
    reloaded = ak.load_model(model.project_.artifact_dir)
    np.testing.assert_allclose(np.asarray(reloaded.predict_proba(test.drop(columns="label"))), proba, atol=1e-6)


def test_a_retrieval_model_regresses_and_bags_its_folds_each_with_its_own_rows(tmp_path):
    train, test = _table(200), _table(100, seed=1)
    target = train["a"] * 2.0 + train["b"]
    node = ak.StructuredDataInput()
    head = ak.RegressionHead()(ak.StructuredDataBlock(block_type="modernnca")(node))
    model = ak.AutoModel(inputs=node, outputs=head, max_trials=1, seed=0, verbose=0, directory=str(tmp_path),
                         bagging_folds=2)
    model.fit(train.drop(columns="label"), target)
    final = model.predictor_.manifest["info"]["final"]
    assert final["member_kinds"] == ["bagged"] and final["models_per_member"] == [3]
    memories = [layer for layer in all_layers(model.export_model()) if isinstance(layer, RowMemory)]
    assert sorted(int(ops.convert_to_numpy(m.stored).sum()) for m in memories) == [100, 100, 160]  # folds, trial
    predicted = np.asarray(model.predict(test.drop(columns="label"))).ravel()
    assert np.corrcoef(predicted, test["a"] * 2.0 + test["b"])[0, 1] > 0.8


def test_modernnca_refuses_free_text_columns_naming_the_block_type(tmp_path):
    frame = _table(60)
    frame["review"] = [f"words {i} and more words {i % 7}" for i in range(60)]
    node = ak.StructuredDataInput(column_types={"review": "text"})
    head = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="modernnca")(node))
    model = ak.AutoModel(inputs=node, outputs=head, max_trials=1, verbose=0, directory=str(tmp_path))
    with pytest.raises(GraphError, match="block_type='modernnca'.*free text"):
        model.fit(frame.drop(columns="label"), frame["label"], epochs=1)
