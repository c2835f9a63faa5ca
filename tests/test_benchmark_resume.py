"""benchmarks/tabular.py --resume: the rows of systems that do not run now are kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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
    assert [r["system"] for r in tabular.previous_rows(out.with_suffix(".csv"), 60.0, ["autodeep"])] == ["lightgbm"]
