"""The ``autodeep`` command line: ``fit``, ``predict``, ``worker``, ``demo``, ``leaderboard``, ``report`` and
``export``.

Example:
    autodeep fit data.csv --target class --time-limit 120 --out model_dir
    autodeep predict model_dir new.csv --output predictions.csv
    autodeep fit photos/ --task image --out photo_model          (one sub-folder of images per class)
    autodeep predict photo_model new_photos/ --output predictions.csv
    autodeep fit reviews.csv --target label --text-column review --out review_model
    autodeep worker --study postgresql+psycopg2://user@db-host/autodeep --study-name cli
    autodeep demo --time-limit 60
    autodeep leaderboard autodeep_runs/cli
    autodeep report autodeep_runs/cli --out report.html
    autodeep export model_dir --format onnx --out model.onnx
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autodeep.search.strategies import TUNERS


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


def _search_arguments(args) -> dict:
    """The task classes' constructor arguments that ``fit``'s options set."""
    return dict(max_trials=args.max_trials, time_limit=args.time_limit, directory=args.directory,
                project_name=args.project_name, overwrite=not args.resume, seed=args.seed, tuner=args.tuner,
                verbose=0 if args.quiet else 1, n_workers=args.workers, storage=args.storage)


def _fit(args) -> int:
    import autodeep as ak
    from autodeep.data import read_table

    try:  # edges (issue 23 item 6): images and texts
        kind = media_kind(args)
    except UsageError as error:
        return _usage_error("fit", error)
    if kind is not None:
        return _fit_media(args, kind)
    if args.target is None:
        return _usage_error("fit", UsageError("--target is required for a table: the name of its target column."))
    x, y = read_table(args.data, target=args.target, argument="data")
    task = args.task or infer_task(y)
    cls = ak.StructuredDataClassifier if task == "classification" else ak.StructuredDataRegressor
    model = cls(**_search_arguments(args))
    model.fit(x, y, epochs=args.epochs)
    path = model.save(args.out)
    print(f"{task} model saved to {path}; load it with autodeep.load_model({str(path)!r})")
    return 0


def _predict(args) -> int:
    import autodeep as ak
    from autodeep.data import read_table

    model = ak.load_model(args.model)
    if input_kind(model) in MEDIA:  # edges (issue 23 item 6): images and texts
        return _predict_media(args, model)
    x, _ = read_table(args.data, argument="data")
    _write_predictions(args, model, x, pd.DataFrame(index=range(len(x))))
    return 0


def _write_predictions(args, model, x, out: pd.DataFrame) -> None:
    """Add the predictions of ``x`` (and with ``--proba`` one probability column per class) to ``out``; write
    it to ``--output`` or stdout."""
    out["prediction"] = model.predict(x)
    if args.proba:
        proba = model.predict_proba(x)
        for i, label in enumerate(model.classes_):
            out[f"proba_{label}"] = proba[:, i]
    if args.output:
        out.to_csv(args.output, index=False)
        print(f"{len(out)} predictions written to {args.output}")
    else:
        out.to_csv(sys.stdout, index=False)


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


# -- images and texts: `fit photos/ --task image`, `fit reviews.csv --target label --text-column review`,
# -- and `predict` to match (issue 23 item 6) ------------------------------------------------------------
MEDIA = ("image", "text")
SIDECAR = "cli.json"  # written beside the exported model: the CSV column it reads (for `predict`)


class UsageError(ValueError):
    """Bad command-line input; the message names the option, what it expects and what it received."""


def _export(args) -> int:
    """``autodeep export MODEL_DIR --format onnx --out FILE``: the saved model's whole pipeline as one ONNX graph."""
    import autodeep as ak

    try:
        path = ak.load_model(args.model).export_onnx(args.out)
    except (ValueError, FileNotFoundError, ImportError) as error:  # OnnxExportError is a ValueError
        return _usage_error("export", error)
    import onnx

    graph = onnx.load(path).graph
    names = [i.name for i in graph.input]
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
    print(f"ONNX graph written to {path}; inputs: {shown}; outputs: {', '.join(o.name for o in graph.output)}")
    return 0


def add_export_parser(sub) -> None:
    """The ``export`` subcommand (its own function: onnx, issue 20 item 4)."""
    export = sub.add_parser("export", help="write a saved model as one ONNX graph, raw columns to predictions")
    export.add_argument("model", help="folder written by 'autodeep fit' or model.save()")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the export format (onnx)")
    export.add_argument("--out", required=True, help="file to write, e.g. model.onnx")
    export.set_defaults(func=_export)


def _usage_error(command: str, error: Exception) -> int:
    print(f"autodeep {command}: error: {error}", file=sys.stderr)
    return 2


def add_media_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """``--text-column`` and ``--image-column`` for ``fit`` and ``predict``."""
    remembered = " (the column fit used if omitted)" if command == "predict" else ""
    parser.add_argument("--text-column", help=f"column of a CSV/Parquet table holding the texts{remembered}")
    parser.add_argument("--image-column", help="column of a CSV/Parquet table holding image file paths, relative "
                                               f"to the table's folder or absolute{remembered}")


def input_kind(model) -> str:
    """The kind of a loaded model's input (``"structured"``, ``"image"``, ``"text"``, ...), or ``"several"``."""
    inputs = model.manifest["inputs"]
    return inputs[0]["kind"] if len(inputs) == 1 else "several"


def media_kind(args) -> str | None:
    """``"image"``, ``"text"`` or ``None`` (a table) for ``fit``'s data and options; ``UsageError`` names a
    bad combination.

    Example:
        >>> media_kind(argparse.Namespace(data="reviews.csv", task=None, target="label", text_column="review",
        ...                               image_column=None))
        'text'
    """
    columns = [name for name, value in (("--text-column", args.text_column), ("--image-column", args.image_column))
               if value is not None]
    if len(columns) == 2:
        raise UsageError("--text-column and --image-column: give one of them (a model reads texts or images); "
                         f"received both ({args.text_column!r} and {args.image_column!r}).")
    data = Path(args.data)
    if data.is_dir():
        return _folder_kind(args, data, columns)
    if args.task in MEDIA and columns != [f"--{args.task}-column"]:
        what = "image file paths" if args.task == "image" else "texts"
        raise UsageError(f"--task {args.task} with a table: name its column of {what} with --{args.task}-column "
                         f"(received {columns[0] if columns else 'none'}), or give a folder with one sub-folder "
                         f"per class as data.")
    return "text" if args.text_column is not None else "image" if args.image_column is not None else None


def _folder_kind(args, data: Path, columns: list[str]) -> str:
    from autodeep.data.images import IMAGE_SUFFIXES

    where = f"data is the folder {str(data)!r}, whose sub-folders name the classes"
    if columns:
        raise UsageError(f"{columns[0]}: {where}; {columns[0]} names a column of a CSV/Parquet table.")
    if args.target is not None:
        raise UsageError(f"--target: {where}; do not pass --target (received {args.target!r}).")
    if args.task == "regression":
        raise UsageError(f"--task regression: {where}, so the task is classification. For regression give a "
                         f"CSV/Parquet table with --target and --image-column or --text-column.")
    if args.task in MEDIA:
        return args.task
    suffixes = {p.suffix.lower() for p in data.rglob("*") if p.is_file()}
    if suffixes & set(IMAGE_SUFFIXES):
        return "image"
    if ".txt" in suffixes:
        return "text"
    raise UsageError(f"data: the folder {str(data)!r} holds no image and no .txt files; give a folder with one "
                     f"sub-folder of images (or .txt files) per class, or a CSV/Parquet table.")


def _column_values(frame: pd.DataFrame, column: str, option: str, data) -> list:
    """The values of ``column``: texts (a missing one is empty), or image paths resolved against the table's
    folder (which must exist)."""
    if column not in frame.columns:
        raise UsageError(f"{option}: the table {str(data)!r} has no column {column!r}; its columns: "
                         f"{[str(c) for c in frame.columns][:20]}.")
    if option == "--text-column":
        return frame[column].fillna("").astype(str).tolist()
    base = Path(data).resolve().parent
    paths = [str(base / str(p)) if not Path(str(p)).is_absolute() else str(p) for p in frame[column]]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise UsageError(f"{option} {column!r}: {len(missing)} of {len(paths)} image files do not exist "
                         f"(paths are relative to the table's folder {str(base)!r}), e.g. {missing[:3]}.")
    return paths


def _fit_media(args, kind: str) -> int:
    """Search an image or text model on a folder of class sub-folders or on a table's column; save it."""
    import autodeep as ak
    from autodeep.data import read_table

    column = args.text_column if kind == "text" else args.image_column
    try:
        if column is None:
            x, y, task = args.data, None, "classification"
        elif args.target is None:
            raise UsageError(f"--target is required with --{kind}-column: the name of the table's target column.")
        else:
            frame, y = read_table(args.data, target=args.target, argument="data")
            x = _column_values(frame, column, f"--{kind}-column", args.data)
            task = args.task if args.task in ("classification", "regression") else infer_task(y)
            unused = [str(c) for c in frame.columns if c != column]
            if unused:
                print(f"autodeep fit: note: the {kind} model reads column {column!r} alone; not used: {unused[:10]}",
                      file=sys.stderr)
    except UsageError as error:
        return _usage_error("fit", error)
    cls = {("image", "classification"): ak.ImageClassifier, ("image", "regression"): ak.ImageRegressor,
           ("text", "classification"): ak.TextClassifier, ("text", "regression"): ak.TextRegressor}[kind, task]
    model = cls(**_search_arguments(args))
    model.fit(x, y, epochs=args.epochs)
    path = model.save(args.out)
    (path / SIDECAR).write_text(json.dumps({"input": kind, "column": column}))
    print(f"{kind} {task} model saved to {path}; predict with: autodeep predict {path} DATA --output predictions.csv")
    return 0


def _predict_media(args, model) -> int:
    """Predict with an image or text model: a folder of files (a ``path`` column comes first) or a table's column."""
    from autodeep.data import read_table
    from autodeep.data.images import list_image_files

    kind = input_kind(model)
    option = f"--{kind}-column"
    try:
        if Path(args.data).is_dir():
            files = list_image_files(args.data, argument="data") if kind == "image" else _text_files(args.data)
            x = files if kind == "image" else [Path(f).read_text(encoding="utf-8", errors="replace") for f in files]
            out = pd.DataFrame({"path": files})
        else:
            column = getattr(args, f"{kind}_column") or _saved_column(args.model)
            if column is None:
                raise UsageError(f"{option} is required: the model reads {kind}s; name the column of "
                                 f"{str(args.data)!r} that holds them.")
            frame, _ = read_table(args.data, argument="data")
            x = _column_values(frame, column, option, args.data)
            out = pd.DataFrame(index=range(len(frame)))
    except UsageError as error:
        return _usage_error("predict", error)
    _write_predictions(args, model, x, out)
    return 0


def _text_files(folder) -> list[str]:
    files = sorted(str(p) for p in Path(folder).rglob("*.txt") if p.is_file())
    if not files:
        raise UsageError(f"data: the folder {str(folder)!r} holds no .txt files for the text model.")
    return files


def _saved_column(model_dir) -> str | None:
    """The table column ``fit`` trained the model on, from the file it wrote beside the model."""
    path = Path(model_dir) / SIDECAR
    return json.loads(path.read_text()).get("column") if path.is_file() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autodeep", description="AutoML for deep learning on Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="search a model for a CSV/Parquet table and save it")
    fit.add_argument("data", help="CSV or Parquet file with the training table, or a folder with one sub-folder "
                                  "of images (or .txt files) per class")
    fit.add_argument("--target", help="name of the target column (a table's; not for a folder)")
    fit.add_argument("--task", choices=["classification", "regression", *MEDIA],
                     help="classification or regression (inferred from the target if omitted); image or text for a "
                          "folder of class sub-folders (inferred from its files if omitted)")
    fit.add_argument("--time-limit", type=float, default=None, help="wall-clock seconds for the whole fit")
    fit.add_argument("--max-trials", type=int, default=100)
    fit.add_argument("--tuner", default=None, choices=TUNERS, help="search strategy (default: the task's own)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--directory", default="autodeep_runs", help="where the search keeps its project folder")
    fit.add_argument("--project-name", default="cli")
    fit.add_argument("--resume", action="store_true", help="resume the project's search instead of starting afresh")
    fit.add_argument("--out", required=True, help="folder for the exported model")
    fit.add_argument("--quiet", action="store_true")
    fit.add_argument("--workers", type=int, default=1, help="processes running trials on this machine")
    fit.add_argument("--storage", default=None,
                     help="Optuna storage URL (e.g. PostgreSQL) so workers on other machines can join")
    fit.add_argument("--epochs", type=int, default=None, help="epochs per trial (early stopping if omitted)")
    add_media_arguments(fit, "fit")
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
    predict.add_argument("data", help="CSV or Parquet file with the same columns as the training table, or a folder "
                                      "of images (or .txt files) for an image (text) model")
    predict.add_argument("--output", help="CSV file to write (stdout if omitted)")
    predict.add_argument("--proba", action="store_true", help="add one probability column per class")
    add_media_arguments(predict, "predict")
    predict.set_defaults(func=_predict)
    demo = sub.add_parser("demo", help="search on the bundled credit-g dataset and report held-out scores")
    demo.add_argument("--time-limit", type=float, default=60)
    demo.add_argument("--max-trials", type=int, default=100)
    demo.add_argument("--directory", default="autodeep_runs")
    demo.add_argument("--out", default="autodeep_runs/demo_model")
    demo.set_defaults(func=_demo)
    from autodeep.report.cli import add_commands

    add_commands(sub)
    add_export_parser(sub)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.func is _worker:
        return _worker(args, argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
