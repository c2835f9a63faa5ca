"""Fit autodeep on parquet frames in a process of its own and write its test predictions.

    python benchmarks/_autodeep_runner.py DIR --code /path/to/checkout --task binary --seed 0 \
        --time-limit 60 --project credit-g_0

``tabular.py --baseline CHECKOUT`` runs autodeep twice per dataset and seed: with this checkout's code and with
another's. Each run gets its own process, so neither inherits the other's compiled programs or imported code;
``--code`` names the checkout whose ``autodeep`` is imported (``_common.import_autodeep``, which checks that it
was). ``_tabular_systems.run_autodeep_in_process`` writes ``DIR/train.parquet`` (features and the ``__label__``
column) and ``DIR/test.parquet`` and runs this file, which fits ``_tabular_systems.run_autodeep`` and writes
``DIR/proba.npy`` (class probabilities in the order of ``classes``; absent for regression) and
``DIR/result.json`` (``classes``, ``pred`` and ``detail``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

import _common as C
import _tabular_systems as S

LABEL = "__label__"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="folder with train.parquet and test.parquet; the outputs go there")
    p.add_argument("--code", type=Path, required=True, help="the autodeep checkout to import")
    p.add_argument("--task", required=True, choices=["binary", "multiclass", "regression"])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--time-limit", type=float, required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--f1", action="store_true", help="run autodeep_f1 (objective f1 on binary tasks)")
    args = p.parse_args(argv)
    C.import_autodeep(args.code)

    train = pd.read_parquet(args.dir / "train.parquet")
    test = pd.read_parquet(args.dir / "test.parquet")
    run = S.run_autodeep_f1 if args.f1 else S.run_autodeep
    classes, proba, pred, detail = run(args.task, train.drop(columns=LABEL), train[LABEL], test, args.seed,
                                       args.time_limit, args.project)
    if proba is not None:
        np.save(args.dir / "proba.npy", np.asarray(proba, dtype=float))
    result = {"classes": None if classes is None else np.asarray(classes).tolist(),
              "pred": np.asarray(pred).tolist(), "detail": detail}
    (args.dir / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
