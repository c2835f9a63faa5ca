"""MLflow: log a fitted model to a real tracking store, reload it as pyfunc, and serve it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import autodeep as ak

mlflow = pytest.importorskip("mlflow")
import autodeep.mlflow  # noqa: E402  (needs mlflow)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A credit-g classifier with gaps logged to a SQLite tracking store in a temporary folder."""
    folder = tmp_path_factory.mktemp("mlflow")
    df = ak.datasets.load_credit_g().sample(300, random_state=0).reset_index(drop=True)
    df.loc[::7, "purpose"] = None
    df.loc[::5, "age"] = np.nan
    x, y = df.drop(columns="class"), df["class"]
    clf = ak.StructuredDataClassifier(directory=folder / "runs", max_trials=1, epochs=1, verbose=0, seed=0)
    clf.fit(x.iloc[:250], y.iloc[:250])
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("autodeep", artifact_location=(folder / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        info = autodeep.mlflow.log_model(clf, "model")
    return clf, x.iloc[250:], info, uri


def test_pyfunc_reloaded_from_the_store_predicts_as_the_classifier(logged):
    clf, held_out, info, _ = logged
    reloaded = mlflow.pyfunc.load_model(info.model_uri)
    assert list(reloaded.predict(held_out)) == list(clf.predict(held_out))
    assert held_out["purpose"].isna().any() and held_out["age"].isna().any()


def test_log_model_rejects_an_unfitted_model_naming_the_argument():
    with pytest.raises(TypeError, match="model must be a fitted autodeep task.*received StructuredDataClassifier"):
        autodeep.mlflow.log_model(ak.StructuredDataClassifier(), "model")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, server: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mlflow models serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_mlflow_models_serve_answers_one_real_request(logged, tmp_path):
    clf, held_out, info, uri = logged
    rows = held_out.head(5)
    port = _free_port()
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", info.model_uri,
                               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                              env={**os.environ, "MLFLOW_TRACKING_URI": uri}, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ping", server, seconds=180)
        split = json.loads(rows.to_json(orient="split"))  # NaN -> null
        body = json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"]}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()
    assert answer["predictions"] == list(clf.predict(rows))
