"""The same search runs on the torch backend (JAX is the default): no backend-specific code in autodeep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys, tempfile
    import numpy as np
    import autodeep as ak, keras
    df = ak.datasets.load_credit_g().sample(200, random_state=0)
    clf = ak.StructuredDataClassifier(max_trials=2, epochs=2, verbose=0, seed=0, directory=tempfile.mkdtemp())
    clf.fit(df, "class")
    proba = clf.predict_proba(df.head(8))
    path = clf.save(tempfile.mkdtemp() + "/m")
    again = ak.load_model(path).predict_proba(df.head(8))
    print(json.dumps({"backend": keras.backend.backend(), "rows": proba.shape[0],
                      "max_diff": float(np.abs(proba - again).max()),
                      "sums": proba.sum(axis=1).round(5).tolist()}))
""")


@pytest.mark.parametrize("backend", ["torch"])
def test_search_and_artifact_on_another_backend(backend):
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend and result["rows"] == 8
    assert result["max_diff"] < 1e-5 and all(abs(s - 1.0) < 1e-4 for s in result["sums"])


def test_jax_is_the_default_backend():
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", "import autodeep, keras; print(keras.backend.backend())"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "jax"
