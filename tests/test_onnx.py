"""ONNX export of the whole pipeline, checked with onnxruntime against ``predict_proba`` / ``predict``."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.data import TabularPreprocessor
from autodeep.deploy import OnnxExportError, onnx_feeds
from autodeep.deploy.onnx_export import IR_VERSION, ML_OPSET, OPSET
from autodeep.deploy.onnx_table import GraphBuilder, interpolate_tied, table_graph

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

FAST = dict(max_trials=1, epochs=2, verbose=0, seed=0, retrieval=False)
NUMERIC_GAPS = ["duration", "credit_amount", "age"]
CATEGORY_GAPS = ["purpose", "savings_status"]


def _run(path, feeds: dict, outputs=None) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(outputs, feeds)


def _table_arrays(table, feeds: dict) -> list[np.ndarray]:
    """The ``numerical`` and ``categorical`` arrays of ``table_graph(table)`` for ``feeds``, run by onnxruntime."""
    inputs, g = table_graph(table, "t", "numerical", "categorical")
    outputs = [onnx.helper.make_tensor_value_info("numerical", onnx.TensorProto.FLOAT, None),
               onnx.helper.make_tensor_value_info("categorical", onnx.TensorProto.INT32, None)]
    graph = onnx.helper.make_graph(g.nodes, "t", inputs, outputs, initializer=g.initializers)
    model = onnx.helper.make_model(graph, ir_version=IR_VERSION, opset_imports=[
        onnx.helper.make_opsetid("", OPSET), onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["numerical", "categorical"], feeds)


@pytest.fixture(scope="module")
def credit_with_gaps():
    """credit-g with 10% of five columns' cells missing, and held-out rows with categories never seen in fit."""
    df = ak.datasets.load_credit_g()
    rng = np.random.default_rng(0)
    for column in NUMERIC_GAPS + CATEGORY_GAPS:
        df.loc[rng.random(len(df)) < 0.1, column] = np.nan
    train, test = df.iloc[:700].reset_index(drop=True), df.iloc[700:].reset_index(drop=True)
    test.loc[:9, "purpose"] = "a purpose never seen"
    test.loc[10:14, "credit_amount"] = np.inf  # unparsable: read as missing, as predict reads it
    return train, test


@pytest.fixture(scope="module")
def credit_model(credit_with_gaps, tmp_path_factory):
    train, _ = credit_with_gaps
    folder = tmp_path_factory.mktemp("credit")
    clf = ak.StructuredDataClassifier(directory=folder, **FAST).fit(train.drop(columns="class"), train["class"])
    return clf, clf.export_onnx(folder / "credit.onnx")


def test_table_graph_equals_predict_proba_on_held_out_rows(credit_with_gaps, credit_model):
    clf, path = credit_model
    _, test = credit_with_gaps
    x = test.drop(columns="class")
    assert x[NUMERIC_GAPS + CATEGORY_GAPS].isna().any().all()  # the held-out rows do have gaps
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = {i.name: i.type for i in session.get_inputs()}
    assert list(inputs) == list(x.columns)  # one input per raw column, in the table's order
    assert inputs["duration"] == "tensor(double)" and inputs["purpose"] == "tensor(string)"
    proba, label = session.run(["probabilities", "label"], onnx_feeds(clf.predictor_, x))
    expected = clf.predict_proba(x)
    assert proba.shape == expected.shape == (300, 2)
    np.testing.assert_allclose(proba, expected, atol=1e-4)
    assert list(label) == list(clf.predict(x))


def test_cli_export_of_a_saved_model_gives_the_same_graph_outputs(credit_with_gaps, credit_model, tmp_path):
    clf, path = credit_model
    saved = clf.save(tmp_path / "saved")
    out = tmp_path / "cli.onnx"
    done = subprocess.run([sys.executable, "-m", "autodeep.cli", "export", str(saved), "--format", "onnx",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    feeds = onnx_feeds(ak.load_model(saved), credit_with_gaps[1].drop(columns="class").head(50))
    for ours, theirs in zip(_run(out, feeds), _run(path, feeds)):
        np.testing.assert_array_equal(ours, theirs)


def test_cli_export_of_a_folder_that_is_no_model_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autodeep.cli", "export", str(tmp_path), "--out",
                           str(tmp_path / "m.onnx")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "manifest.json does not exist" in done.stderr and not (tmp_path / "m.onnx").exists()


def test_preprocessing_graph_matches_the_table_transform_on_ties_constants_and_integer_categories():
    rng = np.random.default_rng(1)
    n = 400
    train = pd.DataFrame({
        "ties": rng.integers(0, 4, n).astype(float),           # many quantiles tie
        "wide": rng.lognormal(0, 2, n),
        "constant": np.full(n, 7.0),
        "code": rng.choice([10, 20, 30], n),                     # integer categories
        "colour": rng.choice(["red", "green", "blue", None], n),
    })
    train.loc[rng.random(n) < 0.2, "wide"] = np.nan
    table = TabularPreprocessor(column_types={"code": "categorical"}, n_quantiles=50).fit(train)
    test = pd.DataFrame({"ties": [-1.0, 0.0, 1.0, 2.5, 3.0, 9.0, np.nan],
                         "wide": [0.0, 1e-9, 1.0, 50.0, np.inf, -3.0, 2.0],
                         "constant": [7.0, 1.0, np.nan, 7.0, 7.0, 7.0, 7.0], "code": [10, 20, 30, 40, 10, 20, 30],
                         "colour": ["red", None, "green", "purple", "blue", "red", None]})
    expected = table.transform(test)
    feeds = {"ties": test[["ties"]].to_numpy(), "wide": test[["wide"]].to_numpy(),
             "constant": test[["constant"]].to_numpy(),
             "code": test[["code"]].astype(str).to_numpy(dtype=object),
             "colour": test[["colour"]].fillna("__missing__").to_numpy(dtype=object)}
    numerical, categorical = _table_arrays(table, feeds)
    np.testing.assert_allclose(numerical, expected["numerical"], atol=1e-5)
    np.testing.assert_array_equal(categorical, expected["categorical"])
    assert (expected["categorical"][:, 0] == 0).sum() == 1  # the unseen code 40 maps to 0 in both


def _coded_table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A table with two ID codes: ``shop`` (150 named shops) and ``day`` (a day index with 100 values of about
    ``n / 100`` rows, a twentieth of them missing), each level with its own rate of the positive class."""
    rng = np.random.default_rng(seed)
    shop, day = rng.integers(0, 150, n), rng.integers(0, 100, n)
    x = pd.DataFrame({"shop": [f"s{i}" for i in shop], "day": day.astype(float), "a": rng.normal(size=n)})
    x.loc[rng.random(n) < 0.05, "day"] = np.nan
    rate = np.random.default_rng(99).random(250)
    y = (rate[shop] + rate[150 + day] + 0.3 * x["a"] + rng.normal(0, 0.2, n) > 1.0).astype(int).to_numpy()
    return x, y


def test_id_codes_in_the_preprocessing_graph_match_the_table_transform():
    """Counts and target statistics of a string code and of a numerical code, and their embeddings' codes, for
    seen, unseen and missing levels."""
    x, y = _coded_table(3000)
    table = TabularPreprocessor().fit(x, y=y, target_type="binary")
    assert table.codes_ == ["shop", "day"] and "__missing__" in table.statistics_[1]["levels"]
    test = pd.DataFrame({"shop": ["s1", "s2", "never", None, "s149"], "day": [3.0, np.nan, 1000.0, 7.0, 0.0],
                         "a": [0.0, 1.0, -1.0, np.nan, 2.0]})
    feeds = {"day": test[["day"]].to_numpy(), "a": test[["a"]].to_numpy(),
             "shop": test[["shop"]].fillna("__missing__").to_numpy(dtype=object)}
    numerical, categorical = _table_arrays(table, feeds)
    expected = table.transform(test)
    np.testing.assert_allclose(numerical, expected["numerical"], atol=1e-5)
    np.testing.assert_array_equal(categorical, expected["categorical"])
    day_target = expected["numerical"][:, table.numerical_columns_.index("day#target")]
    assert (expected["categorical"][2] == 0).all() and len(set(day_target)) == 5  # seen, missing, unseen days




def test_tied_interpolation_is_the_mean_of_numpy_upwards_and_downwards():
    rng = np.random.default_rng(3)
    knots = np.sort(np.concatenate([rng.integers(0, 6, 30).astype(float), rng.normal(2, 2, 30)]))
    values = (np.arange(60) + 0.5) / 60
    x = np.concatenate([knots, rng.uniform(-3, 9, 300), [-100.0, 100.0]]).reshape(-1, 1)
    g = GraphBuilder("i")
    g.op("Identity", interpolate_tied(g, "x", knots, values), output="y")
    graph = onnx.helper.make_graph(g.nodes, "i", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.DOUBLE,
                                                                                       ["n", 1])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.DOUBLE, None)],
                                   initializer=g.initializers)
    model = onnx.helper.make_model(graph, ir_version=9, opset_imports=[onnx.helper.make_opsetid("", 20)])
    (got,) = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    up = np.interp(x, knots, values)
    down = -np.interp(-x, -knots[::-1], -values[::-1])
    np.testing.assert_allclose(got, 0.5 * (up + down), atol=1e-12)
    assert (up != down).sum() >= 20  # the tied knots, where the two directions differ, are among the probes


def test_digits_image_graph_equals_predict_proba(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * 16).astype("uint8")  # 0..255, 8x8
    clf = ak.ImageClassifier(directory=tmp_path, max_trials=1, epochs=1, verbose=0, seed=0)
    clf.fit(images[:600], digits.target[:600])
    path = clf.export_onnx(tmp_path / "digits.onnx")
    held_out = images[1500:1600]
    proba, label = _run(path, onnx_feeds(clf.predictor_, held_out), ["probabilities", "label"])
    np.testing.assert_allclose(proba, clf.predict_proba(held_out), atol=1e-4)
    assert proba.shape == (100, 10) and list(label) == list(clf.predict(held_out))


def test_a_model_with_the_neighbour_blend_exports_with_its_training_rows(tmp_path):
    """Rows that repeat with a label no feature explains: only the blend's stored rows learn it."""
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"a": rng.normal(size=120).round(2), "b": rng.normal(size=120).round(2),
                         "c": rng.choice(["u", "v", "w"], 120)})
    labels = rng.integers(0, 2, 120)
    rows = rng.permutation(np.repeat(np.arange(120), 5))
    x, y = base.iloc[rows].reset_index(drop=True), labels[rows]
    seen = rows < 100
    clf = ak.StructuredDataClassifier(directory=tmp_path, max_trials=1, epochs=2, verbose=0, seed=0,
                                      bagging_folds=0).fit(x[seen], y[seen])
    assert any(type(layer).__name__ == "NeighbourBlend" for layer in clf.export_model().layers)
    probe = pd.concat([x[seen].head(40), x[~seen].head(40)])  # rows it stored, and rows it never saw
    proba, label = _run(clf.export_onnx(tmp_path / "blend.onnx"), onnx_feeds(clf.predictor_, probe))
    np.testing.assert_allclose(proba, clf.predict_proba(probe), atol=1e-4)
    assert list(label) == list(clf.predict(probe))


def test_a_text_model_is_refused_naming_the_input(tmp_path):
    texts = np.array(["good fine great film"] * 20 + ["awful bad boring film"] * 20)
    clf = ak.TextClassifier(max_trials=1, epochs=1, refit=False, directory=tmp_path, verbose=0, seed=0)
    clf.fit(texts, np.repeat([1, 0], 20))
    with pytest.raises(OnnxExportError, match="Input 'text_input' \\(text, preprocessed by TextVectorizer\\)"):
        clf.export_onnx(tmp_path / "text.onnx")


def test_a_table_with_id_codes_exports_and_matches_predict_proba(tmp_path):
    x, y = _coded_table(2500)
    clf = ak.StructuredDataClassifier(directory=tmp_path, **FAST).fit(x.iloc[:2000], y[:2000])
    assert clf.predictor_.preprocessors[0].table_.codes_ == ["shop", "day"]
    held_out = x.iloc[2000:].copy()
    held_out.loc[held_out.index[:10], "day"] = 500.0  # days never seen in fit
    session = ort.InferenceSession(str(clf.export_onnx(tmp_path / "codes.onnx")), providers=["CPUExecutionProvider"])
    assert {i.name: i.type for i in session.get_inputs()} == {
        "shop": "tensor(string)", "day": "tensor(double)", "a": "tensor(double)"}  # one input per raw column
    proba, label = session.run(None, onnx_feeds(clf.predictor_, held_out))
    np.testing.assert_allclose(proba, clf.predict_proba(held_out), atol=1e-4)
    assert list(label) == list(clf.predict(held_out))


def test_a_numerical_id_code_beyond_two_to_the_53_is_refused_naming_the_column(tmp_path):
    """int64 IDs that no double holds exactly could read as one another in the graph: the export refuses."""
    x, y = _coded_table(2500)
    x["day"] = 2**60 + 1000 * x["day"].fillna(-1).astype("int64") + 1  # doubles are 256 apart up there
    clf = ak.StructuredDataClassifier(directory=tmp_path, **FAST).fit(x, y)
    assert "day" in clf.predictor_.preprocessors[0].table_.codes_
    with pytest.raises(OnnxExportError, match=r"Column 'day' of input .* integers beyond 2\*\*53.*astype\(str\)"):
        clf.export_onnx(tmp_path / "ids.onnx")


def test_regression_graph_values_equal_predict(tmp_path):
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = ak.StructuredDataRegressor(directory=tmp_path, **FAST).fit(x.iloc[:350], y.iloc[:350])
    (values,) = _run(reg.export_onnx(tmp_path / "diabetes.onnx"), onnx_feeds(reg.predictor_, x.iloc[350:]))
    expected = reg.predict(x.iloc[350:])
    assert values.shape == expected.shape == (92,)
    np.testing.assert_allclose(values, expected, rtol=1e-4, atol=1e-3)  # float32 values in the target's units


def test_export_on_the_other_backend_matches_too():
    """Fitting on JAX exports the network in a torch subprocess (and on torch, in-process): the held-out
    check passes on the backend this suite does not use."""
    import importlib.util

    other = "jax" if keras.backend.backend() != "jax" else "torch"
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} is not installed")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k",
                           "held_out_rows"], env={**os.environ, "KERAS_BACKEND": other},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-2000:]


def test_a_table_column_of_another_type_is_refused_naming_the_column():
    from autodeep.deploy.onnx_export import _check_column_types

    _check_column_types("table", {"age": "numerical", "city": "categorical"})  # these export
    with pytest.raises(OnnxExportError, match="Column 'when' of input 'table' is a datetime column"):
        _check_column_types("table", {"age": "numerical", "when": "datetime"})
