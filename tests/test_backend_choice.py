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


FIT_ONCE = """
import jax.monitoring, numpy as np, autodeep, keras
from autodeep.train import fit_model
hits = []
jax.monitoring.register_event_listener(lambda event, **kw: hits.append(event)
                                       if event == "/jax/compilation_cache/cache_hits" else None)
x = np.linspace(0, 1, 96, dtype="float32").reshape(32, 3); y = x.sum(1, keepdims=True)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
model.compile("adam", "mse")
fit_model(model, x, y, validation_data=(x, y), epochs=1)
import jax; print(f"hits={len(hits)} folder={jax.config.jax_compilation_cache_dir}")
"""


def _fit_in_a_fresh_process(tmp_path, **variables) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "KERAS_BACKEND"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), KERAS_BACKEND="jax", **variables)
    done = subprocess.run([sys.executable, "-c", FIT_ONCE], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    hits, folder = done.stdout.strip().splitlines()[-1].split(" ")
    return int(hits.removeprefix("hits=")), folder.removeprefix("folder=")


def test_a_network_compiled_by_an_earlier_process_is_read_from_the_compilation_cache(tmp_path):
    first, folder = _fit_in_a_fresh_process(tmp_path)
    assert folder == str(tmp_path / "xdg" / "autodeep" / "jax") and first == 0
    assert any(Path(folder).iterdir())
    second, _ = _fit_in_a_fresh_process(tmp_path)
    assert second > 0


def test_the_compilation_cache_follows_jax_own_settings(tmp_path):
    own = tmp_path / "own"
    assert _fit_in_a_fresh_process(tmp_path, JAX_COMPILATION_CACHE_DIR=str(own),
                                   JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")[1] == str(own)
    assert any(own.iterdir()) and not (tmp_path / "xdg" / "autodeep").exists()
    assert _fit_in_a_fresh_process(tmp_path, JAX_ENABLE_COMPILATION_CACHE="false") == (0, "None")
    assert not (tmp_path / "xdg" / "autodeep").exists()
