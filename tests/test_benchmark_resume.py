"""benchmarks/tabular.py: --resume keeps the rows of systems that do not run now, --baseline runs another
checkout's autodeep beside this one, and the summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_resume_without_autodeep_keeps_autodeep_rows_of_other_code(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tabular

    rng = np.random.default_rng(0)
    (tmp_path / "binary").mkdir()
    pd.DataFrame({"a": rng.normal(size=60), "label": np.arange(60) % 2}).to_csv(tmp_path / "binary" / "toy.csv",
                                                                               index=False)
    pd.DataFrame([{"name": "toy", "task": "binary", "file": "binary/toy.csv", "target": "label"}]).to_csv(
        tmp_path / "MANIFEST.tsv", sep="\t", index=False)
    out = tmp_path / "report.md"
    earlier = {"dataset": "toy", "task": "binary", "rows": 60, "seed": 0, "system": "autodeep", "auc": 0.75,
               "error": None, "time_limit": 60.0, "commit": "0000000"}  # code not checked out here
    pd.DataFrame([earlier]).to_csv(out.with_suffix(".csv"), index=False)
    args = ["--data-dir", str(tmp_path), "--out", str(out), "--resume", "--time-limit", "60"]
    tabular.main(args + ["--systems", "lightgbm"])
    rows = pd.read_csv(out.with_suffix(".csv"))
    assert sorted(rows["system"]) == ["autodeep", "lightgbm"]
    assert rows.loc[rows["system"] == "autodeep", "auc"].tolist() == [0.75]
    assert [r["system"] for r in tabular.previous_rows(out.with_suffix(".csv"), 60.0, ["autodeep"],
                                                                   tabular.C.git_commit())] == ["lightgbm"]


def test_resume_reruns_a_peers_rows_of_another_package_version_only(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _tabular_systems
    import tabular

    monkeypatch.setattr(_tabular_systems, "version", {"lightgbm": "4.7.0"}.get)  # as if installed (CI has no LightGBM)
    csv = tmp_path / "report.csv"
    row = {"dataset": "toy", "task": "binary", "rows": 60, "seed": 0, "system": "lightgbm", "auc": 0.7,
           "error": None, "time_limit": 60.0}
    pd.DataFrame([row | {"version": "0.0.1"}, row | {"seed": 1, "version": "4.7.0"},
                  row | {"seed": 2}]).to_csv(csv, index=False)
    assert sorted(r["seed"] for r in tabular.previous_rows(csv, 60.0, ["lightgbm"], "")) == [1, 2]  # 0.0.1 is rerun
    assert len(tabular.previous_rows(csv, 60.0, ["flaml"], "")) == 3  # lightgbm does not run: its rows stay


def test_resume_keeps_stale_rows_of_datasets_and_seeds_that_do_not_run_now(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tabular

    csv = tmp_path / "report.csv"
    row = {"task": "binary", "rows": 60, "system": "autodeep", "auc": 0.7, "error": None, "time_limit": 60.0,
           "commit": "0000000"}  # code not checked out here: stale wherever autodeep runs again
    pd.DataFrame([row | {"dataset": "toy", "seed": 0}, row | {"dataset": "toy", "seed": 1},
                  row | {"dataset": "other", "seed": 0}]).to_csv(csv, index=False)
    kept = tabular.previous_rows(csv, 60.0, ["autodeep"], tabular.C.git_commit(), runs={("toy", 0)})
    assert sorted((r["dataset"], r["seed"]) for r in kept) == [("other", 0), ("toy", 1)]
    assert tabular.previous_rows(csv, 60.0, ["autodeep"], tabular.C.git_commit()) == []  # every pair runs


def test_summary_gives_each_half_and_each_systems_worst_gap_to_the_best(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tabular

    aucs = {("kc1", "autodeep"): 0.80, ("kc1", "flaml"): 0.84, ("spambase", "autodeep"): 0.99,
            ("spambase", "flaml"): 0.97, ("wilt", "autodeep"): 0.95, ("wilt", "flaml"): 0.96}
    rows = [{"dataset": d, "task": "binary", "rows": 100, "seed": 0, "system": s, "auc": a, "f1": a,
             "error": None} for (d, s), a in aucs.items()]
    df = pd.DataFrame(rows, columns=tabular.COLUMNS)
    _, p = tabular.pivot_table(tabular.complete_runs(df, "binary"), "binary")
    assert p.at["mean, tune half", "autodeep"] == 0.80  # kc1 alone
    assert np.isclose(p.at["mean, confirm half", "autodeep"], 0.97)  # spambase and wilt
    assert np.isclose(p.at["mean", "flaml"], (0.84 + 0.97 + 0.96) / 3)
    assert np.isclose(p.at["worst gap to best", "autodeep"], 0.04)  # kc1
    assert np.isclose(p.at["worst gap to best", "flaml"], 0.02)  # spambase
    assert "spambase" not in tabular.verdict(p, tabular.complete_runs(df, "binary"))  # autodeep ahead there


def test_baseline_runs_the_other_checkouts_code_beside_this_one(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tabular

    baseline = tmp_path / "baseline"  # a copy of this code, outside git: its rows carry no commit
    shutil.copytree(BENCHMARKS.parent / "autodeep", baseline / "autodeep",
                    ignore=shutil.ignore_patterns("__pycache__"))
    rng = np.random.default_rng(0)
    (tmp_path / "binary").mkdir()
    a = rng.normal(size=80)
    pd.DataFrame({"a": a, "label": (a + rng.normal(size=80) > 0).astype(int)}).to_csv(
        tmp_path / "binary" / "toy.csv", index=False)
    pd.DataFrame([{"name": "toy", "task": "binary", "file": "binary/toy.csv", "target": "label"}]).to_csv(
        tmp_path / "MANIFEST.tsv", sep="\t", index=False)
    out = tmp_path / "report.md"
    tabular.main(["--data-dir", str(tmp_path), "--out", str(out), "--time-limit", "10", "--systems", "autodeep",
                  "--baseline", str(baseline)])
    rows = pd.read_csv(out.with_suffix(".csv"), keep_default_na=False)
    assert rows["system"].tolist() == ["autodeep", "autodeep_baseline"]
    assert (rows["error"] == "").all() and rows["auc"].astype(float).between(0, 1).all()
    assert rows["commit"].tolist() == [tabular.C.git_commit(), ""]
    assert "autodeep_baseline: seed 0 at unknown (1)" in out.read_text()  # the header says which code made the rows
    with pytest.raises(SystemExit):
        tabular.parse_args(["--systems", "autodeep_baseline"])  # no checkout named


def test_baseline_and_this_code_take_turns_going_first(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tabular

    systems = ["autodeep", "lightgbm", "autodeep_baseline"]
    firsts = [next(s for s in tabular.ordered(systems, turn) if s.startswith("autodeep")) for turn in range(4)]
    assert firsts == ["autodeep", "autodeep_baseline", "autodeep", "autodeep_baseline"]
    assert tabular.ordered(["autodeep", "lightgbm"], 1) == ["autodeep", "lightgbm"]  # no baseline: order kept
