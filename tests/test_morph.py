"""Network morphism (``autodeep.morph``) on models autodeep's Graph builds, trained one epoch on real data:
each morph keeps the parent's predictions before any training, and the child then trains. Then the
GP's side (``autodeep.morph.gp``): architectures of morphed models, the edit distance, the GP and UCB.

The morph checks run on the suite's backend in this process and on the other backend in a subprocess
(Keras fixes its backend at import), like tests/test_backends.py; the two run at the same time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
POSITIVE = "good great fine lovely superb enjoyable".split()
NEGATIVE = "bad awful boring poor dull terrible".split()
NEUTRAL = "the film plot actor scene story was and very".split()


def _model(block, node, raw, labels, values=None):
    """A compiled model of ``block`` + a classification head, built by the Graph, with its inputs and targets."""
    import autodeep as ak
    from autodeep.graph import Graph, HyperParameters
    from autodeep.modalities import preprocessor_for

    head = ak.ClassificationHead(name="head")
    graph = Graph(inputs=[node], outputs=[head(block(node))])
    head.configure({"num_classes": int(labels.max()) + 1})
    preprocessor = preprocessor_for(node).fit(raw)
    values = {"learning_rate": 3e-3, **(values or {})}  # one epoch of a few batches should show the fit
    model = graph.build(HyperParameters(values=values), {node.name: preprocessor.specs()})
    arrays = {f"{node.name}__{key}": value for key, value in preprocessor.transform(raw).items()}
    return model, arrays, head.prepare_targets(labels)


def table():
    """breast_cancer through a DenseBlock with batch normalisation and dropout."""
    import autodeep as ak
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    block = ak.DenseBlock(num_layers=2, num_units=16, use_batchnorm=True, dropout=0.1, name="body")
    return _model(block, ak.StructuredDataInput(name="table"), x, np.asarray(y), {"body/numerical_encoding": "none"})


def images():
    """400 digits (8x8) through a ConvBlock of two stages (convolution, BN, ReLU, pooling, dropout) and a Flatten."""
    import autodeep as ak
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.images[:400] * 15).astype("uint8")
    conv = ak.ConvBlock(kernel_size=3, num_blocks=2, num_layers=1, filters=8, max_pooling=True, separable=False,
                        dropout=0.1, use_batchnorm=True)
    return _model(lambda n: ak.SpatialReduction("flatten")(conv(n)), ak.ImageInput(name="digits"), pixels,
                  digits.target[:400])


def text():
    """200 generated reviews (two sentiment words among four neutral ones) through the TextBlock's sequence CNN."""
    import autodeep as ak

    rng = np.random.default_rng(0)
    labels = np.arange(200) % 2
    texts = []
    for label in labels:
        words = list(rng.choice(NEUTRAL, 4)) + list(rng.choice(POSITIVE if label else NEGATIVE, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
    values = {"text/sequence_model": "cnn", "text/embedding/embedding_dim": 16, "text/conv_block/num_blocks": 1,
              "text/conv_block/num_layers": 1, "text/conv_block/filters": 16, "text/num_layers": 2,
              "text/units": 32, "text/dropout": 0.25}
    return _model(ak.TextBlock(block_type="sequence", name="text"), ak.TextInput(name="reviews"), np.array(texts),
                  labels, values)


def _nth(model, kind: str, n: int = 0, activation: str | None = None) -> str:
    """The name of the ``n``-th layer of class ``kind`` (with that activation, when given)."""
    found = [layer.name for layer in model.layers if type(layer).__name__ == kind
             and (activation is None or getattr(layer.activation, "__name__", None) == activation)]
    return found[n]


def morphs():
    """For each block type, each operation applied to the places its blocks offer."""
    from autodeep.morph import add_skip, deepen, widen

    return {
        "table": {"deepen": lambda m: deepen(m, after=_nth(m, "ReLU"), batchnorm=True, dropout=0.1),
                  "widen": lambda m: widen(m, _nth(m, "Dense"), units=24, seed=1),
                  "skip": lambda m: add_skip(m, _nth(m, "ReLU", 0), _nth(m, "ReLU", 1))},
        "images": {"deepen": lambda m: deepen(m, after=_nth(m, "ReLU", 1), batchnorm=True),
                   "widen": lambda m: widen(m, _nth(m, "Conv2D", 1), units=24, seed=2),  # read through a Flatten
                   "skip": lambda m: add_skip(m, _nth(m, "ReLU", 0), _nth(m, "ReLU", 1))},  # pooled 8x8 -> 4x4
        "text": {"deepen": lambda m: deepen(m, after=_nth(m, "ReLU"), kernel_size=3),
                 "widen": lambda m: widen(m, _nth(m, "Conv1D"), units=20, seed=3),
                 "skip": lambda m: add_skip(m, _nth(m, "Dense", 0, "relu"), _nth(m, "Dense", 1, "relu"))},
    }


def _loss(probabilities: np.ndarray, y: np.ndarray) -> float:
    """The heads' cross-entropy (binary for one sigmoid column, sparse categorical otherwise), from predictions."""
    p = np.clip(np.asarray(probabilities, "float64"), 1e-7, 1 - 1e-7)
    if p.shape[1] == 1:
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(-np.mean(np.log(p[np.arange(len(p)), np.asarray(y).ravel()])))


def _moving_means(model) -> np.ndarray:
    means = [layer.moving_mean for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    return np.concatenate([np.ravel(np.asarray(m)) for m in means]) if means else np.zeros(0)


def _outputs(model, x) -> np.ndarray:
    """The model's inference-mode outputs from a direct call (no compiled predict step: on JAX each costs ~0.4 s)."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(model(x, training=False)))


def _difference(parent, child, x, expected) -> dict:
    predicted = _outputs(child, x)
    return {"max_diff": float(np.abs(predicted - expected).max()), "params": [parent.count_params(),
                                                                               child.count_params()]}


def _training(child, x, y) -> dict:
    """The child's loss before and after one epoch, and whether its batch normalisation's statistics moved."""
    before, means = _loss(_outputs(child, x), y), _moving_means(child)
    child.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return {"loss": [before, _loss(_outputs(child, x), y)],
            "bn_moved": bool(means.size and np.abs(_moving_means(child) - means).max() > 0)}


@contextlib.contextmanager
def _one_thread():
    """Torch on one thread: these models are tiny, and on the shared 2-core machine its thread pool made one
    child's check take 3.1 s of CPU instead of 0.6 s (measured with cProfile on the widened table model)."""
    import keras

    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_checks(train_each: bool = True) -> dict:
    """Per ``block/op`` and for ``block/all`` (the three morphs one after the other): max |child - parent|
    before training and the parameter counts; the loss before/after an epoch of the composed child, and
    of each single-morph child when ``train_each`` (on JAX, compiling each child's training step costs
    3-6 s of CPU, so the other-backend pass trains only the composed child)."""
    import keras

    keras.utils.set_random_seed(0)
    results = {"backend": keras.backend.backend()}
    with _one_thread():
        for block, make in (("table", table), ("images", images), ("text", text)):
            results.update(_check_block(block, make, train_each))
    return results


def _check_block(block: str, make, train_each: bool) -> dict:
    results = {}
    parent, x, y = make()
    parent.fit(x, y, epochs=1, batch_size=16, verbose=0)
    expected = _outputs(parent, x)
    composed, records = parent, []
    for op, morph in morphs()[block].items():
        child, record = morph(parent)
        results[f"{block}/{op}"] = {**_difference(parent, child, x, expected), "record": record}
        if train_each:
            results[f"{block}/{op}"].update(_training(child, x, y))
        composed, record = morph(composed)
        records.append(record)
    results[f"{block}/all"] = {**_difference(parent, composed, x, expected), **_training(composed, x, y),
                               "records": records}
    return results


@pytest.fixture(scope="module")
def other_backend():
    """The checks on the backend this process does not run, started in a subprocess as soon as the module's
    first test asks for ``results``: on one thread, it runs beside the in-process checks (also on one thread)."""
    import keras

    backend = "jax" if keras.backend.backend() != "jax" else "torch"
    if importlib.util.find_spec(backend) is None:
        yield backend, None
        return
    code = ("import json, sys; sys.path.insert(0, 'tests'); import test_morph; "
            "print(json.dumps(test_morph.run_checks(train_each=False)))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "KERAS_BACKEND": backend, "XLA_FLAGS": XLA_ONE_THREAD})
    try:
        yield backend, process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module", params=["torch", "jax"])
def results(request, other_backend):
    """The checks on one backend: in this process for the suite's backend, in a subprocess for the other."""
    import keras

    backend = request.param
    pytest.importorskip(backend)
    if keras.backend.backend() == backend:
        return run_checks()
    assert other_backend[0] == backend
    stdout, stderr = other_backend[1].communicate(timeout=600)
    assert other_backend[1].returncode == 0, stderr[-3000:]
    found = json.loads(stdout.strip().splitlines()[-1])
    assert found["backend"] == backend
    return found


XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"  # as _one_thread, for JAX
CASES = [f"{block}/{op}" for block in ("table", "images", "text") for op in ("deepen", "widen", "skip", "all")]


def test_every_morph_keeps_the_trained_parents_predictions(results):
    for case in CASES:
        found = results[case]
        assert found["max_diff"] < 1e-4, (results["backend"], case, found)
        assert found["params"][1] > found["params"][0], (case, found)  # the child really is a bigger network
    assert len(results["images/all"]["records"]) == 3


def test_children_train_with_their_batch_normalisation_and_dropout(results):
    trained = [case for case in CASES if "loss" in results[case]]
    assert {case for case in CASES if case.endswith("/all")} <= set(trained)
    for case in trained:
        loss_before, loss_after = results[case]["loss"]
        assert loss_after < loss_before, (results["backend"], case, results[case])
        assert results[case]["bn_moved"], (case, results[case])  # the child trains its batch normalisation


def test_a_child_is_rebuilt_from_its_parents_weights_file_and_the_records(tmp_path):
    """A worker that has only the parent's weights file and the JSON records gets the same child, although
    its fresh build of the parent has other automatic layer names; the child saves and loads as a .keras file."""
    import keras

    from autodeep.morph import replay

    with _one_thread():
        parent, x, y = table()
        parent.fit(x, y, epochs=1, batch_size=64, verbose=0)
        child = parent
        records = []
        for morph in morphs()["table"].values():
            child, record = morph(child)
            records.append(record)
        parent.save_weights(tmp_path / "parent.weights.h5")
        fresh, _, _ = table()
        assert [layer.name for layer in fresh.layers] != [layer.name for layer in parent.layers]
        fresh.load_weights(tmp_path / "parent.weights.h5")
        again = replay(fresh, json.loads(json.dumps(records)))
        assert np.abs(_outputs(again, x) - _outputs(child, x)).max() < 1e-6
        assert [type(layer).__name__ for layer in again.layers] == [type(layer).__name__ for layer in child.layers]
        child.save(tmp_path / "child.keras")
        loaded = keras.saving.load_model(tmp_path / "child.keras")
        assert np.abs(_outputs(loaded, x) - _outputs(child, x)).max() < 1e-6
        assert loaded.evaluate(x, y, verbose=0, return_dict=True)["loss"] < 0.7  # compiled with the head's loss


def test_morphs_that_cannot_apply_say_why():
    import keras

    from autodeep.morph import MorphError, add_skip, deepen, replay, widen

    inputs = keras.Input((4,))
    first = keras.layers.Dense(3, activation="relu", name="first")(inputs)
    second = keras.layers.Dense(3, name="second")(first)
    joined = keras.layers.Add(name="joined")([first, second])
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(joined))
    with pytest.raises(MorphError, match=r"units must be an integer above 'first''s current 3; received 2"):
        widen(model, "first", units=2)
    with pytest.raises(MorphError, match=r"widening 'first' reaches 'joined' \(Add\)"):
        widen(model, "first", units=5)
    with pytest.raises(MorphError, match=r"'out' has activation 'softmax'"):
        widen(model, "out", units=5)
    with pytest.raises(MorphError, match=r"after='out' is an output of the model"):
        deepen(model, after="out")
    with pytest.raises(MorphError, match=r"source='second' must come before target='first'"):
        add_skip(model, "second", "first")
    with pytest.raises(MorphError, match=r"after must be a layer position in 0\.\.4 or a layer name; received 9"):
        deepen(model, after=9)
    _, record = deepen(model, after="first")
    other = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.ReLU()(inputs)))
    with pytest.raises(MorphError, match=r"layer 1 of this model is a ReLU, the record says Dense \(first\)"):
        replay(other, [record])


def test_widen_divides_the_outgoing_weights_among_the_copies():
    import keras

    from autodeep.morph import widen

    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(2, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden))
    child, record = widen(model, "hidden", units=4, sources=[1, 1], seed=0)
    kernel_in, kernel_out = child.get_layer("hidden").get_weights()[0], child.get_layer("out").get_weights()[0]
    parent_in, parent_out = model.get_layer("hidden").get_weights()[0], model.get_layer("out").get_weights()[0]
    assert np.array_equal(kernel_in[:, [2, 3]], parent_in[:, [1, 1]])  # the copies take unit 1's incoming weights
    assert np.allclose(kernel_out[[1, 2, 3]].sum(axis=0), parent_out[1])  # and share its outgoing weights
    assert len({round(float(v), 6) for v in kernel_out[[1, 2, 3], 0]}) == 3  # unequally: the copies differ
    assert record["sources"] == [1, 1]


def _dense(*widths, skips=()):
    from autodeep.morph.gp import Architecture

    return Architecture(tuple(("Dense", w) for w in widths), tuple(skips))


def test_the_architecture_of_a_morphed_model_counts_its_new_layers_widths_and_skips():
    import keras

    from autodeep.morph import add_skip, deepen, widen
    from autodeep.morph.gp import architecture

    inputs = keras.Input((4,))
    first = keras.layers.Dense(8, activation="relu", name="first")(inputs)
    second = keras.layers.Dense(6, activation="relu", name="second")(first)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(second))
    assert architecture(model) == _dense(8, 6)
    child, _ = widen(model, "first", units=12)
    child, _ = deepen(child, after="first")
    child, _ = add_skip(child, "first", "second")
    assert architecture(child) == _dense(12, 12, 6, skips=[(0, 2)])


def test_edit_distance_grows_with_the_edits_and_is_a_symmetric_zero_on_equal_architectures():
    from autodeep.morph.gp import distance

    base = _dense(32, 32)
    wider, deeper, skipped = _dense(64, 32), _dense(32, 32, 32), _dense(32, 32, skips=[(0, 1)])
    assert distance(base, base) == 0.0
    assert distance(base, _dense(48, 32)) < distance(base, wider) < distance(base, _dense(128, 32))
    assert distance(base, deeper) == 1.0 and distance(base, skipped) == 1.0  # one unmatched layer / skip each
    for a, b in [(wider, deeper), (deeper, skipped), (skipped, wider)]:
        assert distance(a, b) == distance(b, a) > 0
    # the Hungarian matching pairs each layer with its closest: reordering the layers changes nothing
    assert distance(_dense(16, 256), _dense(256, 16)) == 0.0


def test_the_gp_interpolates_its_observations_and_is_unsure_far_from_them():
    from autodeep.morph.gp import ArchitectureGP, distance, psd_kernel

    archs = [_dense(*([32] * depth)) for depth in (1, 2, 3, 4)]
    scores = [0.60, 0.70, 0.75, 0.72]
    gp = ArchitectureGP().fit(archs, scores)
    mean, std = gp.predict(archs + [_dense(32, 32, 32, 32, 32, 32, 32, 32)])
    assert np.allclose(mean[:4], scores, atol=1e-3) and np.all(std[:4] < 1e-2)
    assert std[4] > 10 * std[:4].max()
    assert abs(mean[4] - np.mean(scores)) < 0.05  # far from every observation: back to the prior mean
    many = [_dense(w) for w in (8, 16, 32, 64, 128)] + archs
    d = np.array([[distance(a, b) for b in many] for a in many])
    assert np.linalg.eigvalsh(psd_kernel(d)).min() > -1e-10


def test_propose_picks_the_ucb_maximum_and_beta_trades_mean_for_uncertainty():
    """Synthetic scores rise with depth. With beta = 0 the proposal is the candidate of highest posterior mean;
    with a large beta, one of higher posterior standard deviation; both are the argmax over all candidates."""
    from autodeep.morph.gp import ArchitectureGP, candidate_sequences, propose

    history = [(_dense(*([32] * depth)), 0.5 + 0.1 * depth) for depth in (1, 2, 3)]
    gp = ArchitectureGP().fit([a for a, _ in history], [s for _, s in history])
    chosen = {}
    for beta in (0.0, 10.0):
        parent, sequence, value = propose(history, beta=beta, depth=2, parents=1)
        assert parent == 2  # parents=1: only the best trial is morphed
        candidates = [child for _, child in candidate_sequences(history[2][0], depth=2)]
        mean, std = gp.predict(candidates)
        assert np.isclose(value, np.max(mean + beta * std))
        child = history[2][0]
        for morph in sequence:
            child = child.apply(morph)
        chosen[beta] = gp.predict([child])
    (mean_0, std_0), (mean_10, std_10) = chosen[0.0], chosen[10.0]
    assert mean_0[0] >= mean_10[0] and std_10[0] > std_0[0]


def test_realised_abstract_morphs_give_the_architecture_the_gp_predicted():
    """The GP's abstract morphs (layer indices) applied to a trained model with batch normalisation and dropout:
    each child's architecture is the one ``Architecture.apply`` computed, and its predictions are its parent's."""
    from autodeep.morph.gp import architecture, realise

    with _one_thread():
        parent, x, y = table()
        parent.fit(x, y, epochs=1, batch_size=64, verbose=0)
        expected = _outputs(parent, x)
        model, arch = parent, architecture(parent)
        assert arch == _dense(16, 16)
        for morph in [{"op": "skip", "source": 0, "target": 1}, {"op": "deepen", "layer": 0},
                      {"op": "widen", "layer": 1, "width": 32}, {"op": "deepen", "layer": 2},
                      {"op": "widen", "layer": 3, "width": 24}]:  # the skip's target: its projection widens too
            model, _ = realise(model, morph)
            arch = arch.apply(morph)
            assert architecture(model) == arch, morph
            assert np.abs(_outputs(model, x) - expected).max() < 1e-4, morph
        assert arch == _dense(16, 32, 16, 24, skips=[(1, 3)])


def test_morphs_of_an_image_networks_last_convolution_stop_before_its_global_pooling():
    """Regression (benchmarks/morph.py on CIFAR-10): the last convolution's block ran on through the global
    average pooling, so a planned skip into it joined a feature map to a vector (left out, the child trained as
    a copy of its parent) and a deepen there inserted a Dense. Both now act on the feature map before the pooling."""
    import keras

    from autodeep.morph.gp import Architecture, architecture, realise

    inputs = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(6, 3, padding="same")(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Dropout(0.1)(keras.layers.MaxPooling2D()(h))
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 3)).astype("float32")
    expected = _outputs(model, x)
    arch = Architecture((("Conv2D", 4), ("Conv2D", 6)))
    assert architecture(model) == arch
    for morph in [{"op": "skip", "source": 0, "target": 1}, {"op": "deepen", "layer": 1}]:
        model, record = realise(model, morph)
        arch = arch.apply(morph)
        assert architecture(model) == arch, record
        assert np.abs(_outputs(model, x) - expected).max() < 1e-5, record
    assert arch == Architecture((("Conv2D", 4), ("Conv2D", 6), ("Conv2D", 6)), ((0, 2),))
