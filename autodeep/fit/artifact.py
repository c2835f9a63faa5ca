"""The exported artifact: preprocessing state + one ``.keras`` model + a manifest, and ``load_model``.

Layout of an artifact folder::

    manifest.json   format, version, inputs (kind, preprocessor config), outputs
                    (task, target codec, target format), model file and its sha256
    model.keras     the Keras model (an ensemble is itself one model)

Loading runs Keras in safe mode and builds preprocessors only from a fixed
registry of classes, so a file can never make ``load_model`` execute code.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

import autodeep
from autodeep.blocks.heads import format_targets
from autodeep.storage import atomic_write_json, read_json, replace_directory
from autodeep.data import TargetCodec
from autodeep.modalities import preprocessor_from_config
from autodeep.train import quiet_optimizer_state
from autodeep.train.batches import evaluate_model, predict_model

FORMAT = "autodeep-artifact"
VERSION = 1
MODEL_FILE = "model.keras"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_artifact(path, model, inputs: list[dict], outputs: list[dict], info: dict | None = None) -> Path:
    """Write an artifact folder atomically (a crash leaves the previous export intact).

    ``inputs``: per input ``{"name", "kind", "preprocessor": obj}``; ``outputs``: per head
    ``{"name", "task", "codec": TargetCodec, "target_format", "num_classes", "threshold", "threshold_source"}``
    (``threshold``: a binary head's decision threshold, None for 0.5; ``threshold_source``: ``"out_of_fold"``,
    ``"validation"``, ``"fixed"`` or None).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.staging-"))
    model.save(staging / MODEL_FILE)
    manifest = {
        "format": FORMAT, "version": VERSION, "autodeep_version": autodeep.__version__,
        "keras_backend": _backend(),
        "inputs": [{"name": i["name"], "kind": i["kind"],
                    "preprocessor": {"class": type(i["preprocessor"]).__name__,
                                     "config": i["preprocessor"].get_config()}} for i in inputs],
        "outputs": [{"name": o["name"], "task": o["task"], "codec": o["codec"].get_config(),
                     "target_format": o["target_format"], "num_classes": o.get("num_classes"),
                     "threshold": o.get("threshold"), "threshold_source": o.get("threshold_source")}
                    for o in outputs],
        "model": {"file": MODEL_FILE, "sha256": _sha256(staging / MODEL_FILE)},
        "info": info or {},
    }
    atomic_write_json(staging / "manifest.json", manifest)
    replace_directory(staging, path)
    return path


def _model_entry(manifest: dict, manifest_path: Path) -> tuple[str, str]:
    """The manifest's model file name (a plain name inside the folder) and its sha256."""
    entry = manifest.get("model")
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or \
            not isinstance(entry.get("sha256"), str) or Path(entry["file"]).name != entry["file"]:
        raise ValueError(f"{manifest_path} has no valid 'model' entry (a file name inside the folder and its "
                         f"sha256); received {entry!r}: the manifest was modified after export.")
    return entry["file"], entry["sha256"]


def _backend() -> str:
    import keras

    return keras.backend.backend()


class Predictor:
    """A trained autodeep model that takes raw inputs: what ``ak.load_model`` returns.

    Example:
        >>> import autodeep as ak, pandas as pd
        >>> clf = ak.StructuredDataClassifier(max_trials=1, epochs=1, overwrite=True, verbose=0,
        ...                                   directory=__import__("tempfile").mkdtemp())
        >>> df = ak.datasets.load_credit_g().head(200)
        >>> _ = clf.fit(df.drop(columns="class"), df["class"])
        >>> clf.save(clf.directory + "/exported").name
        'exported'
        >>> m = ak.load_model(clf.directory + "/exported")
        >>> m.predict(df.drop(columns="class").head(3)).shape
        (3,)
    """

    def __init__(self, path, manifest: dict, model, preprocessors: list, codecs: list):
        self.path = Path(path)
        self.manifest = manifest
        self.model = model
        self.preprocessors = preprocessors
        self.codecs = codecs

    @classmethod
    def load(cls, path) -> "Predictor":
        import keras

        import autodeep.blocks  # noqa: F401  (registers autodeep's layers for safe loading)

        path = Path(path)
        manifest_path = path / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{path} is not an autodeep model: {manifest_path} does not exist.")
        manifest = read_json(manifest_path)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
            raise ValueError(f"{manifest_path} is not an autodeep manifest (format={found!r}).")
        if not isinstance(manifest.get("version", 0), int) or manifest.get("version", 0) > VERSION:
            raise ValueError(f"{path} was saved by a newer autodeep (artifact version {manifest['version']!r}).")
        model_file, checksum = _model_entry(manifest, manifest_path)
        model_path = path / model_file
        if not model_path.is_file():
            raise ValueError(f"The model file {model_path} is missing.")
        if _sha256(model_path) != checksum:
            raise ValueError(f"{model_path} does not match the checksum in its manifest: "
                             f"the file is truncated or was modified after export.")
        try:
            with quiet_optimizer_state():
                model = keras.saving.load_model(model_path, safe_mode=True)
        except Exception as error:
            model = _load_uncompiled(model_path, manifest, error)
        try:
            preprocessors = [preprocessor_from_config(i["preprocessor"]) for i in manifest["inputs"]]
            codecs = [TargetCodec.from_config(o["codec"]) for o in manifest["outputs"]]
        except ValueError:
            raise
        except (KeyError, TypeError, AttributeError, IndexError) as error:
            raise ValueError(f"{manifest_path} has malformed inputs/outputs entries ({type(error).__name__}: "
                             f"{error}): the manifest was modified after export.") from None
        return cls(path, manifest, model, preprocessors, codecs)

    # -- inputs --------------------------------------------------------------
    def _per_input(self, x, argument: str) -> list:
        n = len(self.preprocessors)
        if n == 1:
            wrapped = isinstance(x, (list, tuple)) and len(x) == 1 and _is_container(x[0])
            return [x[0] if wrapped else x]
        if not isinstance(x, (list, tuple)) or len(x) != n:
            raise ValueError(f"{argument} must be a list of {n} inputs "
                             f"({[i['name'] for i in self.manifest['inputs']]}); received {type(x).__name__}.")
        return list(x)

    def transform(self, x) -> dict[str, np.ndarray]:
        """Raw inputs -> the named arrays the Keras model takes."""
        arrays = {}
        raws = self._per_input(x, "x")
        lengths = set()
        for entry, pre, raw in zip(self.manifest["inputs"], self.preprocessors, raws):
            for key, value in pre.transform(raw).items():
                arrays[f"{entry['name']}__{key}"] = value
                lengths.add(len(value))
        if len(lengths) > 1:
            raise ValueError(f"The inputs in x have different numbers of rows: {sorted(lengths)}.")
        return arrays

    def _raw_outputs(self, x, batch_size=None) -> list[np.ndarray]:
        out = predict_model(self.model, self.transform(x), batch_size=batch_size)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def _unwrap(self, values: list):
        return values[0] if len(values) == 1 else values

    # -- public --------------------------------------------------------------
    def predict(self, x, batch_size: int | None = None, **kwargs):
        """Predictions in the user's terms: original class labels (a binary head's decided at its manifest's
        ``threshold`` when it has one), or values in the target's units."""
        outputs = self._raw_outputs(x, batch_size)
        return self._unwrap([_decode(c, o, entry.get("threshold"))
                             for c, o, entry in zip(self.codecs, outputs, self.manifest["outputs"])])

    def predict_proba(self, x, batch_size: int | None = None, **kwargs):
        """Class probabilities, ``(n, n_classes)``, columns in the order of ``classes_``."""
        if all(c.task != "classification" for c in self.codecs):
            raise ValueError("predict_proba needs a classification head; this model only does regression.")
        outputs = self._raw_outputs(x, batch_size)
        return self._unwrap([c.probabilities(o) for c, o in zip(self.codecs, outputs) if c.task == "classification"])

    @property
    def classes_(self):
        found = [c.classes_ for c in self.codecs if c.task == "classification"]
        return self._unwrap(found) if found else None

    def targets(self, y) -> dict | np.ndarray:
        """The user's targets -> what the Keras model's losses take."""
        ys = [y] if len(self.codecs) == 1 else list(y)
        if len(ys) != len(self.codecs):
            raise ValueError(f"y must hold {len(self.codecs)} targets (one per head); received {len(ys)}.")
        prepared = {o["name"]: format_targets(c.encode(t), o["target_format"], o.get("num_classes"))
                    for o, c, t in zip(self.manifest["outputs"], self.codecs, ys)}
        return prepared if len(prepared) > 1 else next(iter(prepared.values()))

    def evaluate(self, x, y, batch_size: int | None = None, **kwargs):
        """Loss and metrics on ``(x, y)``, as Keras' ``evaluate`` returns them (a scalar or a list)."""
        return evaluate_model(self.model, self.transform(x), self.targets(y), batch_size=batch_size)

    def export_model(self):
        """The Keras model behind this predictor (numeric inputs, named ``<input>__<key>``)."""
        return self.model

    def export_onnx(self, path) -> Path:
        """Write the whole pipeline, raw inputs to predictions, as one ONNX graph at ``path`` (needs
        ``pip install 'autodeep[onnx]'``); ``OnnxExportError`` names a part that cannot be exported.

        Graph inputs, one per raw column of a table, named as the column, shape ``(n, 1)``: ``double`` for a
        numeric column (NaN when missing), ``string`` for a categorical one (category names as ``predict``
        reads them; ``"__missing__"`` when missing; unseen names get the rare-category code as in
        ``predict``). An image or array input is one input named as the model's input, ``(n, ...)`` in the
        dtype the model was trained on. ``autodeep.deploy.onnx_feeds(model, x)`` builds these inputs from
        what ``predict`` takes. Outputs: ``probabilities`` ``(n, K)`` float32 (columns in the order of
        ``classes_``) and ``label`` ``(n,)``; or ``values`` for regression.

        Example:
            >>> m = ak.load_model("credit_model")    # doctest: +SKIP
            >>> m.export_onnx("credit_model.onnx")   # doctest: +SKIP
            PosixPath('credit_model.onnx')
        """
        from autodeep.deploy.onnx_export import export_onnx

        return export_onnx(self, path)


def _decode(codec: TargetCodec, output: np.ndarray, threshold: float | None):
    """A head's labels: the codec's, or a binary head's positive class where its probability >= ``threshold``."""
    if threshold is None:
        return codec.decode(output)
    positive = np.asarray(output, dtype="float64").reshape(-1) >= float(threshold)
    return np.asarray(codec.classes_)[positive.astype("int64")]


def _load_uncompiled(model_path: Path, manifest: dict, error: Exception):
    """Load without the compile config when it names a user's Python function (a custom loss or metric,
    which safe mode never imports); ``evaluate`` then uses each head's default loss and no metrics."""
    import keras

    if "Could not locate function" not in str(error):
        raise ValueError(f"{model_path} could not be loaded: {error}") from error
    try:
        model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    except Exception as second:
        raise ValueError(f"{model_path} could not be loaded: {second}") from second
    losses = {o["name"]: DEFAULT_LOSSES[o["target_format"]] for o in manifest["outputs"]}
    model.compile(loss=losses if len(losses) > 1 else next(iter(losses.values())))
    return model


#: The loss ``evaluate`` uses, per target format, for a model whose own loss was a Python function.
DEFAULT_LOSSES = {"binary": "binary_crossentropy", "multilabel": "binary_crossentropy",
                  "onehot": "categorical_crossentropy", "sparse": "sparse_categorical_crossentropy",
                  "regression": "mean_squared_error"}


def _is_container(value) -> bool:
    import pandas as pd

    return isinstance(value, (pd.DataFrame, pd.Series, np.ndarray))


def load_model(path: str | os.PathLike, custom_objects=None, **kwargs) -> Predictor:
    """Load a model saved by ``save()`` (or a project's ``best_model`` folder); it takes raw inputs.

    Example:
        >>> import autodeep as ak
        >>> model = ak.load_model("credit_model")  # doctest: +SKIP
        >>> model.predict(raw_dataframe)          # doctest: +SKIP
    """
    return Predictor.load(path)
