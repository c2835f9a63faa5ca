"""The ``autodeep`` command line: ``fit``, ``predict``, ``worker``, ``demo``, ``leaderboard`` and ``report``.

Example:
    autodeep fit data.csv --target class --time-limit 120 --out model_dir
    autodeep predict model_dir new.csv --output predictions.csv
    autodeep worker --study postgresql+psycopg2://user@db-host/autodeep --study-name cli
    autodeep demo --time-limit 60
    autodeep leaderboard autodeep_runs/cli
    autodeep report autodeep_runs/cli --out report.html
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd


def infer_task(y: pd.Series) -> str:
    """``"classification"`` for labels (non-numeric, or few distinct integers), else ``"regression"``.

    Example:
        >>> infer_task(pd.Series(["a", "b"])), infer_task(pd.Series([0.5, 1.25, 3.0]))
        ('classification', 'regression')
    """
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    values = y.dropna().to_numpy(dtype="float64")
    if np.all(values == np.round(values)) and len(np.unique(values)) <= 20:
        return "classification"
    return "regression"


def _fit(args) -> int:
    import autodeep as ak
    from autodeep.data import read_table

    x, y = read_table(args.data, target=args.target, argument="data")
    task = args.task or infer_task(y)
    cls = ak.StructuredDataClassifier if task == "classification" else ak.StructuredDataRegressor
    model = cls(max_trials=args.max_trials, time_limit=args.time_limit, directory=args.directory,
                project_name=args.project_name, overwrite=not args.resume, seed=args.seed, tuner=args.tuner,
                verbose=0 if args.quiet else 1, n_workers=args.workers, storage=args.storage)
    model.fit(x, y)
    path = model.save(args.out)
    print(f"{task} model saved to {path}; load it with autodeep.load_model({str(path)!r})")
    return 0


def _predict(args) -> int:
    import autodeep as ak
    from autodeep.data import read_table

    model = ak.load_model(args.model)
    x, _ = read_table(args.data, argument="data")
    out = pd.DataFrame({"prediction": model.predict(x)})
    if args.proba:
        proba = model.predict_proba(x)
        for i, label in enumerate(model.classes_):
            out[f"proba_{label}"] = proba[:, i]
    if args.output:
        out.to_csv(args.output, index=False)
        print(f"{len(out)} predictions written to {args.output}")
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _worker(args, argv: list[str]) -> int:
    """Run trials of a published search; thread and GPU settings apply before Keras starts."""
    from autodeep.search.worker import run_worker, set_backend_threads, worker_environment

    stale = (args.threads and os.environ.get("AUTODEEP_WORKER_THREADS") != str(args.threads)) or \
        (args.gpu is not None and os.environ.get("CUDA_VISIBLE_DEVICES") != str(args.gpu))
    if stale:  # Keras (imported with autodeep) may have read the environment already: start afresh with it set
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, "-m", "autodeep.cli", *argv],
                  worker_environment(args.threads, args.gpu))
    set_backend_threads()
    from autodeep.search import SearchFailed

    try:
        study = run_worker(args.study, args.study_name, verbose=0 if args.quiet else 1)
    except SearchFailed as error:
        print(f"autodeep worker: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"autodeep worker: the budget of study {study.study_name!r} is used; {len(study.trials)} trials.")
    return 0


def _demo(args) -> int:
    """Search on the bundled credit-g table, then report held-out scores."""
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    import autodeep as ak

    df = ak.datasets.load_credit_g()
    x, y = df.drop(columns="class"), df["class"]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    print(f"Demo: credit-g ({len(df)} rows, {x.shape[1]} features), time_limit={args.time_limit}s")
    started = time.time()
    clf = ak.StructuredDataClassifier(max_trials=args.max_trials, time_limit=args.time_limit,
                                      directory=args.directory, project_name="demo_credit_g", overwrite=True,
                                      seed=0)
    clf.fit(x_tr, y_tr)
    proba = clf.predict_proba(x_te)[:, list(clf.classes_).index("good")]
    print(f"held-out accuracy {accuracy_score(y_te, clf.predict(x_te)):.3f}, "
          f"AUC {roc_auc_score(y_te == 'good', proba):.3f}, wall {time.time() - started:.0f}s")
    path = clf.save(args.out)
    reloaded = ak.load_model(path)
    same = np.allclose(reloaded.predict_proba(x_te), clf.predict_proba(x_te))
    print(f"saved to {path}; reloaded artifact gives identical probabilities: {same}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autodeep", description="AutoML for deep learning on Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="search a model for a CSV/Parquet table and save it")
    fit.add_argument("data", help="CSV or Parquet file with the training table")
    fit.add_argument("--target", required=True, help="name of the target column")
    fit.add_argument("--task", choices=["classification", "regression"], help="inferred from the target if omitted")
    fit.add_argument("--time-limit", type=float, default=None, help="wall-clock seconds for the whole fit")
    fit.add_argument("--max-trials", type=int, default=100)
    fit.add_argument("--tuner", default="greedy", choices=["greedy", "bayesian", "tpe", "random", "hyperband"])
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--directory", default="autodeep_runs", help="where the search keeps its project folder")
    fit.add_argument("--project-name", default="cli")
    fit.add_argument("--resume", action="store_true", help="resume the project's search instead of starting afresh")
    fit.add_argument("--out", required=True, help="folder for the exported model")
    fit.add_argument("--quiet", action="store_true")
    fit.add_argument("--workers", type=int, default=1, help="processes running trials on this machine")
    fit.add_argument("--storage", default=None,
                     help="Optuna storage URL (e.g. PostgreSQL) so workers on other machines can join")
    fit.set_defaults(func=_fit)
    worker = sub.add_parser("worker", help="run trials of a search started elsewhere (same study URL)")
    worker.add_argument("--study", required=True,
                        help="storage URL of the study: postgresql+psycopg2://..., sqlite:////abs/path/study.db")
    worker.add_argument("--study-name", default=None, help="needed when the storage holds several studies")
    worker.add_argument("--threads", type=int, default=None, help="CPU threads for this worker's training")
    worker.add_argument("--gpu", default=None, help="GPU id(s) for this worker (sets CUDA_VISIBLE_DEVICES)")
    worker.add_argument("--quiet", action="store_true")
    worker.set_defaults(func=_worker)
    predict = sub.add_parser("predict", help="predict with a saved model")
    predict.add_argument("model", help="folder written by 'autodeep fit' or model.save()")
    predict.add_argument("data", help="CSV or Parquet file with the same columns as the training table")
    predict.add_argument("--output", help="CSV file to write (stdout if omitted)")
    predict.add_argument("--proba", action="store_true", help="add one probability column per class")
    predict.set_defaults(func=_predict)
    demo = sub.add_parser("demo", help="search on the bundled credit-g dataset and report held-out scores")
    demo.add_argument("--time-limit", type=float, default=60)
    demo.add_argument("--max-trials", type=int, default=100)
    demo.add_argument("--directory", default="autodeep_runs")
    demo.add_argument("--out", default="autodeep_runs/demo_model")
    demo.set_defaults(func=_demo)
    from autodeep.report.cli import add_commands  # report (issue 19): leaderboard, report

    add_commands(sub)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.func is _worker:
        return _worker(args, argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
