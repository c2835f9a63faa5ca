"""Network morphism against greedy on the same splits: at equal wall time (``--time-limit``), or at equal trials.

    python benchmarks/morph.py --datasets cifar10 --time-limit 600 --seeds 0      # -> morph_cifar10_600_jax.md
    KERAS_BACKEND=torch python benchmarks/morph.py --datasets cifar10 --time-limit 600 --seeds 0   # ..._torch.md
    python benchmarks/morph.py --datasets mnist --time-limit 300 --seeds 0
    python benchmarks/morph.py --datasets credit-g phoneme adult --time-limit 300 --seeds 0
    python benchmarks/morph.py --datasets phoneme --max-trials 9 --epochs 3 --seeds 0 1   # -> morph_phoneme_9.md

For each dataset and seed, ``tuner="morph"`` and ``tuner="greedy"`` each fit on the same split, one after the
other (the order alternates with the seed, so load drifts fall on both), each in a fresh process of this
script, so ``peak_rss_mb`` is that run's own peak resident memory. With ``--time-limit`` both get that
``time_limit`` and a trial budget they do not reach (``--max-trials``, default 1000): what differs is how many
architectures each evaluates in the time. Without it, both run ``--max-trials`` trials (default 9).

- Tables (binary datasets of MANIFEST.tsv): ``ak.StructuredDataClassifier``, stratified 80/20 split of the seed.
- ``mnist``, ``cifar10``: ``ak.ImageClassifier``, the splits of benchmarks/images.py (first 8,000 images to train,
  last 2,000 to test; the seed only seeds the search).

Both start with the task's known-good configurations; after them greedy mutates the best trial's
hyperparameters and morph trains children of the best trials that inherit their parent's weights. Reported
per run: test accuracy and AUC (one-vs-rest macro for 10 classes), fit seconds, architectures evaluated
(``trials``: completed trials) and per hour, children, the epochs children trained and the epochs their
inherited weights carry (``epochs_inherited``: training each child from scratch would have repeated them),
peak RSS, and the error of a run that failed (a failed run is a row, not the end of the benchmark).
``--max-rows`` (smoke tests only) trains on that many rows or images.

Writes ``benchmarks/results/morph_<datasets>_<time limit>_<backend>.md`` (``morph_<datasets>_<max trials>.md``
without ``--time-limit``) and the raw rows to the CSV beside it; the header gives the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import _common as C

IMAGES = ("mnist", "cifar10")
COLUMNS = ["dataset", "backend", "tuner", "seed", "accuracy", "auc", "seconds", "trials", "arch_per_hour",
           "children", "child_epochs", "epochs_inherited", "peak_rss_mb", "error"]


def load(args, dataset: str, seed: int) -> tuple:
    """``(x_train, x_test, y_train, y_test)`` of ``dataset`` for ``seed``."""
    import images

    root = C.data_dir(args.data_dir)
    if dataset in IMAGES:
        x_tr, y_tr, x_te, y_te = images.load(root, dataset)
        if args.max_rows:
            x_tr, y_tr, x_te, y_te = (x_tr[:args.max_rows], y_tr[:args.max_rows], x_te[:args.max_rows // 4],
                                      y_te[:args.max_rows // 4])
        return x_tr, x_te, y_tr, y_te
    entry = C.load_manifest(root).loc[[dataset]].iloc[0]
    x, y = C.load_table(root, entry, args.max_rows, seed)
    return C.split(x, y, seed)


def classifier(args, dataset: str, tuner: str, seed: int):
    """The task's classifier for ``tuner``, in a fresh project folder."""
    import autodeep as ak

    cls = ak.ImageClassifier if dataset in IMAGES else ak.StructuredDataClassifier
    return cls(tuner=tuner, max_trials=args.max_trials, time_limit=args.time_limit, seed=seed, verbose=0,
               directory=tempfile.mkdtemp(prefix="morph_bench_"), overwrite=True)


def scores(clf, x_te, y_te) -> dict:
    """Test accuracy, and ROC AUC (binary; one-vs-rest macro for more classes)."""
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(y_te).astype(str).ravel()
    accuracy = float(np.mean(np.asarray(clf.predict(x_te)).astype(str).ravel() == truth))
    proba = np.asarray(clf.predict_proba(x_te))
    classes = [str(c) for c in clf.classes_]
    if len(classes) == 2:
        auc = roc_auc_score(truth == classes[1], proba[:, -1] if proba.ndim == 2 else proba.ravel())
    else:
        auc = roc_auc_score(truth, proba, multi_class="ovr", labels=classes)
    return {"accuracy": accuracy, "auc": float(auc)}


def inheritance(clf) -> dict:
    """Architectures evaluated (completed trials), children, their epochs and the epochs their weights carry."""
    import optuna

    url = clf.project_.study_url
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    attrs = [t.user_attrs for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
    children = [a for a in attrs if "parent" in a]
    return {"trials": len(attrs), "children": len(children),
            "child_epochs": sum(int(a.get("epochs_run", 0)) for a in children),
            "epochs_inherited": sum(int(a.get("inherited_epochs", 0)) for a in children)}


def run_one(args, dataset: str, tuner: str, seed: int) -> dict:
    """One fit of ``tuner`` on ``dataset``'s split for ``seed`` (in this process); an exception becomes the error."""
    row = {"dataset": dataset, "backend": args.backend, "tuner": tuner, "seed": seed}
    try:
        x_tr, x_te, y_tr, y_te = load(args, dataset, seed)
        clf = classifier(args, dataset, tuner, seed)
        with C.Timer() as timer:
            clf.fit(x_tr, y_tr, epochs=args.epochs)
        row |= {"seconds": timer.seconds, **inheritance(clf)}
        row["arch_per_hour"] = row["trials"] * 3600 / timer.seconds
        row |= scores(clf, x_te, y_te)
    except Exception as error:  # a failed run is a row of the table
        row["error"] = f"{type(error).__name__}: {error}"[:300]
    row["peak_rss_mb"] = C.peak_rss_mb()
    return row


def run_in_subprocess(args, dataset: str, tuner: str, seed: int) -> dict:
    """``run_one`` in a fresh process of this script (its own peak RSS); a crash becomes the row's error."""
    cmd = [sys.executable, __file__, *sys.argv[1:], "--one", json.dumps([dataset, tuner, seed])]
    limit = 3 * args.time_limit + 600 if args.time_limit else None
    row = {"dataset": dataset, "backend": args.backend, "tuner": tuner, "seed": seed,
           "load_1min": os.getloadavg()[0]}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return row | {"error": f"killed after {limit:g} s"}
    found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not found:
        return row | {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    return row | json.loads(found[-1][len("RESULT "):])


def report(args, rows: list, load_start: tuple) -> str:
    """The markdown report: header, load averages, budget, the table."""
    load_end = os.getloadavg()
    budget = (f"time_limit {args.time_limit:g} s each (max_trials {args.max_trials}, not reached)"
              if args.time_limit else f"max_trials {args.max_trials} each")
    epochs = "early stopping" if args.epochs is None else f"{args.epochs} epochs per trial"
    return (C.header("Network morphism against greedy" + (" at equal wall time" if args.time_limit else
                                                            " (equal trials)"), ("autodeep", "keras", args.backend))
            + f"- backend: {args.backend}; budget: {budget}; {epochs}\n"
            + "- load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in load_start)
            + "; at the end: " + ", ".join(f"{v:.2f}" for v in load_end) + "\n\n"
            + C.md_table(rows, COLUMNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["phoneme"],
                        help=f"binary tables of MANIFEST.tsv, or {' / '.join(IMAGES)}")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per fit, the same for both tuners")
    parser.add_argument("--max-trials", type=int, default=None, help="9 without --time-limit, else 1000")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: early stopping)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tuners", nargs="+", default=["morph", "greedy"], choices=("morph", "greedy"),
                        help="rerun one tuner's rows only (each seed alternates which runs first)")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND") or "jax", choices=("jax", "torch"))
    parser.add_argument("--max-rows", type=int, default=None, help="smoke tests only: train on this many rows")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    C.add_io_arguments(parser, "morph_{datasets}_{time_limit}_{backend}")
    args = parser.parse_args()
    args.max_trials = args.max_trials or (1000 if args.time_limit else 9)
    if not args.time_limit:
        args.report = "morph_{datasets}_{max_trials}"
    os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported; the runs' processes inherit it
    if args.one:
        print("RESULT " + json.dumps(run_one(args, *json.loads(args.one))), flush=True)
        return
    load_start, rows = os.getloadavg(), []
    for dataset in args.datasets:
        for k, seed in enumerate(args.seeds):
            for tuner in args.tuners if k % 2 == 0 else args.tuners[::-1]:
                rows.append(run_in_subprocess(args, dataset, tuner, seed))
                print(C.md_row(rows[-1].get(c) for c in COLUMNS), flush=True)
    markdown = report(args, rows, load_start)
    print(markdown)
    C.write_report(C.result_path(args), markdown, rows)


if __name__ == "__main__":
    main()
