"""Scale out and survive: several workers on one study, heartbeats, kill -9 and resume, failing trials,
repeatable configurations, tampered artifacts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import cloudpickle
import keras
import numpy as np
import optuna
import pytest

import autodeep as ak
from autodeep.search import SearchFailed, Searcher
from autodeep.search.worker import (gpu_visible, load_payload, save_payload, start_workers,
                                     use_mixed_precision_on_gpu, visible_gpus, worker_environment)
from helpers import orphan_trial

# Callbacks and blocks below travel to worker processes by value (the workers cannot import this file).
cloudpickle.register_pickle_by_value(sys.modules[__name__])
REPO = Path(__file__).resolve().parents[1]


def _regression_data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x.sum(axis=1)


class SmallSearch(ak.AutoModel):
    """A cheap search: one small dense layer, four known-good learning rates tried first."""

    def __init__(self, **kwargs):
        inp = ak.Input()
        out = ak.RegressionHead()(ak.DenseBlock(num_layers=1, num_units=16, dropout=0.0)(inp))
        super().__init__(inputs=inp, outputs=out, **kwargs)

    def _initial_configs(self, graph, specs):
        return [{"learning_rate": rate} for rate in (1e-3, 3e-3, 3e-4, 1e-4)]


class WaitForPeer(keras.callbacks.Callback):
    """Holds a trial until a second worker has started one, so both workers surely share the budget."""

    def __init__(self, url: str, study_name: str, timeout: float = 90.0):
        super().__init__()
        self.url, self.study_name, self.timeout = url, study_name, timeout

    def on_train_begin(self, logs=None):
        end = time.time() + self.timeout
        while time.time() < end:
            trials = optuna.load_study(study_name=self.study_name, storage=self.url).get_trials(deepcopy=False)
            if len({t.user_attrs.get("worker") for t in trials} - {None}) >= 2:
                return
            time.sleep(0.2)


def test_two_worker_processes_share_one_postgresql_study(tmp_path):
    url = os.environ.get("AUTODEEP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("AUTODEEP_TEST_POSTGRES_URL is not set: .ci/run starts a PostgreSQL server and sets it")
    name = f"pg_{uuid.uuid4().hex[:10]}"
    x, y = _regression_data()
    model = SmallSearch(directory=tmp_path, project_name=name, storage=url, n_workers=2, max_trials=3, seed=0,
                        verbose=0, ensemble_size=1)
    model.fit(x, y, epochs=1, callbacks=[WaitForPeer(url, name)])
    study = optuna.load_study(study_name=name, storage=url)
    counted = [t for t in study.trials if not t.user_attrs.get("overflow")]
    complete = [t for t in counted if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(counted) == 3 and len(complete) == 3  # the budget is shared: no overshoot
    workers = [t.user_attrs["worker"] for t in complete]
    assert len(set(workers)) == 2, workers  # trials were split between the two processes
    numbers = [t.number for t in complete]
    assert len(set(numbers)) == len(numbers)
    folders = {p.name for p in (tmp_path / name / "trials").iterdir() if (p / "metrics.json").is_file()}
    assert folders == {f"trial_{n:04d}" for n in numbers}  # every complete trial has its own folder
    # the known-good configurations were planned by trial number: no two workers ran the same one
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == 3
    manifest = json.loads((tmp_path / name / "best_model" / "manifest.json").read_text())
    assert manifest["info"]["best_trial"] == study.best_trial.number
    assert manifest["info"]["best_score"] == pytest.approx(study.best_value)
    assert study.user_attrs["autodeep_max_trials"] == 3 and Path(study.user_attrs["autodeep_payload"]).is_file()


def test_concurrent_loops_on_one_sqlite_study_do_not_overshoot_or_duplicate(tmp_path):
    """Two loops (threads here; processes and machines in the PostgreSQL test) racing on one study."""
    url = f"sqlite:///{tmp_path}/study.db"
    configs = [{"kind": k, "x": v} for k in "abc" for v in (0.0, 1.0)]

    def probe(hp):
        return hp.Float("x", -2.0, 2.0, default=0.5), hp.Choice("kind", ["a", "b", "c"], default="a")

    def objective(number, hp, reporter, deadline):
        x, kind = probe(hp)
        time.sleep(0.05)
        return (x - 1.0) ** 2

    def loop():
        Searcher("greedy", max_trials=10, storage=url, seed=0, verbose=0, fail_running=False,
                 initial_configs=configs, heartbeat_interval=1).run(probe, objective)

    Searcher(storage=url, verbose=0).open_study()
    threads = [threading.Thread(target=loop) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    trials = [t for t in optuna.load_study(study_name="autodeep", storage=url).trials
              if not t.user_attrs.get("overflow")]
    assert len(trials) == 10 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    firsts = [json.dumps(t.params, sort_keys=True) for t in trials if t.number < 6]
    assert len(set(firsts)) == 6  # each known-good configuration ran exactly once


def test_a_dead_workers_trial_is_failed_by_its_missing_heartbeat(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    searcher = Searcher("random", max_trials=3, storage=url, seed=0, verbose=0, fail_running=False,
                        heartbeat_interval=1, grace_period=2)
    orphan_trial(searcher)  # a worker that started a trial, sent one heartbeat and died
    time.sleep(2.5)
    ran = []

    def objective(number, hp, reporter, deadline):
        ran.append(number)
        return hp.Float("x", 0.0, 1.0)

    study = searcher.run(lambda hp: hp.Float("x", 0.0, 1.0), objective)
    assert study.trials[0].state == optuna.trial.TrialState.FAIL
    assert "heartbeat" in study.trials[0].user_attrs["error"] and study.trials[0].user_attrs["interrupted"]
    assert len([t for t in study.trials if t.user_attrs.get("rerun_of") == 0]) == 1
    assert ran == [1, 2, 3]  # the dead worker's trial does not count: it runs again, with two new ones


def test_worker_environment_threads_and_gpus(monkeypatch):
    env = worker_environment(threads=1, gpu="3", base={"XLA_FLAGS": "--xla_dump_to=/tmp/x"})
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["AUTODEEP_WORKER_THREADS"] == "1"
    assert env["XLA_FLAGS"].split() == ["--xla_dump_to=/tmp/x", "--xla_cpu_multi_thread_eigen=false",
                                        "intra_op_parallelism_threads=1"]
    assert env["CUDA_VISIBLE_DEVICES"] == "3" and "CUDA_VISIBLE_DEVICES" not in worker_environment(base={})
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert visible_gpus() == ["0", "1"]
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda command, env: started.append((command, env)))
    start_workers(3, "sqlite:////tmp/s.db", "study", threads=2)
    # the calling process keeps GPU 0; workers take the others in turn, each with its thread share
    assert [e["CUDA_VISIBLE_DEVICES"] for _, e in started] == ["1", "0", "1"]
    assert all(e["OMP_NUM_THREADS"] == "2" and c[-3:] == ["--study-name", "study", "--quiet"] for c, e in started)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []
    # no GPU visible to the backend here: the policy stays float32 (mixed_float16 is for GPUs only)
    assert use_mixed_precision_on_gpu() is (False if not gpu_visible() else True)
    assert keras.mixed_precision.global_policy().name == ("mixed_float16" if gpu_visible() else "float32")
    keras.mixed_precision.set_global_policy("float32")


def test_payload_keeps_large_arrays_out_of_the_pickle(tmp_path):
    big = np.arange(100_000, dtype="float32").reshape(1000, 100)
    path = save_payload(tmp_path / "w", {"arrays": {"x": big, "same": big}, "fn": lambda a: a.sum()})
    assert path.stat().st_size < 10_000 and len(list((tmp_path / "w").glob("*.npy"))) == 1
    loaded = load_payload(path)
    assert isinstance(loaded["arrays"]["x"], np.memmap) and not loaded["arrays"]["x"].flags.writeable
    assert loaded["fn"](loaded["arrays"]["same"]) == big.sum()
    with pytest.raises(TypeError, match="cannot be pickled"):
        save_payload(tmp_path / "bad", {"lock": __import__("threading").Lock()})


def test_a_worker_refuses_a_search_published_by_other_autodeep_code(tmp_path):
    from types import SimpleNamespace

    from autodeep.search import Searcher
    from autodeep.search.worker import CODE_ATTR, code_fingerprint, publish_search, run_worker

    url = f"sqlite:///{tmp_path}/s.db"
    searcher = Searcher("random", max_trials=2, storage=url, study_name="s", verbose=0)
    trial = SimpleNamespace(probe=lambda hp: hp.Float("x", 0.0, 1.0), run=lambda n, hp, r, d: 0.0, cohort_size=1)
    study = publish_search(searcher, trial, None, tmp_path / "workers")
    assert study.user_attrs[CODE_ATTR] == code_fingerprint()
    study.set_user_attr(CODE_ATTR, "0123456789abcdef")  # as if published by another version
    with pytest.raises(RuntimeError, match=r"published by other autodeep code \(fingerprint 0123456789abcdef\)"):
        run_worker(url, "s", verbose=0)
    assert len(study.trials) == 0  # the worker ran nothing


KILL_SCRIPT = """
import sys, time, keras
sys.path.insert(0, sys.argv[2])
from test_scale import SmallSearch, _regression_data
class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(1.0)
SmallSearch(directory=sys.argv[1], project_name="k", max_trials=2, seed=0, verbose=0).fit(
    *_regression_data(), epochs=1, callbacks=[Slow()])
"""


def _wait_for(condition, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_mid_trial_then_resume_keeps_finished_trials_and_reruns_the_cut_off_one(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(Path(__file__).parent)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})  # this checkout's autodeep, not the installed one
    url = f"sqlite:///{tmp_path}/k/study.db"

    def running_after_first():
        if not (tmp_path / "k" / "study.db").is_file():
            return False
        try:
            states = [t.state for t in optuna.load_study(study_name="k", storage=url).trials]
        except Exception:  # the study is not created yet
            return False
        return optuna.trial.TrialState.COMPLETE in states and optuna.trial.TrialState.RUNNING in states

    try:
        _wait_for(running_after_first, 180, "a finished trial and a running one")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = [t.number for t in optuna.load_study(study_name="k", storage=url).trials
              if t.state == optuna.trial.TrialState.RUNNING]
    assert len(killed) == 1
    before = {t.number: t.value for t in optuna.load_study(study_name="k", storage=url).trials
              if t.state == optuna.trial.TrialState.COMPLETE}
    mtimes = {n: (tmp_path / "k" / "trials" / f"trial_{n:04d}" / "metrics.json").stat().st_mtime_ns for n in before}

    model = SmallSearch(directory=tmp_path, project_name="k", max_trials=3, seed=0, verbose=0, overwrite=False)
    x, y = _regression_data()
    model.fit(x, y, epochs=1)
    trials = model.study_.trials
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trials) == 4 and len(complete) == 3  # the cut-off trial did not use the budget
    # the rerun took the cut-off trial's place: the known-good rates in their planned order, as without a crash
    assert [t.params["learning_rate"] for t in complete] == [1e-3, 3e-3, 3e-4]
    rerun = trials[killed[0] + 1]
    assert rerun.user_attrs["rerun_of"] == killed[0] and rerun.state == optuna.trial.TrialState.COMPLETE
    for number, value in before.items():  # finished trials are kept, not rerun
        assert trials[number].value == value
        assert (tmp_path / "k" / "trials" / f"trial_{number:04d}" / "metrics.json").stat().st_mtime_ns == \
            mtimes[number]
    assert trials[killed[0]].state == optuna.trial.TrialState.FAIL
    assert trials[killed[0]].user_attrs["error"].startswith("interrupted")
    table = model.tuner_results.set_index("number")  # the interruption stays visible
    assert bool(table.loc[killed[0], "user_attrs_interrupted"]) and table.loc[killed[0], "state"] == "FAIL"
    assert not (tmp_path / "k" / "trials" / f"trial_{killed[0]:04d}" / "metrics.json").exists()
    info = model.predictor_.manifest["info"]
    assert info["best_trial"] == model.study_.best_trial.number and info["best_score"] == model.study_.best_value
    assert np.all(np.isfinite(model.evaluate(x, y)))  # the export serves predictions


class Explode(ak.Block):
    """A block whose trials fail on purpose: NaN activations, a simulated out-of-memory, or fine."""

    def build(self, hp, inputs):
        mode = hp.Choice("mode", ["ok", "nan", "oom"], default="ok")
        x = keras.layers.Dense(4)(inputs)
        if mode == "oom":
            raise MemoryError("out of memory (simulated)")
        if mode == "nan":
            return keras.layers.Lambda(lambda t: t * float("nan"))(x)
        return x


class ExplodingSearch(ak.AutoModel):
    modes = ("nan", "oom", "ok")

    def _initial_configs(self, graph, specs):
        return [{"explode/mode": m} for m in self.modes]


def test_nan_loss_and_out_of_memory_trials_are_recorded_and_the_search_goes_on(tmp_path):
    x, y = _regression_data()
    inp = ak.Input()
    model = ExplodingSearch(inputs=inp, outputs=ak.RegressionHead()(Explode(name="explode")(inp)),
                            directory=tmp_path, max_trials=3, seed=0, verbose=0, ensemble_size=1)
    model.fit(x, y, epochs=1)
    trials = model.study_.trials
    assert [t.state.name for t in trials] == ["FAIL", "FAIL", "COMPLETE"]
    assert "nan" in trials[0].user_attrs["error"].lower()
    assert trials[1].user_attrs["error"] == "MemoryError: out of memory (simulated)"
    assert model.predictor_.manifest["info"]["best_trial"] == 2

    ExplodingSearch.modes = ("nan", "oom", "nan", "ok")
    inp = ak.Input()
    hopeless = ExplodingSearch(inputs=inp, outputs=ak.RegressionHead()(Explode(name="explode")(inp)),
                               directory=tmp_path, project_name="hopeless", max_trials=4, seed=0, verbose=0,
                               max_consecutive_failures=2)
    try:
        with pytest.raises(SearchFailed, match=r"last 2 trials failed \(max_consecutive_failures=2\).*MemoryError"):
            hopeless.fit(x, y, epochs=1)
    finally:
        ExplodingSearch.modes = ("nan", "oom", "ok")
    study = optuna.load_study(study_name="hopeless", storage=f"sqlite:///{tmp_path}/hopeless/study.db")
    assert len(study.trials) == 2  # it stopped instead of burning the rest of the budget


def test_same_seed_same_data_gives_the_same_trial_configurations(tmp_path):
    x, y = _regression_data(80)

    def search(seed, folder):
        inp = ak.Input(name="x")
        out = ak.RegressionHead(name="y")(ak.DenseBlock(num_layers=1, num_units=16, name="dense")(inp))
        model = ak.AutoModel(inputs=inp, outputs=out, directory=tmp_path,
                             project_name=folder, max_trials=2, seed=seed, verbose=0, ensemble_size=1, refit=False)
        model.fit(x, y, epochs=1)
        return [t.params for t in model.study_.trials], [t.value for t in model.study_.trials]

    params, scores = search(3, "a")
    params_again, scores_again = search(3, "b")
    assert params == params_again and len(params) == 2
    assert len({json.dumps(p, sort_keys=True) for p in params}) == 2  # greedy explored: two configurations
    np.testing.assert_allclose(scores, scores_again, rtol=1e-5)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifact")
    x, y = _regression_data()
    model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), directory=folder, max_trials=1,
                         seed=0, verbose=0)
    model.fit(x, y, epochs=1)
    return model.save(folder / "saved"), x


def _tampered(saved: Path, tmp_path: Path, change) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    change(copy, manifest)
    if manifest is not None:
        (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def _resign(folder: Path, manifest: dict):
    import hashlib

    manifest["model"]["sha256"] = hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()


def _truncate(folder, manifest):
    data = (folder / "model.keras").read_bytes()
    (folder / "model.keras").write_bytes(data[: len(data) // 2])
    _resign(folder, manifest)  # the checksum matches: the loader itself must notice


def _lambda_model(folder, manifest):
    inp = keras.Input((3,), name="input_1__x")
    keras.Model(inp, keras.layers.Lambda(lambda t: t * 2.0)(inp)).save(folder / "model.keras")
    _resign(folder, manifest)


@pytest.mark.parametrize("change, message", [
    (lambda f, m: m.update(format="something-else"), "not an autodeep manifest"),
    (lambda f, m: m.pop("model"), "manifest"),
    (lambda f, m: m["inputs"][0].update(preprocessor={"class": "os.system", "config": {}}),
     "unknown preprocessor 'os.system'"),
    (lambda f, m: (f / "model.keras").write_bytes((f / "model.keras").read_bytes() + b"x"), "checksum"),
    (_truncate, "could not be loaded"),
    (_lambda_model, "could not be loaded.*(safe|Lambda)"),
    (lambda f, m: (f / "manifest.json").write_text('{"format": "autodeep-artifact", '), "not valid JSON"),
], ids=["format", "no-model-entry", "unknown-preprocessor", "checksum", "truncated", "lambda-code", "bad-json"])
def test_a_tampered_artifact_fails_with_a_clear_value_error(saved_model, tmp_path, change, message):
    saved, x = saved_model
    assert ak.load_model(saved).predict(x[:2]).shape == (2,)

    def apply(folder, manifest):
        change(folder, manifest)

    copy = _tampered(saved, tmp_path, apply)
    if "JSON" in message:  # the change wrote the manifest itself
        (copy / "manifest.json").write_text('{"format": "autodeep-artifact", ')
    with pytest.raises(ValueError, match=message):
        ak.load_model(copy)


def test_worker_command_explains_a_study_that_was_not_published(tmp_path):
    from autodeep.cli import main

    url = f"sqlite:///{tmp_path}/study.db"
    Searcher(storage=url, study_name="plain", verbose=0).open_study()
    with pytest.raises(ValueError, match="'plain' was not published for workers.*n_workers"):
        main(["worker", "--study", url, "--quiet"])
    Searcher(storage=url, study_name="other", verbose=0).open_study()
    with pytest.raises(ValueError, match="--study-name is needed: the storage holds 2 studies"):
        main(["worker", "--study", url])
