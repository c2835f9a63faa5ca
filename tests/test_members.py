"""TabM-style ensembles in one network: the member loss, the member metric and where members may go."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.graph import GraphError
from autodeep.blocks.members import MemberAdapter, MemberLoss, MemberMetric


def test_member_loss_is_the_weighted_mean_of_each_members_own_loss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 6)
    members = rng.dirichlet(np.ones(3), (6, 4)).astype("float32")  # (rows, members, classes)
    weights = rng.uniform(0.5, 2.0, 6).astype("float32")
    own = -np.log(members[np.arange(6), :, y])  # (rows, members): each member's cross-entropy
    want = np.sum(weights * own.mean(axis=1)) / 6  # Keras' sum_over_batch_size
    got = float(MemberLoss("sparse_categorical_crossentropy")(y, members, sample_weight=weights))
    assert got == pytest.approx(want, rel=1e-5)
    # not the loss of the mean prediction, which would let members lean on each other
    of_mean = -np.log(members.mean(axis=1)[np.arange(6), y])
    assert got != pytest.approx(np.sum(weights * of_mean) / 6, rel=1e-3)
    # without a member axis (inference, evaluation) it is the plain loss
    plain = float(keras.losses.SparseCategoricalCrossentropy()(y, members[:, 0]))
    assert float(MemberLoss("sparse_categorical_crossentropy")(y, members[:, 0])) == pytest.approx(plain, rel=1e-5)


def test_member_loss_and_metric_survive_serialisation():
    loss = keras.losses.deserialize(keras.losses.serialize(MemberLoss("binary_crossentropy")))
    y, p = np.array([[1.0], [0.0]], "float32"), np.array([[[0.9], [0.6]], [[0.2], [0.4]]], "float32")
    want = -np.mean(np.log([0.9, 0.6, 0.8, 0.6]))
    assert isinstance(loss, MemberLoss) and float(loss(y, p)) == pytest.approx(want, rel=1e-4)
    metric = keras.metrics.deserialize(keras.metrics.serialize(MemberMetric("binary_accuracy")))
    metric.update_state(y, np.array([[[0.9], [0.0]], [[0.0], [0.2]]], "float32"))  # means 0.45 and 0.1
    assert float(metric.result()) == pytest.approx(0.5)  # the mean of row 0 falls below 0.5


def test_adapter_signs_are_seeded_and_members_feed_only_heads(tmp_path):
    x = np.ones((1, 5), "float32")
    a, b = (keras.ops.convert_to_numpy(MemberAdapter(3, seed=7)(x)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert len({tuple(row) for row in a[0]}) > 1  # members see different sign patterns
    node = ak.StructuredDataInput()
    out = ak.ClassificationHead()(ak.DenseBlock()(ak.StructuredDataBlock(block_type="tabm")(node)))
    model = ak.AutoModel(node, out, max_trials=1, verbose=0, directory=tmp_path)
    with pytest.raises(GraphError, match="can only feed a ClassificationHead or RegressionHead"):
        model.fit(pd.DataFrame({"a": np.arange(20.0)}), np.arange(20) % 2, epochs=1)
