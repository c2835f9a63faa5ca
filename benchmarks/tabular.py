"""Tabular benchmark: autodeep vs LightGBM (default parameters) on the shared binary datasets.

    python benchmarks/tabular.py --time-limit 60 --seeds 0 --datasets credit-g kc1 phoneme \\
        --systems autodeep lightgbm

Defaults: every binary dataset in MANIFEST.tsv, seed 0, 60 s for autodeep, both systems.
Per dataset and seed: stratified 80/20 split (random_state=seed); each system fits on the train part
and is scored on the test part: ROC AUC and F1 for the positive class (the second of the sorted
labels), wall seconds of fit + predict, and this process's peak RSS so far (MB).
Rows print as they finish; a summary follows. The markdown goes to --out, the raw rows to a CSV beside it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

import _common as C

SYSTEMS = ("autodeep", "lightgbm")
COLUMNS = ["dataset", "rows", "seed", "system", "auc", "f1", "wall_s", "peak_rss_mb", "error"]


def run_lightgbm(x_train, y_train, x_test, seed, args, project):
    """LGBMClassifier with defaults; string columns as pandas categories fit on the train split."""
    import lightgbm
    from sklearn.preprocessing import LabelEncoder

    x_train, x_test = x_train.copy(), x_test.copy()
    for c in x_train.select_dtypes(include=["object", "string", "category"]).columns:
        x_train[c] = x_train[c].astype("category")
        cats = x_train[c].dtype
        x_test[c] = x_test[c].where(x_test[c].isin(cats.categories)).astype(cats)  # unseen -> missing
    enc = LabelEncoder().fit(y_train)
    model = lightgbm.LGBMClassifier(random_state=seed, verbose=-1).fit(x_train, enc.transform(y_train))
    proba = model.predict_proba(x_test)
    return enc.classes_, proba, enc.classes_[proba.argmax(axis=1)]


def run_autodeep(x_train, y_train, x_test, seed, args, project):
    """autodeep's StructuredDataClassifier under a time limit, in a throwaway directory."""
    import autodeep as ak

    with tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
        clf = ak.StructuredDataClassifier(time_limit=args.time_limit, max_trials=1000, seed=seed, directory=tmp,
                                          project_name=project, overwrite=True, verbose=0)
        clf.fit(x_train, y_train)
        proba, pred = clf.predict_proba(x_test), clf.predict(x_test)
        return np.asarray(clf.classes_), np.asarray(proba), np.asarray(pred).ravel()


RUNNERS = {"autodeep": run_autodeep, "lightgbm": run_lightgbm}


def score(y_test, pos, classes, proba, pred) -> dict:
    col = list(classes).index(pos)
    y_test = np.asarray(y_test)
    return {"auc": roc_auc_score(y_test == pos, proba[:, col]), "f1": f1_score(y_test, pred, pos_label=pos)}


def summarize(rows: list[dict]) -> str:
    """Per dataset x system means over seeds, then each system's mean AUC over shared datasets."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["ok"] = df["error"].isna()
    s = (df.groupby(["dataset", "system"], sort=False)
           .agg(rows=("rows", "first"), auc=("auc", "mean"), f1=("f1", "mean"), wall_s=("wall_s", "mean"),
                ok=("ok", "sum"), runs=("ok", "size"))
           .reset_index())
    s["runs ok"] = s["ok"].astype(str) + "/" + s["runs"].astype(str)
    table = C.md_table(s.to_dict("records"), ["dataset", "rows", "system", "auc", "f1", "wall_s", "runs ok"])
    table = table.replace("| auc | f1 | wall_s |", "| AUC (mean over seeds) | F1 | wall s |", 1)
    auc = s.pivot(index="dataset", columns="system", values="auc").dropna()
    means = ", ".join(f"{system} {auc[system].mean():.4f}" for system in auc.columns) if len(auc) else "n/a"
    return f"{table}\nMean AUC over the {len(auc)} datasets every system completed: {means}\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", help="binary dataset names from MANIFEST.tsv (default: all)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    p.add_argument("--time-limit", type=float, default=60, help="autodeep time limit in seconds (default 60)")
    p.add_argument("--max-rows", type=int, help="stratified subsample of larger datasets to this many rows")
    C.add_io_arguments(p, "tabular")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root, "binary")
    names = args.datasets or list(manifest.index)
    if unknown := [n for n in names if n not in manifest.index]:
        sys.exit(f"error: not binary datasets in the manifest: {unknown}; choose from {list(manifest.index)}")

    for system in args.systems:  # import up front so wall times exclude it; a failure shows up per run
        try:
            importlib.import_module(system)
        except Exception as e:
            print(f"warning: cannot import {system}: {type(e).__name__}: {e}", file=sys.stderr)

    print(C.md_table([], COLUMNS), end="", flush=True)
    rows = []
    try:
        for name in names:
            for seed in args.seeds:
                x, y = C.load_table(root, manifest.loc[name], args.max_rows, seed)
                x_train, x_test, y_train, y_test = C.split(x, y, seed)
                pos = np.unique(y)[1]
                for system in args.systems:
                    row = dict.fromkeys(COLUMNS) | {"dataset": name, "rows": len(x), "seed": seed, "system": system}
                    try:
                        with C.Timer() as t:
                            out = RUNNERS[system](x_train, y_train, x_test, seed, args, f"{name}_{seed}")
                        row |= score(y_test, pos, *out) | {"wall_s": t.seconds}
                    except Exception as e:  # one failure is a row, not the end of the run
                        row["error"] = f"{type(e).__name__}: {e}"[:300]
                    row["peak_rss_mb"] = C.peak_rss_mb()
                    rows.append(row)
                    print(C.md_row(row.values()), flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished rows", file=sys.stderr)

    summary = summarize(rows)
    print("\n" + summary, flush=True)
    report = (C.header("Tabular benchmark: autodeep vs LightGBM", ("keras", "jax", "lightgbm", "scikit-learn"))
              + f"- time limit (autodeep): {args.time_limit:g} s; max rows: {args.max_rows or 'all'}\n"
              + "\n## Runs\n\n" + C.md_table(rows, COLUMNS) + "\n## Summary\n\n" + summary)
    md, csv = C.write_report(args.out, report, rows)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
