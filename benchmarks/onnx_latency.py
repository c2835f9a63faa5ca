"""Prediction latency per row: the exported ONNX graph in onnxruntime vs autodeep's ``predict``.

Fits a small classifier on credit-g (bundled; 10% of five columns' cells missing; ``retrieval=False``),
exports it with ``export_onnx`` and times, on the 300 held-out rows, one call on all rows (batch) and one
call per row (single), best of ``--repeats``. Also reports the largest gap between the ONNX probabilities
and ``predict_proba``.

    KERAS_BACKEND=torch python benchmarks/onnx_latency.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autodeep as ak  # noqa: E402
from autodeep.deploy import onnx_feeds  # noqa: E402


def _best(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single-rows", type=int, default=50, help="rows timed one call each")
    args = parser.parse_args(argv)
    import keras
    import onnxruntime as ort

    df = ak.datasets.load_credit_g()
    rng = np.random.default_rng(0)
    for column in ["duration", "credit_amount", "age", "purpose", "savings_status"]:
        df.loc[rng.random(len(df)) < 0.1, column] = np.nan
    x, y = df.drop(columns="class"), df["class"]
    folder = Path(tempfile.mkdtemp())
    clf = ak.StructuredDataClassifier(directory=folder, max_trials=1, epochs=2, verbose=0, seed=0, retrieval=False)
    clf.fit(x.iloc[:700], y.iloc[:700])
    session = ort.InferenceSession(str(clf.export_onnx(folder / "model.onnx")), providers=["CPUExecutionProvider"])
    held_out = x.iloc[700:]
    rows = [held_out.iloc[[i]] for i in range(args.single_rows)]
    feeds = onnx_feeds(clf.predictor_, held_out)  # the graph's inputs, prepared once

    def onnx_batch():
        return session.run(["probabilities"], onnx_feeds(clf.predictor_, held_out))[0]

    result = {
        "backend": keras.backend.backend(), "rows": len(held_out), "repeats": args.repeats,
        "max_abs_diff_vs_predict_proba": float(np.abs(onnx_batch() - clf.predict_proba(held_out)).max()),
        "batch_us_per_row": {
            "autodeep_predict": 1e6 * _best(lambda: clf.predict(held_out), args.repeats) / len(held_out),
            "onnx_with_feeds": 1e6 * _best(onnx_batch, args.repeats) / len(held_out),
            "onnx_run_only": 1e6 * _best(lambda: session.run(None, feeds), args.repeats) / len(held_out),
        },
        "single_row_us": {
            "autodeep_predict": 1e6 * _best(lambda: [clf.predict(r) for r in rows], args.repeats) / len(rows),
            "onnx_with_feeds": 1e6 * _best(lambda: [session.run(None, onnx_feeds(clf.predictor_, r)) for r in rows],
                                           args.repeats) / len(rows),
        },
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
