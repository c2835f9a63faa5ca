"""AutoKeras programs run unchanged with ``import autodeep as ak`` (issue 5), on tiny real data.

Each program keeps AutoKeras' code and adds only what keeps a test short (one trial, one or two
epochs, a temporary directory, a seed, ``verbose=0``).
"""

from __future__ import annotations

import inspect
import json

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

import autodeep as ak
from autodeep.graph import GraphError
from tests.conftest import data_file

QUIET = dict(verbose=0, seed=0, refit=False, ensemble_size=1)  # one trial: nothing to refit or ensemble


def digits(n: int = 150, classes: int = 3):
    """8x8 grey digit images (uint8, 0..255) of the first ``classes`` digits, and their labels."""
    data = load_digits()
    keep = data.target < classes
    return (data.images[keep][:n] * 16).clip(0, 255).astype("uint8"), data.target[keep][:n]


# -- the issue's program ---------------------------------------------------------------------------
@pytest.mark.parametrize("second_branch", [
    pytest.param("resnet_v2", id="exact-program-resnet-v2"),  # ResNet50V2 on 32 px: about a minute on 2 cores
    pytest.param("conv", id="resnet-branch-as-a-small-conv"),
])
def test_issue_program_multi_input_multi_output_with_unconnected_heads(tmp_path, second_branch):
    images, labels = digits(48)  # the program's wiring is under test, not its accuracy: three batches of 16
    rng = np.random.default_rng(0)
    ink = images.reshape(len(images), -1).mean(axis=1)
    table = pd.DataFrame({"ink": ink, "noise": rng.normal(size=len(images)),
                          "pen": rng.choice(["blue", "black"], size=len(images))})
    scores = ink / 10.0

    image_in, table_in = ak.ImageInput(), ak.StructuredDataInput()
    branch = ak.ResNetBlock(version="v2") if second_branch == "resnet_v2" else \
        ak.ConvBlock(num_blocks=1, num_layers=1)  # same wiring, seconds instead of minutes
    x1 = ak.Merge()([ak.ConvBlock()(ak.Normalization()(image_in)), branch(image_in)])
    x2 = ak.DenseBlock()(table_in)
    merged = ak.Merge()([x1, x2])
    model = ak.AutoModel(inputs=[image_in, table_in],
                         outputs=[ak.ClassificationHead(), ak.RegressionHead(metrics=["mae"])],
                         max_trials=1, overwrite=True, directory=tmp_path, **QUIET)
    model.fit([images, table], [labels, scores], validation_split=0.15, epochs=1, batch_size=16)
    predicted_labels, predicted_scores = model.predict([images[:8], table[:8]])

    # the heads went where the user's wiring ends (merged), not onto a default graph
    assert all(head.inputs == [merged] for head in model.graph_.heads)
    kinds = {type(b).__name__ for b in model.graph_.blocks}
    assert {"ConvBlock", type(branch).__name__, "Normalization", "DenseBlock"} <= kinds and "ImageBlock" not in kinds
    if second_branch == "resnet_v2":
        version = model.study_.trials[0].params[f"{branch.name}/version"]
        assert version in ("resnet50_v2", "resnet101_v2", "resnet152_v2")  # "v2" searches the v2 family
    assert predicted_labels.shape == (8,) and set(predicted_labels) <= {0, 1, 2}
    assert predicted_scores.shape == (8,) and np.isfinite(predicted_scores).all()


# -- a customized image model ------------------------------------------------------------------------
class Pixels(ak.Block):
    """A user's block written the AutoKeras/KerasTuner way."""

    def build(self, hp, inputs):
        x = keras.layers.Flatten()(inputs)
        units = hp.Int("units", 16, 64, step=16, default=32)
        x = keras.layers.Dense(units, activation=hp.Choice("activation", ["relu", "tanh"]))(x)
        return keras.layers.Dropout(hp.Float("rate", 0.0, 0.5, default=0.1))(x) if hp.Boolean("drop") else x


def test_customized_image_search_space_with_custom_block_loss_metric_and_fixed_values(tmp_path):
    images, labels = digits(150)

    def top2(y_true, y_pred):  # a metric given as a callable
        return keras.metrics.sparse_top_k_categorical_accuracy(y_true, y_pred, k=2)

    input_node = ak.ImageInput()
    output_node = ak.Normalization()(input_node)
    output_node = ak.ImageAugmentation(horizontal_flip=False, vertical_flip=False, rotation_factor=0.0,
                                       zoom_factor=0.0, contrast_factor=0.0, translation_factor=0.0)(output_node)
    conv = ak.Flatten()(ak.ConvBlock(num_blocks=1, num_layers=1, filters=16)(output_node))
    output_node = ak.Merge(merge_type="concatenate")([conv, Pixels(name="pixels")(input_node)])
    output_node = ak.DenseBlock(num_layers=1, dropout=0.0)(output_node)
    output_node = ak.ClassificationHead(loss=keras.losses.SparseCategoricalCrossentropy(),
                                        metrics=["accuracy", top2])(output_node)
    clf = ak.AutoModel(inputs=input_node, outputs=output_node, overwrite=True, max_trials=1, tuner=ak.Greedy,
                       directory=tmp_path, hyperparameters={"pixels/units": 48, "learning_rate": 3e-3}, **QUIET)
    logged = set()
    clf.fit(images, labels, epochs=2, validation_split=0.2,
            callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logged.update(logs))])

    trial = clf.study_.trials[0]
    assert clf.settings_.tuner == "greedy" and trial.state.name == "COMPLETE"
    assert {"top2", "val_top2", "val_accuracy"} <= logged  # the callable metric was compiled in
    used = json.loads((tmp_path / "auto_model" / "trials" / "trial_0000" / "config.json").read_text())["values"]
    assert used["pixels/units"] == 48 and used["learning_rate"] == 3e-3  # fixed through hyperparameters=
    assert "pixels/activation" in used and "dense_block_1/num_layers" not in used  # num_layers=1: not searched
    dense_units = [layer.units for layer in clf.export_model().layers if isinstance(layer, keras.layers.Dense)]
    assert 48 in dense_units  # the exported model was built with the fixed value too
    proba = clf.predict_proba(images[:5])
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    accuracy = float(np.mean(clf.predict(images) == labels))
    assert accuracy > 0.6  # 3 digit classes: a working model, not chance
    # the export holds a Python function (top2) that safe mode never imports: it reloads without it
    assert np.isfinite(ak.load_model(tmp_path / "auto_model" / "best_model").evaluate(images, labels)).all()


# -- export and reload -------------------------------------------------------------------------------
def test_export_and_reload_multi_input_multi_label_and_regression(tmp_path):
    images, labels = digits(160, classes=4)
    flat = images.reshape(len(images), -1).astype("float32") / 255.0
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"size": rng.normal(size=len(images)), "kind": rng.choice(["x", "y", "z"], len(images))})
    tags = np.stack([labels % 2 == 0, labels >= 2], axis=1).astype("int32")  # two labels per image
    value = flat.mean(axis=1) * 100

    pixels, table_in = ak.Input(name="pixels"), ak.StructuredDataInput(name="table")
    merged = ak.Merge()([ak.DenseBlock(num_layers=1)(pixels), ak.StructuredDataBlock()(table_in)])
    tagger = ak.ClassificationHead(multi_label=True, name="tags")(merged)
    meter = ak.RegressionHead(loss="huber", metrics=["mae"], name="value")(merged)
    model = ak.AutoModel(inputs=[pixels, table_in], outputs=[tagger, meter], max_trials=1, directory=tmp_path,
                         tuner=ak.RandomSearch(seed=3), **QUIET)
    model.fit([flat, table], [tags, value], epochs=2, batch_size=32)

    exported = model.export_model()
    assert isinstance(exported, keras.Model) and len(exported.outputs) == 2
    assert sorted(exported.input_names if hasattr(exported, "input_names") else
                  [t.name for t in exported.inputs]) == ["pixels__x", "table__categorical", "table__numerical"]
    predicted_tags, predicted_value = model.predict([flat[:6], table[:6]])
    assert predicted_tags.shape == (6, 2) and set(np.unique(predicted_tags)) <= {0, 1}
    assert 0 < float(predicted_value.mean()) < 200  # in the target's units

    saved = model.save(tmp_path / "exported")
    reloaded = ak.load_model(saved)
    again_tags, again_value = reloaded.predict([flat[:6], table[:6]])
    np.testing.assert_array_equal(again_tags, predicted_tags)
    np.testing.assert_allclose(again_value, predicted_value, rtol=1e-5)
    # the bare Keras file loads the AutoKeras way too, with custom_objects=ak.CUSTOM_OBJECTS
    bare = keras.saving.load_model(saved / "model.keras", custom_objects=ak.CUSTOM_OBJECTS)
    arrays = reloaded.transform([flat[:6], table[:6]])
    np.testing.assert_allclose(bare.predict(arrays, verbose=0)[1].ravel(), predicted_value, rtol=1e-4)


# -- texts ------------------------------------------------------------------------------------------
def test_text_automodel_with_validation_data_and_callbacks(tmp_path):
    reviews = pd.read_csv(data_file("imdb_sentences_400.csv.gz"))
    train, valid = reviews.iloc[:320], reviews.iloc[320:]
    epochs_seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))

    input_node = ak.TextInput()
    output_node = ak.TextBlock()(input_node)
    output_node = ak.ClassificationHead()(output_node)
    clf = ak.AutoModel(inputs=input_node, outputs=output_node, overwrite=True, max_trials=1, directory=tmp_path,
                       **QUIET)
    clf.fit(train["text"].to_numpy(), train["label"].to_numpy(), epochs=2, callbacks=[counter],
            validation_data=(valid["text"].to_numpy(), valid["label"].to_numpy()))
    assert epochs_seen[:2] == [0, 1]  # the user's callback ran in the trial
    assert clf.study_.trials[0].user_attrs["epochs_run"] == 2
    loss, accuracy = clf.evaluate(valid["text"].to_numpy(), valid["label"].to_numpy())
    assert np.isfinite(loss) and accuracy > 0.55  # held-out sentences: better than chance
    predicted = clf.predict(["What a wonderful, moving film.", "Awful. A waste of time."])
    assert predicted.shape == (2,) and set(predicted) <= {0, 1}


# -- structured data with column_types -----------------------------------------------------------
def test_structured_classifier_with_column_types_and_validation_split(tmp_path, credit_g):
    frame = credit_g.head(300)
    x, y = frame.drop(columns="class"), frame["class"]
    clf = ak.StructuredDataClassifier(column_types={"installment_commitment": "categorical", "age": "numerical"},
                                      max_trials=1, overwrite=True, directory=tmp_path, **QUIET)
    clf.fit(x, y, epochs=1, validation_split=0.25)
    table = clf.predictor_.preprocessors[0].table_
    assert "installment_commitment" in table.categorical_columns_  # a number column, encoded as a category
    assert "age" not in table.categorical_columns_
    predicted = clf.predict(x.tail(5))
    assert predicted.shape == (5,) and set(predicted) <= set(y)
    assert clf.predict_proba(x.tail(5)).shape == (5, 2)


# -- the AutoKeras API surface ---------------------------------------------------------------------
#: AutoKeras 3.0's public names and their constructor arguments (AutoKeras 1.x names users miss are included).
AUTOKERAS_API = {
    "AutoModel": ["inputs", "outputs", "project_name", "max_trials", "directory", "objective", "tuner",
                  "overwrite", "seed", "max_model_size"],
    "ImageClassifier": ["num_classes", "multi_label", "loss", "metrics", "project_name", "max_trials", "directory",
                        "objective", "tuner", "overwrite", "seed", "max_model_size"],
    "ImageRegressor": ["output_dim", "loss", "metrics", "project_name", "max_trials", "directory", "objective",
                       "tuner", "overwrite", "seed", "max_model_size"],
    "TextClassifier": ["num_classes", "multi_label", "loss", "metrics", "project_name", "max_trials", "directory",
                       "objective", "tuner", "overwrite", "seed", "max_model_size"],
    "TextRegressor": ["output_dim", "loss", "metrics", "project_name", "max_trials", "directory", "objective",
                      "tuner", "overwrite", "seed", "max_model_size"],
    "StructuredDataClassifier": ["column_names", "column_types", "num_classes", "multi_label", "loss", "metrics",
                                 "project_name", "max_trials", "directory", "objective", "tuner", "overwrite",
                                 "seed", "max_model_size"],
    "StructuredDataRegressor": ["column_names", "column_types", "output_dim", "loss", "metrics", "project_name",
                                "max_trials", "directory", "objective", "tuner", "overwrite", "seed",
                                "max_model_size"],
    "Input": ["name"], "ImageInput": ["name"], "TextInput": ["name"],
    "StructuredDataInput": ["column_names", "column_types", "name"],
    "Block": [], "Head": [], "Node": [],
    "DenseBlock": ["num_layers", "num_units", "use_batchnorm", "dropout"],
    "ConvBlock": ["kernel_size", "num_blocks", "num_layers", "filters", "max_pooling", "separable", "dropout"],
    "ResNetBlock": ["version", "pretrained"], "XceptionBlock": ["pretrained"],
    "EfficientNetBlock": ["version", "pretrained"],
    "RNNBlock": ["return_sequences", "bidirectional", "num_layers", "layer_type"],
    "Embedding": ["max_features", "pretraining", "embedding_dim", "dropout"],
    "Transformer": ["max_features", "pretraining", "embedding_dim", "num_heads", "dense_dim", "dropout"],
    "BertBlock": ["max_sequence_length"],
    "Merge": ["merge_type"], "Flatten": [], "SpatialReduction": ["reduction_type"],
    "TemporalReduction": ["reduction_type"],
    "ImageBlock": ["block_type", "normalize", "augment"], "TextBlock": ["max_tokens", "pretraining"],
    "StructuredDataBlock": ["categorical_encoding", "normalize", "seed"],
    "Normalization": ["axis"],
    "ImageAugmentation": ["translation_factor", "vertical_flip", "horizontal_flip", "rotation_factor",
                          "zoom_factor", "contrast_factor"],
    "ClassificationHead": ["num_classes", "multi_label", "loss", "metrics", "dropout"],
    "RegressionHead": ["output_dim", "loss", "metrics", "dropout"],
    "Greedy": ["hypermodel", "objective", "max_trials", "initial_hps", "seed", "hyperparameters",
               "tune_new_entries", "allow_new_entries"],
    "BayesianOptimization": ["hypermodel", "objective", "max_trials", "num_initial_points", "alpha", "beta",
                             "seed", "hyperparameters", "tune_new_entries", "allow_new_entries"],
    "Hyperband": ["hypermodel", "objective", "max_epochs", "factor", "hyperband_iterations", "seed",
                  "hyperparameters", "tune_new_entries", "allow_new_entries"],
    "RandomSearch": ["hypermodel", "objective", "max_trials", "seed", "hyperparameters", "tune_new_entries",
                     "allow_new_entries"],
    "CastToFloat32": [], "ExpandLastDim": [],
    # AutoKeras 1.x time series API
    "TimeseriesForecaster": ["column_names", "column_types", "output_dim", "lookback", "predict_from",
                             "predict_until", "loss", "metrics", "project_name", "max_trials", "directory",
                             "objective", "tuner", "overwrite", "seed", "max_model_size"],
    "TimeseriesInput": ["lookback", "column_names", "column_types", "name"],
}


@pytest.mark.parametrize("name", sorted(AUTOKERAS_API))
def test_every_autokeras_name_exists_with_its_arguments(name):
    obj = getattr(ak, name, None)
    assert obj is not None, f"ak.{name} is missing"
    accepted = inspect.signature(obj.__init__).parameters
    missing = [arg for arg in AUTOKERAS_API[name] if arg not in accepted]
    assert not missing, f"ak.{name} lacks AutoKeras arguments {missing}"


def test_fit_predict_evaluate_take_autokeras_arguments_and_custom_objects_load_layers():
    for method, args in [("fit", ["x", "y", "batch_size", "epochs", "callbacks", "validation_split",
                                  "validation_data", "verbose"]),
                         ("predict", ["x", "batch_size"]), ("evaluate", ["x", "y", "batch_size"])]:
        accepted = inspect.signature(getattr(ak.AutoModel, method)).parameters
        assert all(a in accepted for a in args), (method, [a for a in args if a not in accepted])
    assert {"CastToFloat32", "ExpandLastDim", "Denormalize", "WeightedAverage"} <= set(ak.CUSTOM_OBJECTS)
    layer = ak.CUSTOM_OBJECTS["ExpandLastDim"]()
    assert tuple(layer(np.zeros((2, 3), "float32")).shape) == (2, 3, 1)


@pytest.mark.parametrize("tuner, strategy", [(ak.Greedy, "greedy"), (ak.BayesianOptimization(), "bayesian"),
                                             (ak.Hyperband, "hyperband"), ("random", "random"),
                                             (ak.RandomSearch(seed=7), "random")])
def test_tuner_classes_and_instances_name_a_strategy(tuner, strategy):
    from autodeep.fit.settings import check_settings

    model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=tuner)
    assert model.tuner is tuner  # stored as given; fit checks and resolves it
    settings = check_settings(model)
    assert settings.tuner == strategy
    if isinstance(tuner, ak.RandomSearch):
        assert settings.seed == 7  # the tuner's seed is used when AutoModel gets none


def test_bad_tuner_and_resnet_version_errors_name_the_argument():
    x, y = np.zeros((4, 1), "float32"), np.zeros(4)
    with pytest.raises(TypeError, match=r"tuner must be one of .* received <class 'int'>"):
        ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=int).fit(x, y)
    with pytest.raises(ValueError, match=r"version must be one of \['v1', 'v2', 'resnet50'.*received 'v3'"):
        ak.ResNetBlock(version="v3")
    with pytest.raises(TypeError, match="hyperparameters must be a dict"):
        ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), hyperparameters=[("units", 3)]).fit(x, y)


# -- wiring errors that are new with unconnected heads ---------------------------------------------
def test_unconnected_heads_on_wiring_with_two_open_ends_name_both_blocks():
    a, b = ak.Input(name="a"), ak.Input(name="b")
    ak.DenseBlock(name="left")(a)
    ak.DenseBlock(name="right")(b)
    model = ak.AutoModel(inputs=[a, b], outputs=[ak.RegressionHead()])
    with pytest.raises(GraphError, match=r"ends in 2 places \(the outputs of left, right\).*ak\.Merge\(\)"):
        model._build_graph()


def test_unconnected_heads_without_wiring_get_the_default_graph():
    x = ak.StructuredDataInput(name="t")
    model = ak.AutoModel(inputs=x, outputs=[ak.ClassificationHead(name="c")])
    graph = model._build_graph()
    assert [type(b).__name__ for b in graph.blocks] == ["StructuredDataBlock", "ClassificationHead"]
