"""KERAS_BACKEND as a shell sets it: empty means unset, and a backend autodeep cannot use is named clearly.

Each case imports autodeep in a fresh interpreter with the real environment variable, since Keras reads it
once, at its first import."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = "import autodeep, keras; print('backend=' + keras.backend.backend())"


def _import_autodeep(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if value is not None:
        env["KERAS_BACKEND"] = value
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_an_empty_keras_backend_counts_as_unset(value):
    done = _import_autodeep(value)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "backend=jax"  # not keras.json's tensorflow


@pytest.mark.parametrize("value, error, words", [
    ("pytorch", "ValueError", ["KERAS_BACKEND='pytorch'", "'jax' (the default), 'torch' or 'tensorflow'"]),
    ("numpy", "ValueError", ["KERAS_BACKEND='numpy'", "only runs inference"]),
    ("tensorflow", "ModuleNotFoundError", ["KERAS_BACKEND='tensorflow'", "'tensorflow' package is not installed",
                                           "pip install tensorflow"]),
], ids=["unknown-name", "inference-only", "package-missing"])
def test_a_backend_autodeep_cannot_use_fails_naming_the_variable(value, error, words):
    if value == "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed here: the missing-package error cannot happen")
    done = _import_autodeep(value)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{error}: "), last
    for word in words:
        assert word in last, (word, last)
