"""Both Keras backends: the suite runs on one (torch unless ``KERAS_BACKEND`` says otherwise, see conftest),
and every task type runs end to end on the other one here, in a subprocess (Keras fixes its backend at import).

JAX is the default for users; these tests make sure nothing in autodeep is backend-specific.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys, tempfile
    import numpy as np, pandas as pd
    import autodeep as ak, keras

    def round_trip(model, x, method="predict_proba"):
        # the model's output on x, and its largest difference from the saved and reloaded artifact's
        first = np.asarray(getattr(model, method)(x), "float64")
        again = ak.load_model(model.save(tempfile.mkdtemp() + "/m"))
        return first, float(np.abs(first - np.asarray(getattr(again, method)(x))).max())

    out = {"backend": keras.backend.backend()}
    opts = dict(verbose=0, seed=0)
    df = ak.datasets.load_credit_g().sample(200, random_state=0)
    clf = ak.StructuredDataClassifier(max_trials=2, epochs=2, directory=tempfile.mkdtemp(), **opts).fit(df, "class")
    proba, diff = round_trip(clf, df.head(8))
    out["table"] = {"rows": proba.shape[0], "max_diff": diff, "sums": proba.sum(axis=1).round(5).tolist(),
                    "trials": len(clf.study_.trials)}

    # TabM-mini: the member loss and metric inside the backend's own train step
    node = ak.StructuredDataInput()
    head = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="tabm", members=4, num_layers=1)(node))
    tabm = ak.AutoModel(node, head, max_trials=1, directory=tempfile.mkdtemp(), retrieval=False, **opts)
    tabm.fit(df.drop(columns="class"), df["class"], epochs=2)
    proba, diff = round_trip(tabm, df.drop(columns="class").head(8))
    out["tabm"] = {"shape": list(proba.shape), "max_diff": diff}

    rng = np.random.default_rng(0)
    images = rng.integers(0, 120, (60, 8, 8), dtype="uint8"); labels = np.repeat(["dark", "bright"], 30)
    images[30:] += 120
    img = ak.ImageClassifier(max_trials=1, epochs=2, refit=False, directory=tempfile.mkdtemp(), **opts)
    proba, diff = round_trip(img.fit(images, labels), images[:8])
    out["image"] = {"shape": list(proba.shape), "max_diff": diff}

    texts = np.array(["good fine great film"] * 20 + ["awful bad boring film"] * 20)
    txt = ak.TextClassifier(max_trials=1, epochs=2, refit=False, directory=tempfile.mkdtemp(), **opts)
    proba, diff = round_trip(txt.fit(texts, np.repeat([1, 0], 20)), texts[:4])
    out["text"] = {"shape": list(proba.shape), "max_diff": diff}

    steps = np.arange(120, dtype="float64")
    series = pd.DataFrame({"v": np.sin(steps / 6) + steps / 50})
    ts = ak.TimeseriesForecaster(lookback=12, predict_until=2, max_trials=1, epochs=2, refit=False,
                                 directory=tempfile.mkdtemp(), **opts)
    forecast, diff = round_trip(ts.fit(series.head(100), "v"), series.tail(20), method="predict")
    out["timeseries"] = {"shape": list(forecast.shape), "max_diff": diff}
    print(json.dumps(out))
""")


def _other_backend() -> str:
    import keras

    return "jax" if keras.backend.backend() != "jax" else "torch"


def test_every_task_runs_and_round_trips_on_the_other_backend():
    backend = _other_backend()
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    table = result["table"]
    assert table["rows"] == 8 and table["trials"] == 2 and all(abs(s - 1.0) < 1e-4 for s in table["sums"])
    assert result["image"]["shape"] == [8, 2] and result["text"]["shape"] == [4, 2] and result["tabm"]["shape"] == [8, 2]
    assert result["timeseries"]["shape"] == [20 - 12 + 1, 2]
    for task in ("table", "tabm", "image", "text", "timeseries"):  # the saved artifact predicts what the model did
        assert result[task]["max_diff"] < 1e-4, (task, result[task])


def test_jax_is_the_default_backend():
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", "import autodeep, keras; print(keras.backend.backend())"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "jax"

