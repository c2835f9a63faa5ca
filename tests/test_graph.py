"""Graph wiring, its error messages, AutoModel on numeric multi-input/multi-output data, ensembles."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import autodeep as ak
from autodeep.ensemble import bootstrap_selection, greedy_selection, validation_loss
from autodeep.graph import Graph, GraphError, HyperParameters


def test_block_without_path_to_a_head_is_named():
    x = ak.Input(name="x")
    used = ak.DenseBlock(name="used")(x)
    ak.DenseBlock(name="dangling")(x)
    with pytest.raises(GraphError, match="dangling has no path to any head"):
        Graph(inputs=[x], outputs=[ak.RegressionHead()(used)])


def test_input_without_path_and_foreign_node_are_named():
    a, b = ak.Input(name="a"), ak.Input(name="b")
    out = ak.RegressionHead()(ak.DenseBlock()(a))
    with pytest.raises(GraphError, match="Input b has no path to any head"):
        Graph(inputs=[a, b], outputs=[out])
    c = ak.Input(name="c")
    out2 = ak.RegressionHead()(ak.DenseBlock(name="reads_c")(c))
    with pytest.raises(GraphError, match="reads_c consumes c"):
        Graph(inputs=[a], outputs=[out2])
    with pytest.raises(GraphError, match="output of a head"):
        Graph(inputs=[a], outputs=[ak.DenseBlock()(a)])


def test_fixed_add_merge_of_different_widths_names_both_inputs():
    a, b = ak.Input(name="a"), ak.Input(name="b")
    left = ak.DenseBlock(num_layers=1, num_units=16, name="left")(a)
    right = ak.DenseBlock(num_layers=1, num_units=32, name="right")(b)
    out = ak.RegressionHead()(ak.Merge(merge_type="add", name="adder")([left, right]))
    graph = Graph(inputs=[a, b], outputs=[out])
    graph.heads[0].configure({"output_dim": 1})
    specs = {"a": {"features": {"x": ((3,), "float32")}}, "b": {"features": {"x": ((2,), "float32")}}}
    with pytest.raises(GraphError, match=r"adder cannot add inputs of different widths: left_output \(width 16\)"):
        graph.build(HyperParameters(), specs)


def test_head_on_the_wrong_data_type_is_named(tmp_path):
    import optuna

    def wrong_model():
        x = ak.Input(name="numbers")
        out = ak.ClassificationHead()(ak.StructuredDataBlock(name="table_block")(x))
        return ak.AutoModel(inputs=x, outputs=out, max_trials=1, verbose=0, directory=tmp_path)

    data, labels = np.random.rand(20, 3), np.arange(20) % 2
    with pytest.raises(GraphError, match="table_block expects a table"):
        wrong_model().fit(data, labels, epochs=1)
    study = optuna.load_study(study_name="auto_model", storage=f"sqlite:///{tmp_path / 'auto_model' / 'study.db'}")
    assert [t.user_attrs.get("not_counted") for t in study.trials] == [True]  # stopped trials use no budget
    # The project is resumed (overwrite=False) with its budget spent by a trial failed with the same mistake
    # (as an older version recorded it): the wiring error is still what the user gets, not "no trial finished".
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    with pytest.raises(GraphError, match="table_block expects a table"):
        wrong_model().fit(data, labels, epochs=1)


def test_multi_input_multi_output_automodel_with_ensemble(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(160, 4)).astype("float32"), rng.normal(size=(160, 3)).astype("float32")
    labels = np.where(a[:, 0] + b[:, 0] > 0, "pos", "neg")
    values = a.sum(axis=1) * 10 + 100
    model = ak.AutoModel(inputs=[ak.Input(name="a"), ak.Input(name="b")],
                         outputs=[ak.ClassificationHead(name="cls"), ak.RegressionHead(name="reg", metrics=["mae"])],
                         max_trials=3, directory=tmp_path, verbose=0, seed=0, tuner="random", ensemble_size=3)
    model.fit([a, b], [labels, values], epochs=3, batch_size=32)
    labels_pred, values_pred = model.predict([a[:10], b[:10]])
    assert set(labels_pred) <= {"neg", "pos"} and values_pred.shape == (10,)
    assert 50 < float(values_pred.mean()) < 150  # in the target's units
    result = model.evaluate([a, b], [labels, values])
    assert len(result) >= 3 and all(np.isfinite(result))
    manifest = json.loads((tmp_path / "auto_model" / "best_model" / "manifest.json").read_text())
    final = manifest["info"]["final"]
    assert abs(sum(final["weights"]) - 1.0) < 1e-9 and len(final["members"]) == len(final["weights"])
    exported = model.export_model()
    assert isinstance(exported, keras.Model) and len(exported.outputs) == 2
    reloaded = ak.load_model(tmp_path / "auto_model" / "best_model")
    np.testing.assert_allclose(reloaded.predict([a[:10], b[:10]])[1], values_pred, rtol=1e-5)


def test_greedy_selection_prefers_complementary_members_and_weights_sum_to_one():
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    good_a = [np.array([[0.3], [0.9], [0.6], [0.1]])]
    good_b = [np.array([[0.1], [0.6], [0.9], [0.3]])]
    bad = [np.array([[0.9], [0.1], [0.2], [0.8]])]
    loss = validation_loss("binary")
    weights = greedy_selection([bad, good_a, good_b], lambda outs: loss(y, outs[0]), max_size=6)
    assert 0 not in weights and set(weights) == {1, 2}
    assert abs(sum(weights.values()) - 1.0) < 1e-12
    ensemble_loss = loss(y, (good_a[0] + good_b[0]) / 2)
    assert ensemble_loss < min(loss(y, good_a[0]), loss(y, good_b[0]))


def test_bootstrap_selection_spreads_weight_and_generalises_better_than_one_greedy_pass():
    # 15 trials that are equally good in truth (the same signal plus their own noise), judged on 150 rows:
    # one greedy pass keeps the few that fit those rows' noise, the resampled passes average more of them.
    rng = np.random.default_rng(0)
    n_val, logit = 150, rng.normal(size=20_150) * 1.5
    y = (rng.random(len(logit)) < 1 / (1 + np.exp(-logit))).astype(float).reshape(-1, 1)
    trials = [1 / (1 + np.exp(-(logit + rng.normal(size=logit.shape) * 1.2))).reshape(-1, 1) for _ in range(15)]
    loss = validation_loss("binary")
    val = [[t[:n_val]] for t in trials]
    greedy = greedy_selection(val, lambda outs: loss(y[:n_val], outs[0]), max_size=5)
    bagged = bootstrap_selection(val, [y[:n_val]], [loss], max_size=5, seed=0)
    assert abs(sum(bagged.values()) - 1.0) < 1e-12 and len(bagged) > len(greedy)
    test_loss = {name: loss(y[n_val:], sum(w * trials[i][n_val:] for i, w in weights.items()))
                 for name, weights in (("greedy", greedy), ("bagged", bagged))}
    assert test_loss["bagged"] < test_loss["greedy"]


def test_bootstrap_selection_leaves_out_a_bad_trial_and_checks_its_arguments():
    y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]] * 20)
    good = [np.clip(y * 0.8 + 0.1 + np.random.default_rng(1).normal(0, 0.05, y.shape), 0.01, 0.99)]
    bad = [1.0 - good[0]]
    loss = validation_loss("binary")
    weights = bootstrap_selection([bad, good], [y], [loss])
    assert list(weights) == [1] and weights[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one target array and one loss per output"):
        bootstrap_selection([bad, good], [y, y], [loss])


def test_custom_block_with_keras_tuner_names(tmp_path):
    class TwoDense(ak.Block):
        def build(self, hp, inputs):
            units = hp.Int("units", 8, 32, step=8, default=16)
            x = keras.layers.Dense(units, activation=hp.Choice("activation", ["relu", "tanh"]))(inputs)
            return keras.layers.Dense(units)(x)

    x = ak.Input()
    out = ak.RegressionHead()(TwoDense(name="two_dense")(x))
    model = ak.AutoModel(inputs=x, outputs=out, max_trials=2, directory=tmp_path, verbose=0, seed=1)
    data = np.random.default_rng(1).normal(size=(80, 5)).astype("float32")
    model.fit(data, data[:, 0] * 2, epochs=2)
    params = model.study_.trials[0].params
    assert params["two_dense/units"] == 16 and params["two_dense/activation"] == "relu"  # defaults first
    assert model.predict(data[:3]).shape == (3,)


@pytest.mark.parametrize("tuner", ["bayesian", "hyperband"])
def test_automodel_runs_with_other_tuners(tuner, tmp_path):
    data = np.random.default_rng(2).normal(size=(96, 4)).astype("float32")
    model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), max_trials=2, directory=tmp_path,
                         verbose=0, seed=0, tuner=tuner)
    model.fit(data, data[:, 1] - data[:, 2], epochs=3)
    states = {t.state.name for t in model.study_.trials}
    assert len(model.study_.trials) == 2 and "COMPLETE" in states
    assert model.predict(data[:4]).shape == (4,)


@pytest.mark.parametrize("seed", range(3))
def test_declare_hands_out_the_values_a_build_reads(seed):
    import random

    from autodeep.graph.hyperparameters import random_source

    image, table = ak.ImageInput(), ak.StructuredDataInput()
    merged = ak.Merge()([ak.ConvBlock()(image), ak.StructuredDataBlock()(table)])
    graph = Graph([image, table], [ak.RegressionHead(output_dim=2)(merged)])
    specs = {image.name: {"features": {"images": ((8, 8, 3), "float32")}},
             table.name: {"features": {"numerical": ((5,), "float32"), "categorical": ((2,), "int32")},
                          "meta": {"cardinalities": [4, 6]}}}
    declared, built = (HyperParameters(source=random_source(random.Random(seed))) for _ in range(2))
    graph.declare(declared, specs)
    model = graph.build(built, specs)
    assert declared.values == built.values
    assert len(built.values) > 8 and model.optimizer is not None
    keras.backend.clear_session()
