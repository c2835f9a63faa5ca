"""Fit AutoGluon on parquet frames and write its test predictions: run by AutoGluon's own python.

    /opt/autogluon-venv/bin/python benchmarks/_autogluon_runner.py DIR --label y --problem-type binary \
        --eval-metric roc_auc --time-limit 60

AutoGluon 1.6.3 needs pandas < 3, so it lives in a separate virtual environment
(``benchmarks/setup_autogluon.sh``); ``_tabular_systems.autogluon_predict`` writes ``DIR/train.parquet`` and
``DIR/test.parquet`` and runs this file with that environment's python. It fits
``TabularPredictor(label, problem_type, eval_metric).fit(train, time_limit)`` at AutoGluon's default preset
and writes ``DIR/pred.npy`` (class probabilities in the order of ``classes``, or the regression predictions)
and ``DIR/result.json`` (``classes``, the best model, the models fitted, AutoGluon's version and the seconds
of fit + predict). It imports nothing from autodeep or the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="folder with train.parquet and test.parquet; the outputs go there")
    p.add_argument("--label", required=True)
    p.add_argument("--problem-type", required=True, choices=["binary", "multiclass", "regression"])
    p.add_argument("--eval-metric", required=True)
    p.add_argument("--time-limit", type=float, required=True)
    args = p.parse_args(argv)

    import autogluon.tabular
    from autogluon.tabular import TabularPredictor

    train = pd.read_parquet(args.dir / "train.parquet")
    test = pd.read_parquet(args.dir / "test.parquet")
    start = time.perf_counter()
    predictor = TabularPredictor(label=args.label, problem_type=args.problem_type, eval_metric=args.eval_metric,
                                 path=str(args.dir / "model"), verbosity=0)
    predictor.fit(train, time_limit=args.time_limit)  # the default preset
    if args.problem_type == "regression":
        classes, pred = None, predictor.predict(test).to_numpy(dtype=float)
    else:
        proba = predictor.predict_proba(test)
        classes, pred = proba.columns.tolist(), proba.to_numpy(dtype=float)
    seconds = time.perf_counter() - start
    np.save(args.dir / "pred.npy", pred)
    result = {"classes": classes, "best": predictor.model_best, "models": predictor.model_names(),
              "version": autogluon.tabular.__version__, "seconds": seconds}
    (args.dir / "result.json").write_text(json.dumps(result, default=lambda v: v.item()))


if __name__ == "__main__":
    main()
