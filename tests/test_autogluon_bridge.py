"""The benchmarks' `autogluon` system: AutoGluon runs with another python, fed through parquet files.

A real AutoGluon fit needs its 1.9 GB virtual environment (benchmarks/setup_autogluon.sh), which the test
suite does not build: the benchmarks' own runs exercise it (benchmarks/results/mixed_table.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def systems(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delenv("AUTODEEP_AUTOGLUON_PYTHON", raising=False)
    import _tabular_systems

    return _tabular_systems


def small_table(rows: int = 200) -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    x = data.data.iloc[:rows, :6]
    return x.assign(label=np.where(data.target[:rows] == 1, "benign", "malignant"))


def test_a_missing_autogluon_python_says_how_to_create_it(systems, monkeypatch, tmp_path):
    missing = tmp_path / "venv" / "bin" / "python"
    monkeypatch.setenv("AUTODEEP_AUTOGLUON_PYTHON", str(missing))
    with pytest.raises(FileNotFoundError) as e:
        systems.run_autogluon("binary", small_table().drop(columns="label"), np.zeros(200), small_table(), 0, 5, "p")
    assert str(missing) in str(e.value) and "benchmarks/setup_autogluon.sh" in str(e.value)


@pytest.mark.skipif(importlib.util.find_spec("autogluon") is not None, reason="AutoGluon importable here")
def test_a_failing_runner_reports_its_own_error(systems, monkeypatch):
    monkeypatch.setenv("AUTODEEP_AUTOGLUON_PYTHON", sys.executable)  # this python has no AutoGluon
    table = small_table()
    with pytest.raises(RuntimeError, match="No module named 'autogluon'"):
        systems.autogluon_predict("binary", table, table, "label", 5)
