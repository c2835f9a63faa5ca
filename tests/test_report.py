"""Seeing a search (issue 19): trial records, one trial numbering, leaderboard, progress, report, importance."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.cli import main
from autodeep.report import leaderboard
from autodeep.graph.describe import describe_architecture

TIME_LIMIT = 240


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A real tiny search on 300 rows of credit-g (2 trials, 2 epochs), its printed lines captured (stdout is
    not a terminal here, so the progress prints plain lines)."""
    df = ak.datasets.load_credit_g().head(300)
    x, y = df.drop(columns="class"), df["class"]
    directory = tmp_path_factory.mktemp("runs")
    clf = ak.StructuredDataClassifier(max_trials=2, directory=str(directory), project_name="credit", seed=0,
                                      overwrite=True, time_limit=TIME_LIMIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        clf.fit(x, y, epochs=2)
    return clf, directory / "credit", out.getvalue(), (x, y)


def test_one_trial_number_everywhere_and_a_steady_budget(searched):
    clf, project, printed, _ = searched
    lines = [line for line in printed.splitlines() if line.startswith("[autodeep] trial ")]
    logged = [int(re.match(r"\[autodeep\] trial (\d+) ", line).group(1)) for line in lines]
    folders = sorted(int(p.name.split("_")[1]) for p in (project / "trials").iterdir())
    assert logged == folders == sorted(clf.leaderboard()["trial"]) == [t.number for t in clf.study_.trials]
    budgets = {int(b) for b in re.findall(r"elapsed \d+/(\d+)s", printed)}
    assert budgets == {TIME_LIMIT}  # the user's time_limit, on every line
    best = re.search(r"done in .*: best trial (\d+) ", printed).group(1)
    assert int(best) == clf.study_.best_trial.number == clf.leaderboard()["trial"][0]


def test_each_trial_keeps_its_history(searched):
    clf, project, _, _ = searched
    for trial in clf.study_.trials:
        history = json.loads((project / "trials" / f"trial_{trial.number:04d}" / "history.json").read_text())
        assert set(history) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
        assert len(history["loss"]) == trial.user_attrs["epochs_run"] == 2
        best = trial.user_attrs["best_epoch"]
        assert history["val_loss"][best - 1] == pytest.approx(trial.value)
        assert trial.user_attrs["params"] > 0 and trial.user_attrs["fit_seconds"] > 0


def test_leaderboard_columns_order_and_weights(searched):
    clf, project, _, _ = searched
    board = clf.leaderboard()
    assert list(board.columns) == ["trial", "architecture", "val_loss", "val_accuracy", "val_auc", "fit_seconds",
                                   "epochs", "best_epoch", "params", "state", "error", "ensemble_weight"]
    assert len(board) == len(clf.study_.trials)
    assert list(board["val_loss"]) == sorted(board["val_loss"])  # best first
    manifest = json.loads((project / "best_model" / "manifest.json").read_text())["info"]["final"]
    weights = dict(zip(manifest["members"], manifest["weights"]))
    for _, row in board.iterrows():
        trial = clf.study_.trials[row["trial"]]
        assert row["architecture"] == describe_architecture(trial.params) != ""
        assert row["ensemble_weight"] == pytest.approx(weights.get(row["trial"], 0.0) / sum(weights.values()))
        assert row["params"] == trial.user_attrs["params"] and row["state"] == "COMPLETE"
        assert 0.0 <= row["val_auc"] <= 1.0 and row["val_accuracy"] > 0.5


def test_leaderboard_auc_matches_the_saved_predictions(searched):
    from sklearn.metrics import roc_auc_score

    clf, project, _, _ = searched
    targets = np.load(project / "report" / "validation_y_0.npy")
    for _, row in clf.leaderboard().iterrows():
        scores = np.load(project / "trials" / f"trial_{row['trial']:04d}" / "val_pred_0.npy").reshape(-1)
        assert row["val_auc"] == pytest.approx(roc_auc_score(targets, scores))


def test_cli_leaderboard_prints_every_trial_and_names_a_missing_folder(searched, tmp_path, capsys):
    clf, project, _, _ = searched
    run = subprocess.run([sys.executable, "-m", "autodeep.cli", "leaderboard", str(project)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stderr
    rows = [line.split()[0] for line in run.stdout.splitlines()[1:]]
    assert rows == [str(t) for t in clf.leaderboard()["trial"]]
    missing = tmp_path / "nowhere"  # the error path in this process: main() returns the exit status
    assert main(["leaderboard", str(missing)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("autodeep leaderboard: ") and str(missing) in error and "Traceback" not in error


def test_a_corrupt_study_is_named(tmp_path):
    (tmp_path / "trials").mkdir()
    (tmp_path / "study.db").write_bytes(b"not a database at all")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "study.db"))):
        leaderboard(tmp_path)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_the_running_epoch_and_keeps_the_trial_lines():
    from autodeep.search.progress import SearchProgress

    screen = _Terminal()
    progress = SearchProgress(max_trials=4, time_limit=30, objective="val_loss", stream=screen)
    with progress:
        progress.trial_started(0)
        progress.epoch_ended(0, 3, {"val_loss": 0.625})
        status = progress.status_text()
        progress.trial_ended(0, "score=0.625", 2.0, done=1, best=(0.625, 0))
    text = screen.getvalue()
    assert "trial 0: epoch 3, val_loss 0.625" in status and "/30s" in status and "trials 0/4" in status
    assert "\x1b[" in text  # drawn with terminal controls (rich), not as plain lines
    assert "[autodeep] trial 0 (1/4) score=0.625 best=0.625 (trial 0)" in text
    plain = io.StringIO()
    SearchProgress(max_trials=4, time_limit=30, stream=plain).trial_ended(0, "pruned", 1.0, done=1)
    assert plain.getvalue().startswith("[autodeep] trial 0 (1/4) pruned best=n/a") and "\x1b[" not in plain.getvalue()


# -- the HTML report -------------------------------------------------------------------------------------------------
def check_page(page: Path, n_trials: int) -> dict[str, str]:
    """The report at ``page``: every section present, every image a decodable non-blank PNG, one leaderboard row
    per trial. Returns each section's HTML by id."""
    from PIL import Image

    from autodeep.report.html_report import SECTIONS

    text = page.read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([\w-]+)">(.*?)</section>', text, flags=re.S))
    assert list(sections) == list(SECTIONS)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert images and "src=\"http" not in text and "<script" not in text  # self-contained, opens offline
    for data in images:
        pixels = np.asarray(Image.open(io.BytesIO(__import__("base64").b64decode(data))).convert("L"))
        assert pixels.std() > 5  # drawn on, not blank
    board = re.search(r'<table[^>]*class="[^"]*leaderboard.*?<tbody>(.*?)</tbody>', sections["leaderboard"], re.S)
    assert board is not None and board.group(1).count("<tr") == n_trials
    return sections


def test_report_of_a_finished_search_holds_every_section(searched, tmp_path):
    clf, project, _, _ = searched
    page = clf.report(tmp_path / "report.html")
    sections = check_page(page, len(clf.study_.trials))
    assert not [s for s, body in sections.items() if "Not shown" in body]  # every section applies to a table
    assert sections["diagnostics"].count("<img") == 1 and "classification_head" in sections["diagnostics"]
    assert sections["exported-model"].count("<img") == len(clf.leaderboard().query("ensemble_weight > 0"))
    for column in ("checking_status", "duration", "credit_amount"):
        assert column in sections["feature-importance"] and column in sections["data"]


def test_cli_report_writes_the_page_and_names_a_missing_folder(searched, tmp_path, capsys):
    _, project, _, _ = searched
    out = tmp_path / "cli.html"  # in this process (the leaderboard test runs the command in a subprocess)
    assert main(["report", str(project), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("report written to ")
    check_page(out, 2)
    assert main(["report", str(tmp_path / "gone")]) == 2
    assert str(tmp_path / "gone") in capsys.readouterr().err


def test_report_when_every_trial_failed(tmp_path):
    from autodeep.report import write_report

    df = ak.datasets.load_credit_g().head(120)
    clf = ak.StructuredDataClassifier(max_trials=2, directory=str(tmp_path), project_name="failed", seed=0,
                                      verbose=0, max_model_size=10)
    with pytest.raises(RuntimeError, match="No trial finished"):
        clf.fit(df.drop(columns="class"), df["class"], epochs=1)
    board = clf.leaderboard()
    assert list(board["state"]) == ["FAIL", "FAIL"] and board["error"].str.contains("max_model_size=10").all()
    sections = check_page(write_report(tmp_path / "failed", tmp_path / "r.html"), 2)
    for skipped in ("search-history", "exported-model", "diagnostics", "learning-curves", "feature-importance"):
        assert "Not shown" in sections[skipped]
    assert "Not shown" not in sections["data"] and "checking_status" in sections["data"]


class _StopSecondTrial(__import__("keras").callbacks.Callback):
    """Ctrl-C during the second trial's first epoch."""
    trials = 0

    def on_train_begin(self, logs=None):
        type(self).trials += 1

    def on_epoch_end(self, epoch, logs=None):
        if type(self).trials == 2:
            raise KeyboardInterrupt


def test_report_of_an_interrupted_search(tmp_path):
    from autodeep.report import write_report

    df = ak.datasets.load_credit_g().head(150)
    clf = ak.StructuredDataClassifier(max_trials=3, directory=str(tmp_path), project_name="stopped", seed=0,
                                      verbose=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(df.drop(columns="class"), df["class"], epochs=1, callbacks=[_StopSecondTrial()])
    board = clf.leaderboard()
    assert list(board["state"]) == ["COMPLETE", "INTERRUPTED"] and board["ensemble_weight"].sum() == 0
    sections = check_page(write_report(tmp_path / "stopped", tmp_path / "r.html"), 2)
    assert "Not shown" in sections["exported-model"] and "Not shown" in sections["feature-importance"]
    assert "best trial" in sections["diagnostics"] and "<img" in sections["learning-curves"]


def test_report_of_a_multi_input_multi_head_auto_model(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(120, 3)).astype("float32"), rng.normal(size=(120, 2)).astype("float32")
    label, value = (a[:, 0] + b[:, 0] > 0).astype(int), a.sum(axis=1)
    model = ak.AutoModel(inputs=[ak.Input(name="a"), ak.Input(name="b")],
                         outputs=[ak.ClassificationHead(name="label"), ak.RegressionHead(name="value")],
                         max_trials=1, directory=str(tmp_path), project_name="multi", seed=0, verbose=0)
    model.fit([a, b], [label, value], epochs=1)
    sections = check_page(model.report(tmp_path / "r.html"), 1)
    assert "<h3>label</h3>" in sections["diagnostics"] and "<h3>value</h3>" in sections["diagnostics"]
    assert sections["diagnostics"].count("<img") == 2 and "Not shown" in sections["feature-importance"]
    assert "input a (" in sections["data"] and "input b (" in sections["data"]


def _image_search(directory):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 120, (40, 8, 8), dtype="uint8")
    y = np.repeat(np.array(["bright", "dark"]), 20)
    x[y == "bright", :4] += 130
    model = ak.ImageClassifier(directory=directory, max_trials=1, epochs=1, verbose=0, seed=0, refit=False)
    return model.fit(x, y)


def _text_search(directory):
    texts = ["a great and fun film", "loved it, great acting", "fun fun fun", "a boring and bad film",
             "hated it, awful acting", "bad bad bad"] * 6
    model = ak.TextClassifier(directory=directory, max_trials=1, epochs=1, verbose=0, seed=0, ensemble_size=1)
    return model.fit(np.array(texts), np.array((["pos"] * 3 + ["neg"] * 3) * 6))


def _series_search(directory):
    t = np.arange(160, dtype="float64")
    frame = pd.DataFrame({"level": np.sin(t / 6) + 0.01 * t, "other": np.cos(t / 6)})
    model = ak.TimeseriesForecaster(lookback=8, predict_from=1, predict_until=2, max_trials=1, epochs=1,
                                    refit=False, directory=directory, verbose=0, seed=0)
    return model.fit(frame, "level")


@pytest.mark.parametrize("search, head", [(_image_search, "binary"), (_text_search, "binary"),
                                          (_series_search, "regression")])
def test_report_of_images_text_and_time_series(search, head, tmp_path):
    model = search(str(tmp_path))
    sections = check_page(model.report(tmp_path / "r.html"), 1)
    assert "Not shown" in sections["feature-importance"] and "one table input" in sections["feature-importance"]
    drawn = "predicted against actual" if head == "regression" else "ROC, precision-recall"
    assert drawn in sections["diagnostics"] and "<img" in sections["exported-model"]


# -- feature importance ----------------------------------------------------------------------------------------------
def test_feature_importance_per_raw_column_through_the_export(searched):
    clf, _, _, _ = searched
    holdout = ak.datasets.load_credit_g().iloc[300:500]
    x, y = holdout.drop(columns="class"), holdout["class"]
    x = x.assign(foreign_worker="yes")  # one value: shuffling it changes nothing
    table = clf.feature_importance(x[x.columns[::-1]], y, n_repeats=3)  # column order does not matter
    assert sorted(table.index) == sorted(x.columns)
    assert list(table.columns) == ["importance_mean", "importance_std", "ci_low", "ci_high"]
    assert list(table["importance_mean"]) == sorted(table["importance_mean"], reverse=True)
    assert table.loc["foreign_worker", "importance_mean"] == 0 and table.loc["foreign_worker", "importance_std"] == 0
    assert (table["ci_low"] <= table["importance_mean"]).all() and (table["importance_mean"] <= table["ci_high"]).all()
    assert table["importance_std"].gt(0).sum() >= len(table) // 2  # the others do move the score
    assert table.attrs["score"] == "auc"
    from sklearn.metrics import roc_auc_score

    proba = clf.predict_proba(x)[:, list(clf.classes_).index("good")]
    assert table.attrs["baseline"] == pytest.approx(roc_auc_score(y == "good", proba))


def test_feature_importance_names_missing_and_extra_columns(searched):
    clf, _, _, (x, y) = searched
    with pytest.raises(ValueError, match=r"missing \['age'\], extra \['salary'\]"):
        clf.feature_importance(x.drop(columns="age").assign(salary=1.0), y)
    with pytest.raises(ValueError, match=r"n_repeats must be an int of at least 2 \(for a spread\); received 1"):
        clf.feature_importance(x, y, n_repeats=1)


# -- Optuna dashboard ------------------------------------------------------------------------------------------------
def _get_json(url: str, timeout: float = 90.0):
    import time
    import urllib.error
    import urllib.request

    end = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError):
            if time.time() > end:
                raise
            time.sleep(0.5)


def test_optuna_dashboard_serves_the_trials_with_readable_names(searched):
    pytest.importorskip("optuna_dashboard")
    import socket

    clf, project, _, _ = searched
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "import sys; from optuna_dashboard import run_server; "
                               "run_server(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2]))",
                               f"sqlite:///{project / 'study.db'}", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        studies = _get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
        assert [s["study_name"] for s in studies] == ["credit"]
        study = _get_json(f"http://127.0.0.1:{port}/api/studies/{studies[0]['study_id']}?after=0")
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = {t["number"]: t for t in study["trials"]}
    assert sorted(served) == [t.number for t in clf.study_.trials]
    for trial in clf.study_.trials:
        params = {p["name"]: p["param_external_value"] for p in served[trial.number]["params"]}
        assert params == {name: str(value) for name, value in trial.params.items()}
        assert "structured_data_block_1/units" in params  # block/name, as in hyperparameters=
        attrs = {a["key"]: a["value"] for a in served[trial.number]["user_attrs"]}
        assert attrs["architecture"] == describe_architecture(trial.params)
        assert {"fit_seconds", "epochs_run", "best_epoch", "params"} <= set(attrs)


# -- the report in a real browser ------------------------------------------------------------------------------------
def _chromium() -> str:
    """Debian's chromium: AUTODEEP_TEST_CHROMIUM (set by .ci/run after installing it), else on the PATH."""
    import os
    import shutil

    found = os.environ.get("AUTODEEP_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium and sets AUTODEEP_TEST_CHROMIUM)")
    return found


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=180)


def test_report_opens_in_headless_chromium(searched, tmp_path):
    from PIL import Image

    chromium = _chromium()
    clf, _, _, _ = searched
    page = clf.report(tmp_path / "report.html")
    check_page(page, len(clf.study_.trials))
    loaded = _headless(chromium, tmp_path / "profile", "--dump-dom", page.resolve().as_uri())
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    console = [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no console message at all, errors included
    dom = loaded.stdout
    from autodeep.report.html_report import SECTIONS

    assert all(f'<section id="{s}">' in dom for s in SECTIONS)
    body = re.search(r'class="[^"]*leaderboard.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert body.count("<tr") == len(clf.study_.trials)
    shot = tmp_path / "shot.png"
    taken = _headless(chromium, tmp_path / "profile", "--window-size=1200,2400", f"--screenshot={shot}",
                      page.resolve().as_uri())
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (2400, 1200) and pixels.std() > 20  # text and figures drawn, not an empty page


def test_report_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    from autodeep.report import write_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(ImportError, match=re.escape("pip install 'autodeep[report]'")):
        write_report(tmp_path, tmp_path / "r.html")
