"""ONNX export of a whole autodeep model: raw inputs -> preprocessing -> the Keras network (the ensemble and the
neighbour blend are layers of it) -> probabilities and labels (or values), as one ONNX graph.

The network is exported by Keras (``model.export(format="onnx")``, the torch backend's exporter, run in a
``KERAS_BACKEND=torch`` subprocess when this process uses another backend); the preprocessing and the
decoding are ONNX graphs built with ``onnx.helper`` (``autodeep.deploy.onnx_table``); ``onnx.compose`` joins
the three. Parts with no ONNX form are refused by name (``OnnxExportError``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from autodeep.data.tabular import _category_strings, _numbers

OPSET = 20  # the torch exporter's opset; the preprocessing graph uses the same
ML_OPSET = 4  # LabelEncoder with double keys (a numerical column that is an ID code)
IR_VERSION = 9
NET_PREFIX = "net/"
OUTPUT_NAMES = ("probabilities", "label", "values")


class OnnxExportError(ValueError):
    """A part of the model has no ONNX form; the message names it."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'autodeep[onnx]'.") from None
    return onnx


def check_exportable(predictor) -> None:
    """Raise ``OnnxExportError`` naming the first part of ``predictor`` that cannot be exported."""
    for entry, pre in zip(predictor.manifest["inputs"], predictor.preprocessors):
        kind, cls = entry["kind"], entry["preprocessor"]["class"]
        if cls not in ("TablePreprocessor", "ArrayPreprocessor", "ImagePreprocessor"):
            raise OnnxExportError(f"Input {entry['name']!r} ({kind}, preprocessed by {cls}) cannot be exported to "
                                  f"ONNX: only tables, numeric arrays and image arrays can.")
        if cls == "TablePreprocessor":
            _check_column_types(entry["name"], pre.table_.column_types_)
            _check_numerical_codes(entry["name"], pre.table_)
    if len(predictor.manifest["outputs"]) != 1:
        raise OnnxExportError(f"The model has {len(predictor.manifest['outputs'])} heads; ONNX export takes one.")
    if getattr(predictor.codecs[0].encoder_, "multi_label_", False):
        raise OnnxExportError("The multi-label head cannot be exported to ONNX.")


def _check_column_types(name: str, column_types: dict) -> None:
    """Only numeric and categorical columns have an ONNX form here (date and text columns do not)."""
    from autodeep.data.analysis import CATEGORICAL, NUMERICAL

    other = [(c, t) for c, t in column_types.items() if t not in (NUMERICAL, CATEGORICAL)]
    if other:
        raise OnnxExportError(f"Column {other[0][0]!r} of input {name!r} is a {other[0][1]} column, which cannot be "
                              f"exported to ONNX (numeric and categorical columns can): drop it before fit to export.")


def _check_numerical_codes(name: str, table) -> None:
    """A numerical column that is an ID code is an ONNX ``double`` input: its integer levels must be doubles
    exactly (as all integers up to 2**53 are), or an ID could read as another in the graph."""
    from autodeep.deploy.onnx_table import raw_columns

    numbers = raw_columns(table)[0]
    levels = {state["name"]: state["levels"] for state in table.statistics_}
    levels.update(zip(table.categorical_columns_, table.vocabularies_))
    for column in (c for c in numbers if c in levels):
        inexact = [level for level in levels[column] if not _double_exactly(level)]
        if inexact:
            raise OnnxExportError(f"Column {column!r} of input {name!r} is an ID code whose values, such as "
                                  f"{inexact[0]}, are integers beyond 2**53, which an ONNX double input cannot hold "
                                  f"exactly: pass the column as strings (df[{column!r}].astype(str)) before fit to "
                                  f"export.")


def _double_exactly(level: str) -> bool:
    """Whether ``level`` names no integer, or one that a double holds exactly."""
    try:
        number = int(level)
    except ValueError:
        return True
    return float(number) == number


def network_onnx(predictor):
    """The Keras network as an ``onnx.ModelProto`` (batch dimension dynamic), exported with the torch backend."""
    onnx = _onnx()
    import keras

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "network.onnx"
        if keras.backend.backend() == "torch":
            export_network(predictor.model, out)
        else:
            model_file = predictor.path / predictor.manifest["model"]["file"]
            command = [sys.executable, "-m", "autodeep.deploy.onnx_export", str(model_file), str(out)]
            done = subprocess.run(command, env={**os.environ, "KERAS_BACKEND": "torch"}, capture_output=True,
                                  text=True, timeout=600)
            if done.returncode != 0:
                raise OnnxExportError(f"The network could not be exported with the torch backend:\n"
                                      f"{done.stderr[-2000:]}")
        return onnx.load(out)


def export_network(model, path) -> None:
    """Write the Keras ``model`` (torch backend) to ``path`` as ONNX, one named input per model input."""
    import keras

    signature = [{i.name: keras.InputSpec(shape=i.shape, dtype=i.dtype, name=i.name) for i in model.inputs}]
    try:
        with warnings.catch_warnings():  # the torch tracer's notes on constants are expected here
            warnings.simplefilter("ignore")
            model.export(str(path), format="onnx", verbose=False, input_signature=signature)
    except Exception as error:
        raise OnnxExportError(f"The Keras network could not be exported to ONNX ({type(error).__name__}: "
                              f"{error}).") from error


def preprocessing_graph(predictor):
    """``(graph inputs, builder)``: raw inputs -> ``<input>__<key>`` arrays, named as the network's inputs."""
    from onnx import helper

    from autodeep.deploy.onnx_table import GraphBuilder, table_graph

    inputs, builder = [], GraphBuilder("pre")
    for entry, pre in zip(predictor.manifest["inputs"], predictor.preprocessors):
        name = entry["name"]
        if entry["preprocessor"]["class"] == "TablePreprocessor":
            clash = sorted(set(pre.columns_) & set(OUTPUT_NAMES))
            if clash:
                raise OnnxExportError(f"Column {clash[0]!r} of input {name!r} has the name of an output of the "
                                      f"ONNX graph ({', '.join(OUTPUT_NAMES)}); rename it before fit to export.")
            columns, part = table_graph(pre.table_, f"pre_{name}", f"{name}__numerical", f"{name}__categorical")
            order = {c: i for i, c in enumerate(pre.columns_)}
            inputs += sorted(columns, key=lambda v: order.get(v.name, len(order)))
            builder.nodes += part.nodes
            builder.initializers += part.initializers
            continue
        key, (shape, dtype) = next(iter(pre.specs()["features"].items()))
        inputs.append(helper.make_tensor_value_info(name, _tensor_type(dtype), ["n", *shape]))
        builder.op("Identity", name, output=f"{name}__{key}")
    return inputs, builder


def _tensor_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def decoding_graph(predictor, raw: str):
    """``(outputs, builder)``: the network's output ``raw`` -> ``probabilities`` ``(n, K)`` and ``label``
    ``(n,)`` (classification, labels in the user's type) or ``values`` (regression)."""
    from onnx import TensorProto, helper

    from autodeep.deploy.onnx_table import GraphBuilder

    g, codec = GraphBuilder("post"), predictor.codecs[0]
    width = predictor.model.outputs[0].shape[-1]
    if codec.task == "regression":
        shape = g.const(np.array([-1], dtype="int64")) if width == 1 else g.const(np.array([-1, width], "int64"))
        g.op("Reshape", raw, shape, output="values")
        dims = ["n"] if width == 1 else ["n", width]
        return [helper.make_tensor_value_info("values", TensorProto.FLOAT, dims)], g
    if width == 1:
        g.op("Concat", g.op("Sub", g.const(np.ones((1, 1), "float32")), raw), raw, axis=1, output="probabilities")
    else:
        g.op("Identity", raw, output="probabilities")
    classes = codec.classes_
    classes = classes.astype(object) if classes.dtype.kind in "US" else classes
    index = g.op("ArgMax", "probabilities", axis=1, keepdims=0)
    g.op("Gather", g.const(classes), index, axis=0, output="label")
    label_type = TensorProto.STRING if classes.dtype == object else _tensor_type(classes.dtype)
    return [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", len(classes)]),
            helper.make_tensor_value_info("label", label_type, ["n"])], g


def _model(name: str, inputs, outputs, builder):
    from onnx import helper

    graph = helper.make_graph(builder.nodes, name, inputs, outputs, initializer=builder.initializers)
    return helper.make_model(graph, ir_version=IR_VERSION, opset_imports=_opsets())


def _opsets() -> list:
    from onnx import helper

    return [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]


def build_onnx(predictor):
    """The whole pipeline of a loaded model (``ak.load_model``) as one checked ``onnx.ModelProto``."""
    onnx = _onnx()
    from onnx import compose, helper

    check_exportable(predictor)
    net = compose.add_prefix(network_onnx(predictor), NET_PREFIX)
    inputs, pre = preprocessing_graph(predictor)
    pre_model = _model("autodeep_preprocessing", inputs, _unprefixed(net.graph.input), pre)
    io_map = [(n.name[len(NET_PREFIX):], n.name) for n in net.graph.input]
    net = _with_opsets(net)
    joined = compose.merge_models(pre_model, net, io_map=io_map)
    raw = net.graph.output[0].name
    outputs, post = decoding_graph(predictor, raw)
    post_model = _model("autodeep_decoding", [net.graph.output[0]], outputs, post)
    model = compose.merge_models(joined, post_model, io_map=[(raw, raw)])
    model.graph.name = "autodeep"
    onnx.checker.check_model(model)
    return model


def _unprefixed(values) -> list:
    """Copies of the network's input value infos without ``NET_PREFIX``: the preprocessing graph's outputs."""
    copies = []
    for value in values:
        copy = type(value)()
        copy.CopyFrom(value)
        copy.name = value.name[len(NET_PREFIX):]
        copies.append(copy)
    return copies


def _with_opsets(model):
    """``model`` at the preprocessing graph's opsets (``merge_models`` requires the same): converted with
    ``onnx.version_converter`` when the exporter wrote another opset, and declaring ``ai.onnx.ml``."""
    from onnx import version_converter

    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
    if version != OPSET:
        model = version_converter.convert_version(model, OPSET)
    del model.opset_import[:]
    model.opset_import.extend(_opsets())
    model.ir_version = IR_VERSION
    return model


def export_onnx(predictor, path) -> Path:
    """Write ``predictor``'s whole pipeline to ``path`` (see ``Predictor.export_onnx``)."""
    onnx = _onnx()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_onnx(predictor), path)
    return path


def onnx_feeds(predictor, x) -> dict[str, np.ndarray]:
    """The ONNX graph's inputs for raw ``x``: per table column ``(n, 1)`` doubles (NaN when missing) or strings
    (category names as ``predict`` reads them, ``"__missing__"`` when missing); arrays as they are.

    Example:
        >>> import autodeep as ak
        >>> feeds = onnx_feeds(ak.load_model("credit_model"), df)  # doctest: +SKIP
    """
    from autodeep.deploy.onnx_table import raw_columns

    raws = predictor._per_input(x, "x")
    feeds = {}
    for entry, pre, raw in zip(predictor.manifest["inputs"], predictor.preprocessors, raws):
        if entry["preprocessor"]["class"] != "TablePreprocessor":
            key, (_, dtype) = next(iter(pre.specs()["features"].items()))
            feeds[entry["name"]] = np.asarray(pre.transform(raw)[key], dtype=dtype)
            continue
        frame = pre._frame(raw, fitted=True)
        numbers, strings = raw_columns(pre.table_)
        for name in numbers:
            feeds[name] = _numbers(frame[name]).reshape(-1, 1)
        for name in strings:
            feeds[name] = _category_strings(frame[name]).reshape(-1, 1)  # the names predict looks up
    return feeds


if __name__ == "__main__":  # the subprocess of ``network_onnx``: MODEL_FILE OUT, with KERAS_BACKEND=torch
    import keras

    import autodeep.blocks  # noqa: F401  (registers autodeep's layers for safe loading)

    export_network(keras.saving.load_model(sys.argv[1], safe_mode=True, compile=False), sys.argv[2])
