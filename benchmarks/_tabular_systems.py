"""Systems and scoring for benchmarks/tabular.py: autodeep, FLAML, AutoGluon and LightGBM on binary,
multiclass and regression tables.

Every runner is ``run(task, x_train, y_train, x_test, seed, time_limit, project) -> (classes, proba, pred,
detail)`` with task one of "binary", "multiclass", "regression"; classes and proba are None for regression;
detail is a short note on what the system built ("" when there is nothing to say).
A runner imports its own library, so FLAML is only imported when the flaml system is selected. AutoGluon runs
in its own virtual environment (it needs pandas < 3): ``autogluon_predict`` hands it parquet files and runs
``_autogluon_runner.py`` with that environment's python (``autogluon_python``).
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_squared_error, r2_score, roc_auc_score

SYSTEMS = ("autodeep", "autodeep_f1", "autodeep_baseline", "flaml", "autogluon", "lightgbm")
# LightGBM runs its defaults, no search
TIME_LIMITED = ("autodeep", "autodeep_f1", "autodeep_baseline", "flaml", "autogluon")
IN_SUBPROCESS = ("autogluon",)  # not importable here: run by another python
METRICS = {"binary": ("auc", "f1"), "multiclass": ("accuracy", "log_loss"), "regression": ("rmse", "r2")}
RANK_BY = {"binary": ("auc", True), "multiclass": ("log_loss", False), "regression": ("rmse", False)}  # higher better?
FLAML_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
AUTOGLUON_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "root_mean_squared_error"}
AUTOGLUON_PYTHON_ENV = "AUTODEEP_AUTOGLUON_PYTHON"
AUTOGLUON_PYTHON_DEFAULT = "/opt/autogluon-venv/bin/python"
AUTOGLUON_RUNNER = Path(__file__).with_name("_autogluon_runner.py")
AUTODEEP_RUNNER = Path(__file__).with_name("_autodeep_runner.py")
REPO_ROOT = Path(__file__).resolve().parent.parent
PEER_PACKAGES = {"flaml": "flaml", "lightgbm": "lightgbm", "autogluon": "autogluon.tabular"}


def as_categories(x_train, x_test):
    """String columns as pandas categories fit on the train split; unseen test values become missing. Column
    names lose the characters LightGBM refuses in a feature name (``"``, ``,``, ``:``, ``[``, ``]``, ``{``,
    ``}``: MagicTelescope's names end in ``:``).

    >>> import pandas as pd
    >>> train, test = as_categories(pd.DataFrame({"fLength:": [1.0], "c": ["a"]}),
    ...                             pd.DataFrame({"fLength:": [2.0], "c": ["b"]}))
    >>> list(train.columns), str(train["c"].dtype), test["c"].isna().tolist()
    (['fLength_', 'c'], 'category', [True])
    """
    names = {c: re.sub(r'[",:\[\]{}]', "_", str(c)) for c in x_train.columns}
    x_train, x_test = x_train.rename(columns=names), x_test.rename(columns=names)
    for c in x_train.select_dtypes(include=["object", "string", "category"]).columns:
        x_train[c] = x_train[c].astype("category")
        cats = x_train[c].dtype
        x_test[c] = x_test[c].where(x_test[c].isin(cats.categories)).astype(cats)
    return x_train, x_test


def run_lightgbm(task, x_train, y_train, x_test, seed, time_limit, project):
    """LGBMClassifier / LGBMRegressor with default parameters."""
    import lightgbm
    from sklearn.preprocessing import LabelEncoder

    x_train, x_test = as_categories(x_train, x_test)
    if task == "regression":
        model = lightgbm.LGBMRegressor(random_state=seed, verbose=-1).fit(x_train, y_train)
        return None, None, model.predict(x_test), ""
    enc = LabelEncoder().fit(y_train)
    model = lightgbm.LGBMClassifier(random_state=seed, verbose=-1).fit(x_train, enc.transform(y_train))
    proba = model.predict_proba(x_test)
    return enc.classes_, proba, enc.classes_[proba.argmax(axis=1)], ""


def run_flaml(task, x_train, y_train, x_test, seed, time_limit, project):
    """flaml.AutoML under time_budget=time_limit; ROC AUC (binary), log-loss (multiclass), RMSE (regression)."""
    from flaml import AutoML

    x_train, x_test = as_categories(x_train, x_test)
    automl = AutoML()
    automl.fit(x_train, y_train, task="regression" if task == "regression" else "classification",
               time_budget=time_limit, metric=FLAML_METRIC[task], seed=seed, verbose=0)
    pred = np.asarray(automl.predict(x_test)).ravel()
    detail = f"best {automl.best_estimator}"
    if task == "regression":
        return None, None, pred, detail
    return np.asarray(automl.classes_), np.asarray(automl.predict_proba(x_test)), pred, detail


def add_autogluon_argument(parser) -> None:
    """``--autogluon-python PATH``: AutoGluon's python for this run, handed to ``autogluon_python`` through
    ``$AUTODEEP_AUTOGLUON_PYTHON`` when the option is given."""
    class UsePython(argparse.Action):
        def __call__(self, parser, namespace, value, option_string=None):
            os.environ[AUTOGLUON_PYTHON_ENV] = value
            setattr(namespace, self.dest, value)

    parser.add_argument("--autogluon-python", action=UsePython, help=f"python of AutoGluon's virtual environment "
                        f"(default ${AUTOGLUON_PYTHON_ENV}, else {AUTOGLUON_PYTHON_DEFAULT})")


def autogluon_python() -> str:
    """The python of AutoGluon's virtual environment: $AUTODEEP_AUTOGLUON_PYTHON, else /opt/autogluon-venv/bin/python.

    Raises FileNotFoundError, naming how to create it, when that file does not exist."""
    python = os.environ.get(AUTOGLUON_PYTHON_ENV) or AUTOGLUON_PYTHON_DEFAULT
    if not Path(python).is_file():
        raise FileNotFoundError(f"AutoGluon's python {python!r} does not exist: create its virtual environment with "
                                f"`bash benchmarks/setup_autogluon.sh [VENV]` and point --autogluon-python or "
                                f"${AUTOGLUON_PYTHON_ENV} at VENV/bin/python (default {AUTOGLUON_PYTHON_DEFAULT})")
    return python


@functools.cache
def version(system: str) -> str | None:
    """The installed version of a peer system's package (AutoGluon's in its own python); None for autodeep's
    systems (their rows carry the commit) and for a package that is not installed.

    >>> version("autodeep") is None, version("lightgbm") == importlib.metadata.version("lightgbm")
    (True, True)
    """
    package = PEER_PACKAGES.get(system)
    try:
        if package is None:
            return None
        if system in IN_SUBPROCESS:
            code = f"import importlib.metadata as m; print(m.version({package!r}))"
            return subprocess.run([autogluon_python(), "-c", code], capture_output=True, text=True, check=True,
                                  timeout=120).stdout.strip()
        return importlib.metadata.version(package)
    except (FileNotFoundError, subprocess.SubprocessError, importlib.metadata.PackageNotFoundError):
        return None


def autogluon_predict(task, train, test, label, time_limit):
    """``(classes, predictions, result)`` of AutoGluon's ``TabularPredictor`` at its default preset, fit on the
    ``train`` frame (features and the ``label`` column) for ``time_limit`` seconds, predicting the ``test`` frame's
    features. ``predictions`` are class probabilities in the order of ``classes`` (None for regression) or the
    regression predictions; ``result`` is the runner's summary (best model, models fitted, version, seconds)."""
    result, arrays = run_runner("AutoGluon", [autogluon_python(), str(AUTOGLUON_RUNNER)],
                                ["--label", label, "--problem-type", task, "--eval-metric", AUTOGLUON_METRIC[task],
                                 "--time-limit", str(time_limit)],
                                train, test.drop(columns=label, errors="ignore"), time_limit)
    classes = None if result["classes"] is None else np.asarray(result["classes"])
    return classes, arrays["pred"], result


def run_runner(name: str, program: list[str], options: list[str], train, test, time_limit: float):
    """``(result, arrays)`` of a runner script run in another process (``program``: its python and file) on
    ``train.parquet`` and ``test.parquet`` written to a temporary folder, called as ``program DIR options``:
    its ``result.json`` and every ``.npy`` it wrote, by stem. Raises with the runner's last error lines when it
    fails; ``name`` names it there."""
    with tempfile.TemporaryDirectory(prefix="runner_bench_") as tmp:
        train.to_parquet(Path(tmp) / "train.parquet")
        test.to_parquet(Path(tmp) / "test.parquet")
        done = subprocess.run([*program, tmp, *options], capture_output=True, text=True, timeout=4 * time_limit + 600)
        if done.returncode:
            raise RuntimeError(f"{name}'s runner exited {done.returncode}: {done.stderr.strip()[-500:]}")
        result = json.loads((Path(tmp) / "result.json").read_text())
        return result, {f.stem: np.load(f) for f in Path(tmp).glob("*.npy")}


def autogluon_detail(result: dict) -> str:
    """AutoGluon's version, best model and the models it fitted (with its own fit + predict seconds)."""
    return (f"AutoGluon {result['version']}, best {result['best']} of {len(result['models'])}: "
            f"{' '.join(result['models'])} ({result['seconds']:.1f} s fit + predict)")


def run_autogluon(task, x_train, y_train, x_test, seed, time_limit, project):
    """AutoGluon's TabularPredictor at its default preset, eval_metric roc_auc / log_loss / RMSE, in its own
    virtual environment (``autogluon_predict``). AutoGluon seeds its models itself: ``seed`` only picks the split."""
    label = "__label__"
    classes, pred, result = autogluon_predict(task, x_train.assign(**{label: np.asarray(y_train)}), x_test, label,
                                              time_limit)
    if task == "regression":
        return None, None, pred, autogluon_detail(result)
    return classes, pred, classes[pred.argmax(axis=1)], autogluon_detail(result)


def run_autodeep(task, x_train, y_train, x_test, seed, time_limit, project, objective="val_loss"):
    """autodeep's StructuredDataClassifier / StructuredDataRegressor on the raw frame, in a throwaway directory."""
    import autodeep as ak

    cls = ak.StructuredDataRegressor if task == "regression" else ak.StructuredDataClassifier
    with tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
        model = cls(time_limit=time_limit, max_trials=1000, seed=seed, directory=tmp, project_name=project,
                    overwrite=True, verbose=0, objective=objective)
        model.fit(x_train, y_train)
        pred = np.asarray(model.predict(x_test)).ravel()
        detail = autodeep_detail(model)
        if task == "regression":
            return None, None, pred, detail
        return np.asarray(model.classes_), np.asarray(model.predict_proba(x_test)), pred, detail


def run_autodeep_f1(task, x_train, y_train, x_test, seed, time_limit, project):
    """autodeep with ``objective="f1"`` on binary tasks: trials ranked by F1 at their tuned threshold, and
    ``predict`` at the threshold tuned on the validation rows (``decision_threshold="auto"``); AUC still comes
    from ``predict_proba``. Other tasks: autodeep's default objective."""
    objective = "f1" if task == "binary" else "val_loss"
    return run_autodeep(task, x_train, y_train, x_test, seed, time_limit, project, objective=objective)


def run_autodeep_in_process(task, x_train, y_train, x_test, seed, time_limit, project, code, f1=False):
    """``run_autodeep`` (``run_autodeep_f1`` with ``f1``) in a process of its own that imports autodeep from the
    checkout at ``code`` (``_autodeep_runner.py``); raises when that process fails, as it does when it imported
    another autodeep."""
    from _autodeep_runner import LABEL

    result, arrays = run_runner("autodeep", [sys.executable, str(AUTODEEP_RUNNER)],
                                ["--code", str(code), "--task", task, "--seed", str(seed),
                                 "--time-limit", str(time_limit), "--project", project] + ["--f1"] * f1,
                                x_train.assign(**{LABEL: np.asarray(y_train)}), x_test, time_limit)
    classes = None if result["classes"] is None else np.asarray(result["classes"])
    return classes, arrays.get("proba"), np.asarray(result["pred"]), result["detail"]


def runner(system: str, baseline: str | None = None):
    """The function that runs ``system``. With ``baseline`` (another checkout of autodeep), ``autodeep``,
    ``autodeep_f1`` and ``autodeep_baseline`` each run in a process of their own, the first two with this
    checkout's code and the last with the baseline's, so that none starts with programs another compiled.

    >>> runner("lightgbm") is run_lightgbm, runner("autodeep") is run_autodeep
    (True, True)
    >>> base, f1 = runner("autodeep_baseline", "/tmp/main"), runner("autodeep_f1", "/tmp/main")
    >>> base.keywords, f1.keywords == {"code": REPO_ROOT, "f1": True}
    ({'code': '/tmp/main', 'f1': False}, True)
    """
    if baseline and system in ("autodeep", "autodeep_f1", "autodeep_baseline"):
        return functools.partial(run_autodeep_in_process, code=baseline if system == "autodeep_baseline" else REPO_ROOT,
                                 f1=system == "autodeep_f1")
    if system == "autodeep_baseline":
        raise ValueError("the autodeep_baseline system needs --baseline, the checkout whose code it runs")
    return RUNNERS[system]


def autodeep_detail(model) -> str:
    """Trials finished, ensemble members (how many were bagged, refit or kept as trained, and how many bagged
    trials they were chosen from on out-of-fold rows), and each head's neighbour-blend decision."""
    trials = model.tuner_results
    final = model.predictor_.manifest["info"]["final"]
    threshold = model.predictor_.manifest["outputs"][0].get("threshold")
    blends = []
    for b in final.get("retrieval") or []:
        gain = b.get("held_out_gain")
        note = f" (held-out gain {gain:+.4f})" if gain is not None else ""
        blends.append(f"blend tau={b['tau']:g} prior={b['prior']:g}{note}" if b.get("used") else f"no blend{note}")
    kinds = final.get("member_kinds") or []
    how = ", ".join(f"{k} {kinds.count(k)}" for k in dict.fromkeys(kinds)) or final.get("kind")
    if final.get("selected_on") == "out_of_fold":
        how += f"; chosen out of fold from {final['selected_from']}"
    return (f"{(trials['state'] == 'COMPLETE').sum()}/{len(trials)} trials, {len(final.get('members', []))} "
            f"members ({how})" + "".join(f", {b}" for b in blends)
            + (f", threshold {threshold:.3f}" if threshold is not None else ""))


RUNNERS = {"autodeep": run_autodeep, "autodeep_f1": run_autodeep_f1, "flaml": run_flaml, "autogluon": run_autogluon,
           "lightgbm": run_lightgbm}


def score(task, y_test, classes, proba, pred) -> dict:
    """The task's two metrics (METRICS) on the test split."""
    y_test = np.asarray(y_test)
    if task == "regression":
        return {"rmse": mean_squared_error(y_test, pred) ** 0.5, "r2": r2_score(y_test, pred)}
    if task == "binary":
        pos = np.unique(y_test)[1]  # the second of the sorted labels
        col = list(classes).index(pos)
        return {"auc": roc_auc_score(y_test == pos, proba[:, col]), "f1": f1_score(y_test, pred, pos_label=pos)}
    order = np.argsort(classes)  # log_loss reads the columns in sorted label order
    return {"accuracy": accuracy_score(y_test, pred),
            "log_loss": log_loss(y_test, proba[:, order], labels=np.asarray(classes)[order])}
