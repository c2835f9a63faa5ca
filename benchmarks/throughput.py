"""Throughput benchmark: where a time-limited fit spends its wall time, per dataset and backend.

    python benchmarks/throughput.py --time-limit 60 --datasets credit-g kc1 phoneme adult cifar10 \\
        --backends jax torch

Each dataset-backend pair runs in its own process (Keras fixes its backend at import) on the 80/20 split
of seed 0 (tables: stratified; cifar10: the first 8,000 / last 2,000 images of the shared CIFAR-10 set).
From the fit's own study (trial start and end times, each trial's ``fit_seconds``) it reports:

- ``trials``: trials finished (complete or failed) in the fit, and ``trials_per_min`` over the search span;
- ``in_fit``: share of the search span spent inside ``model.fit`` (the rest builds, compiles, predicts the
  validation rows, saves and clears), a cohort of trials trained together counted once;
- ``first_trial_s``: seconds from the start of ``fit`` to the first finished trial;
- ``prepare_s``, ``search_s``, ``final_s``: the fit's wall time split into data preparation (before the first
  trial), the search (first trial start to last trial end) and the final model (refit or bagging, blending
  and export, after the last trial);
- ``compile_s`` and ``step_ms``: a bare ``keras.Model.fit`` of the best trial's network on the same
  preprocessed rows and batch size: the first epoch's extra time over a steady epoch (compilation and
  tracing), and the time per step of a steady epoch;
- ``trial_sps`` against ``bare_sps``: training samples per second inside the best trial (its epochs times its
  rows over its ``fit_seconds``, validation and compilation included) against the bare fit's steady epochs.

With ``--baseline PATH`` (another checkout of autodeep, e.g. ``git worktree add /tmp/main main``) every pair
also runs with that checkout's code, the two alternating which goes first (``--rounds`` repeats the pairs, so
each code runs first as often), under the same load; the ``code`` column says which ran (``this`` or
``baseline``) and ``commit`` its commit. ``--max-trials`` caps the trials as well as the time, for comparisons
that should not depend on the load. ``--cohort-sizes 1 4`` runs every pair with each ``cohort_size`` (trials
trained together, ``autodeep.train.cohort``), alternating in the same way.

Writes ``benchmarks/results/throughput_<datasets>_<backends>_<time-limit>_<max-trials>.md`` and the raw rows
to the CSV beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import _common as C

TABLES = ("credit-g", "kc1", "phoneme", "adult", "bank-marketing", "Australian", "titanic", "kr-vs-kp")
IMAGES = ("cifar10",)
COLUMNS = ["dataset", "backend", "code", "cohort_size", "rows", "time_limit", "wall_s", "trials", "trials_per_min",
           "in_fit", "first_trial_s", "prepare_s", "search_s", "final_s", "compile_s", "step_ms", "trial_sps",
           "bare_sps", "score", "error", "commit"]
BARE_EPOCHS = 4


def load(root, name: str, seed: int = 0):
    """(x_train, y_train, x_test, y_test) of a table (stratified 80/20) or of CIFAR-10 (8,000 / 2,000)."""
    if name in IMAGES:
        d = np.load(root / "image/cifar10_test_jpeg.npz", allow_pickle=False)
        x, y = d["x"], np.asarray(d["class_names"])[d["y"]]
        return x[:8000], y[:8000], x[8000:], y[8000:]
    entry = C.load_manifest(root).loc[name]
    x, y = C.load_table(root, entry)
    x_tr, x_te, y_tr, y_te = C.split(x, y, seed=seed)
    return x_tr, y_tr, x_te, y_te


def search_times(study, started: float, ended: float) -> dict:
    """Trial counts and the split of the fit's wall time, read from the study's trial records."""
    import optuna

    done = [t for t in study.trials if t.datetime_complete is not None
            and t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)]
    if not done:
        return {"trials": 0}
    first_start = min(t.datetime_start.timestamp() for t in done)
    last_end = max(t.datetime_complete.timestamp() for t in done)
    span = max(last_end - first_start, 1e-9)
    in_fit = fit_seconds(done)
    return {"trials": len(done), "trials_per_min": 60 * len(done) / span, "in_fit": in_fit / span,
            "first_trial_s": min(t.datetime_complete.timestamp() for t in done) - started,
            "prepare_s": first_start - started, "search_s": span, "final_s": ended - last_end}


def fit_seconds(trials) -> float:
    """The seconds ``trials`` spent inside ``model.fit``, a cohort's trials counted once; a baseline from before
    cohorts (no ``autodeep.search.cohorts``) trained every trial alone."""
    try:
        from autodeep.search.cohorts import once_per_cohort
    except ImportError:
        return sum(t.user_attrs.get("fit_seconds", 0.0) for t in trials)
    return once_per_cohort(trials, "fit_seconds")


def bare_fit(clf, x_train, y_train) -> dict:
    """Time a bare ``keras.Model.fit`` of the best trial's network on the fit's preprocessed training rows."""
    import keras

    from autodeep.graph import HyperParameters
    from autodeep.train.trainer import default_batch_size

    best = clf.study_.best_trial
    predictor = clf.predictor_
    specs = {node.name: p.specs() for node, p in zip(clf.graph_.inputs, predictor.preprocessors)}
    model = clf.graph_.build(HyperParameters(values=best.params), specs)
    arrays, targets = predictor.transform(x_train), predictor.targets(y_train)
    batch = default_batch_size(len(y_train))
    epochs: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epochs.append(time.perf_counter() - self.t0)

    model.fit(arrays, targets, epochs=BARE_EPOCHS, batch_size=batch, verbose=0, callbacks=[Clock()])
    steady = float(np.median(epochs[1:]))
    steps = int(np.ceil(len(y_train) / batch))
    attrs = best.user_attrs
    trial_rows = len(y_train) * (1 - 0.2)  # the search trains on 80 % of the fit's rows
    return {"compile_s": epochs[0] - steady, "step_ms": 1000 * steady / steps, "bare_sps": len(y_train) / steady,
            "trial_sps": trial_rows * attrs.get("epochs_run", 0) / max(attrs.get("fit_seconds", 0.0), 1e-9)}


def run_one(name: str, backend: str, args) -> dict:
    """Fit autodeep on one dataset in this process (on ``backend``) and measure where its time went; with
    ``args.code``, autodeep is imported from that checkout instead of this one."""
    ak = C.import_autodeep(args.code or C.REPO)
    from sklearn.metrics import accuracy_score, roc_auc_score

    root = C.data_dir(args.data_dir)
    x_tr, y_tr, x_te, y_te = load(root, name)
    task = ak.ImageClassifier if name in IMAGES else ak.StructuredDataClassifier
    row = {"dataset": name, "backend": backend, "code": "baseline" if args.code else "this",
           "cohort_size": args.cohort_sizes[0], "rows": len(y_tr) + len(y_te), "time_limit": args.time_limit,
           "commit": C.git_commit(args.code or C.REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        cohort = {"cohort_size": args.cohort_sizes[0]} if args.cohort_sizes != [1] else {}  # a baseline may lack it
        clf = task(max_trials=args.max_trials, time_limit=args.time_limit, seed=0, overwrite=True, verbose=0,
                   directory=tmp, **cohort)
        started = time.time()
        clf.fit(x_tr, y_tr)
        ended = time.time()
        row |= {"wall_s": ended - started} | search_times(clf.study_, started, ended)
        proba = clf.predict_proba(x_te)
        if proba.shape[1] == 2:
            row["score"] = roc_auc_score(np.asarray(y_te) == clf.classes_[1], proba[:, 1])
        else:
            row["score"] = accuracy_score(np.asarray(y_te).astype(str), np.asarray(clf.predict(x_te)).astype(str))
        if name not in IMAGES:
            row |= bare_fit(clf, x_tr, y_tr)
    return row


def run_in_process(name: str, backend: str, args, code: str | None = None, cohort_size: int = 1) -> dict:
    """Run one pair in a child process with ``KERAS_BACKEND=backend``, the autodeep of ``code`` (a checkout;
    None: this one) and ``cohort_size``; an error becomes the row's error."""
    cmd = [sys.executable, __file__, "--one", name, "--backends", backend, "--time-limit", str(args.time_limit),
           "--max-trials", str(args.max_trials), "--cohort-sizes", str(cohort_size)]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if code:
        cmd += ["--code", code]
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        return {"dataset": name, "backend": backend, "code": "baseline" if code else "this", "cohort_size": cohort_size,
                "error": done.stderr.strip().splitlines()[-1:] or "no output"}
    return json.loads(lines[-1])


def summarize(rows: list[dict]) -> str:
    return (C.header("Throughput: where a time-limited fit spends its time", ("keras", "jax", "torch"))
            + "\n" + C.md_table(rows, COLUMNS)
            + "\nin_fit: share of the search span inside model.fit. compile_s, step_ms, bare_sps: a bare keras fit "
              "of the best trial's network; trial_sps: the best trial's own training speed.\n")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["credit-g", "kc1", "phoneme", "adult"],
                   choices=TABLES + IMAGES)
    p.add_argument("--backends", nargs="+", default=["jax", "torch"], choices=["jax", "torch"])
    p.add_argument("--time-limit", type=float, default=60)
    p.add_argument("--max-trials", type=int, default=1000, help="trials at most in each fit (default 1000)")
    p.add_argument("--baseline", help="another autodeep checkout: run the same pairs with its code too, "
                                      "alternating which goes first")
    p.add_argument("--rounds", type=int, default=1, help="run every pair this many times (default 1)")
    p.add_argument("--cohort-sizes", type=int, nargs="+", default=[1],
                   help="run every pair with each of these cohort_size values (trials trained together), "
                        "alternating which goes first (default: 1)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one dataset in this process
    p.add_argument("--code", help=argparse.SUPPRESS)  # internal: the checkout --one imports autodeep from
    C.add_io_arguments(p, "throughput_{datasets}_{backends}_{time_limit}_{max_trials}")
    args = p.parse_args(argv)
    args.out = C.result_path(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.backends[0], args), default=float))
        return
    rows = []
    for name, backend, code, cohort_size in runs(args):
        rows.append(run_in_process(name, backend, args, code, cohort_size))
        print(C.md_row(rows[-1].get(c) for c in COLUMNS), flush=True)
        C.write_report(args.out, summarize(rows), rows)
    print(f"wrote {args.out}")


def runs(args) -> list[tuple[str, str, str | None, int]]:
    """``(dataset, backend, code, cohort_size)`` in the order they run: with a baseline, each pair runs with both
    codes (the baseline with cohort size 1), and with each of this code's cohort sizes, the variant that goes first
    alternating from pair to pair.

    >>> import argparse
    >>> runs(argparse.Namespace(datasets=["kc1"], backends=["jax"], baseline="/b", rounds=2, cohort_sizes=[1]))
    [('kc1', 'jax', None, 1), ('kc1', 'jax', '/b', 1), ('kc1', 'jax', '/b', 1), ('kc1', 'jax', None, 1)]
    >>> runs(argparse.Namespace(datasets=["kc1", "phoneme"], backends=["jax"], baseline=None, rounds=1,
    ...                         cohort_sizes=[1, 4]))
    [('kc1', 'jax', None, 1), ('kc1', 'jax', None, 4), ('phoneme', 'jax', None, 4), ('phoneme', 'jax', None, 1)]
    """
    variants = [(None, size) for size in args.cohort_sizes] + ([(args.baseline, 1)] if args.baseline else [])
    order = []
    for _ in range(args.rounds):
        for name in args.datasets:
            for backend in args.backends:
                order += [(name, backend, *variant) for variant in variants]
                variants = variants[::-1]
    return order


if __name__ == "__main__":
    main()
