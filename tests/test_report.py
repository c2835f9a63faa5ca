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
import pytest

import autodeep as ak
from autodeep.report import leaderboard
from autodeep.report.board import describe_architecture

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


def test_cli_leaderboard_prints_every_trial_and_names_a_missing_folder(searched, tmp_path):
    clf, project, _, _ = searched
    run = subprocess.run([sys.executable, "-m", "autodeep.cli", "leaderboard", str(project)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stderr
    rows = [line.split()[0] for line in run.stdout.splitlines()[1:]]
    assert rows == [str(t) for t in clf.leaderboard()["trial"]]
    missing = tmp_path / "nowhere"
    run = subprocess.run([sys.executable, "-m", "autodeep.cli", "leaderboard", str(missing)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 2 and str(missing) in run.stderr and "Traceback" not in run.stderr


def test_a_corrupt_study_is_named(tmp_path):
    (tmp_path / "trials").mkdir()
    (tmp_path / "study.db").write_bytes(b"not a database at all")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "study.db"))):
        leaderboard(tmp_path)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_the_running_epoch_and_keeps_the_trial_lines():
    from autodeep.report import SearchProgress

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
