"""ID codes side by side: autodeep with and without its encodings of high-cardinality columns (a
frequency-capped embedding, counts, out-of-fold target statistics: ``StructuredDataInput``'s
``high_cardinality_*`` and ``integer_codes`` options, ``autodeep.data.category_stats``).

    python benchmarks/categorical_study.py --datasets click_prediction_small --max-rows 12000 --seeds 0 1 2 \\
        --max-trials 3 --epochs 15 --variants off int int-no-target int-no-count int-no-embedding
        # -> results/categorical_study_click_prediction_small.md

Per dataset and seed: the benchmark's 80/20 split (``_common.split``), then one ``StructuredDataClassifier``
per variant with a fixed ``max_trials`` and ``epochs`` and no time limit (quality compared under the same load,
not speed), the variants in alternating order from seed to seed. A variant is a set of ``input_options``
(``VARIANTS``). Reported: test ROC AUC per run, the ID codes and the statistics columns the variant made, fit
seconds, and per dataset the mean over seeds and the difference of each variant to "off".
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import _common as C
import _tabular_systems as S

COLUMNS = ["dataset", "seed", "variant", "auc", "codes", "statistics", "fit_s", "trials"]
ALL = ["embedding", "count", "target"]
VARIANTS = {  # name -> StructuredDataClassifier(input_options=...)
    "off": {"high_cardinality_levels": None},  # as before ID codes
    "auto": {},  # the defaults: categorical columns with >= 100 levels
    "int": {"integer_codes": True},  # integer columns with >= 100 distinct values too
    "int-no-target": {"integer_codes": True, "high_cardinality_encodings": ["embedding", "count"]},
    "int-no-count": {"integer_codes": True, "high_cardinality_encodings": ["embedding", "target"]},
    "int-no-embedding": {"integer_codes": True, "high_cardinality_encodings": ["count", "target"]},
    "cats2": {"high_cardinality_levels": 2},  # every categorical column is encoded as an ID code
}


def run(x_train, y_train, x_test, y_test, seed: int, variant: str, args) -> dict:
    """One fit of a variant: test AUC, its ID codes and statistics columns, fit seconds, trials completed."""
    import autodeep as ak

    with tempfile.TemporaryDirectory(prefix="categorical_study_") as tmp, C.Timer() as t:
        model = ak.StructuredDataClassifier(max_trials=args.max_trials, epochs=args.epochs, seed=seed,
                                            directory=tmp, overwrite=True, verbose=0,
                                            input_options=VARIANTS[variant])
        model.fit(x_train, y_train)
        scores = S.score("binary", y_test, np.asarray(model.classes_), np.asarray(model.predict_proba(x_test)),
                         np.asarray(model.predict(x_test)).ravel())
        table = model.predictor_.preprocessors[0].table_
        trials = int((model.tuner_results["state"] == "COMPLETE").sum())
    return {"auc": scores["auc"], "codes": len(table.codes_), "statistics": sum("#" in c for c in table.numerical_columns_),
            "fit_s": t.seconds, "trials": trials}


def summary(df: pd.DataFrame) -> str:
    """Mean AUC per dataset and variant over the seeds, and each variant minus "off"."""
    p = df.groupby(["dataset", "variant"], sort=False)["auc"].mean().unstack("variant")
    for v in [c for c in p.columns if c != "off"]:
        if "off" in p.columns:
            p[f"{v} - off"] = p[v] - p["off"]
    p.loc["mean"] = p.mean()
    return C.md_table([{"dataset": i, **r} for i, r in p.iterrows()], ["dataset", *p.columns])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["click_prediction_small", "adult", "credit-approval",
                                                     "credit-g"])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["off", "auto", "int"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-trials", type=int, default=3)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--max-rows", type=int, help="(stratified) subsample of larger datasets to this many rows")
    C.add_io_arguments(p, "categorical_study_{datasets}")
    args = p.parse_args(argv)
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root, "binary")
    out = C.result_path(args)
    rows = []
    for name in args.datasets:
        for i, seed in enumerate(args.seeds):
            x, y = C.load_table(root, manifest.loc[name], args.max_rows, seed)
            x_train, x_test, y_train, y_test = C.split(x, y, seed)
            order = args.variants if i % 2 == 0 else args.variants[::-1]
            for variant in order:
                row = {"dataset": name, "seed": seed, "variant": variant}
                row |= run(x_train, y_train, x_test, y_test, seed, variant, args)
                rows.append(row)
                print(C.md_row(row.get(c) for c in COLUMNS), flush=True)
                C.write_rows(Path(out).with_suffix(".csv"), rows)
    df = pd.DataFrame(rows)
    report = (C.header("ID codes: autodeep with and without their encodings", ("keras", "scikit-learn"))
              + f"- max_trials {args.max_trials}, epochs {args.epochs}, no time limit; max rows: "
              + f"{args.max_rows or 'all'}; variants: {', '.join(f'{v} {VARIANTS[v]}' for v in args.variants)}\n"
              + "\n## Runs\n\n"
              + C.md_table(rows, COLUMNS) + "\n## Mean test AUC over seeds\n\n" + summary(df))
    md, csv = C.write_report(out, report, rows)
    print(f"\n{summary(df)}\nwrote {md} and {csv}")


if __name__ == "__main__":
    main()
