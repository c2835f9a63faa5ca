"""Prediction latency per row: the exported ONNX graph in onnxruntime vs autodeep's ``predict``.

Fits a small classifier on credit-g (bundled; 10% of five columns' cells missing; ``retrieval=False``),
exports it with ``export_onnx`` and times, on the 300 held-out rows, one call on all rows (batch) and one
call per row (single), best of ``--repeats``. ONNX is timed with its inputs built from the raw frame
(``onnx_feeds``, what a caller pays) and, for the batch, on inputs built once (``session.run`` alone). Also
reports the largest gap between the ONNX probabilities and ``predict_proba``. Writes
``benchmarks/results/onnx_latency_<backend>.md`` (the backend from ``KERAS_BACKEND``).

    KERAS_BACKEND=torch python benchmarks/onnx_latency.py --repeats 5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import _common as C  # also puts this checkout first on sys.path

COLUMNS = ["backend", "mode", "rows_timed", "predict_us_per_row", "onnx_us_per_row", "onnx_run_only_us_per_row",
           "predict_over_onnx", "max_abs_diff"]


def _best(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def fitted_model(folder: Path):
    """``(clf, held_out_x)``: a one-trial classifier on the first 700 rows of credit-g with missing cells."""
    import autodeep as ak

    df = ak.datasets.load_credit_g()
    rng = np.random.default_rng(0)
    for column in ["duration", "credit_amount", "age", "purpose", "savings_status"]:
        df.loc[rng.random(len(df)) < 0.1, column] = np.nan
    x, y = df.drop(columns="class"), df["class"]
    clf = ak.StructuredDataClassifier(directory=folder, max_trials=1, epochs=2, verbose=0, seed=0, retrieval=False)
    clf.fit(x.iloc[:700], y.iloc[:700])
    return clf, x.iloc[700:]


def measure(clf, held_out, session, repeats: int, single_rows: int) -> list[dict]:
    """One row per mode (``batch``: all rows in one call; ``single``: one call per row), in microseconds per row."""
    from autodeep.deploy import onnx_feeds

    def onnx_batch():
        return session.run(["probabilities"], onnx_feeds(clf.predictor_, held_out))[0]

    feeds = onnx_feeds(clf.predictor_, held_out)  # the graph's inputs, built once
    rows = [held_out.iloc[[i]] for i in range(single_rows)]
    gap = float(np.abs(onnx_batch() - clf.predict_proba(held_out)).max())
    batch = {"mode": "batch", "rows_timed": len(held_out),
             "predict_us_per_row": 1e6 * _best(lambda: clf.predict(held_out), repeats) / len(held_out),
             "onnx_us_per_row": 1e6 * _best(onnx_batch, repeats) / len(held_out),
             "onnx_run_only_us_per_row": 1e6 * _best(lambda: session.run(None, feeds), repeats) / len(held_out)}
    single = {"mode": "single", "rows_timed": len(rows),
              "predict_us_per_row": 1e6 * _best(lambda: [clf.predict(r) for r in rows], repeats) / len(rows),
              "onnx_us_per_row": 1e6 * _best(lambda: [session.run(None, onnx_feeds(clf.predictor_, r))
                                                      for r in rows], repeats) / len(rows)}
    for row in (batch, single):
        row.update(predict_over_onnx=row["predict_us_per_row"] / row["onnx_us_per_row"], max_abs_diff=f"{gap:.1e}")
    return [batch, single]


def summarize(rows: list[dict], load: tuple) -> str:
    return (C.header("ONNX prediction latency against autodeep's predict", ("keras", "torch", "onnx", "onnxruntime"))
            + f"- load average (1, 5, 15 min) at the start: {', '.join(f'{v:.2f}' for v in load)}\n\n"
            + C.md_table(rows, COLUMNS)
            + "\nMicroseconds per row, best of the repeats. onnx: `onnx_feeds` from the raw frame plus "
              "`session.run`; onnx_run_only: `session.run` on inputs built once. max_abs_diff: the largest gap "
              "between the ONNX probabilities and `predict_proba` on the held-out rows.\n")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single-rows", type=int, default=50, help="rows timed one call each")
    C.add_io_arguments(parser, "onnx_latency_{backend}")
    args = parser.parse_args(argv)
    import keras
    import onnxruntime as ort

    load = os.getloadavg()
    args.backend = keras.backend.backend()
    folder = Path(tempfile.mkdtemp())
    clf, held_out = fitted_model(folder)
    session = ort.InferenceSession(str(clf.export_onnx(folder / "model.onnx")), providers=["CPUExecutionProvider"])
    rows = [{"backend": args.backend, **row}
            for row in measure(clf, held_out, session, args.repeats, args.single_rows)]
    out = C.result_path(args)
    C.write_report(out, summarize(rows, load), rows)
    print(C.md_table(rows, COLUMNS) + f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
