"""Memory benchmark: does the resident memory stay flat over a long search?

    python benchmarks/memory.py --trials 50 --epochs 2

Runs one search of ``--trials`` small trials (a tiny MLP over the credit-g table bundled with the
package; the optimizer, learning rate and dropout vary, the architecture does not, so every trial
costs the same) in this process and records the RSS (from /proc, current, not peak) at the start of
every trial, i.e. after the previous trial's model was saved and freed. Reports RSS at trial 5 and at
the last trial and the growth between them (target: under 10 %), writes the table to
benchmarks/results/memory.md and the raw rows to memory.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import _common as C


def current_rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--out", default="benchmarks/results/memory.md")
    args = parser.parse_args(argv)

    import autodeep as ak  # before keras: it picks the backend

    import keras

    rows = []

    class Probe(keras.callbacks.Callback):
        """RSS when each trial starts training (the refit at the end is recorded apart)."""

        def on_train_begin(self, logs=None):
            rows.append({"fit": len(rows) + 1, "rss_mb": round(current_rss_mb(), 1), "t_s": round(time.time() - t0, 1)})

    class Fixed(ak.AutoModel):
        def _initial_configs(self, graph):
            return [{}]

    df = ak.datasets.load_credit_g().sample(args.rows, random_state=0)
    x, y = df.drop(columns="class"), df["class"]
    inp = ak.StructuredDataInput()
    features = ak.StructuredDataBlock(block_type="mlp", num_layers=1, num_units=32, numerical_encoding="none")(inp)
    model = Fixed(inputs=inp, outputs=ak.ClassificationHead()(features), max_trials=args.trials,
                  directory=tempfile.mkdtemp(), seed=0, verbose=0, ensemble_size=1, refit=False,
                  max_consecutive_failures=0)
    t0 = time.time()
    model.fit(x, y, epochs=args.epochs, callbacks=[Probe()])
    wall = time.time() - t0
    trials = rows[: args.trials]
    first, last = trials[min(4, len(trials) - 1)], trials[-1]
    growth = (last["rss_mb"] - first["rss_mb"]) / first["rss_mb"] * 100
    verdict = "PASS" if growth < 10 else "FAIL"
    summary = (f"\nRSS at trial {first['fit']}: {first['rss_mb']:.1f} MB; at trial {last['fit']}: "
               f"{last['rss_mb']:.1f} MB; growth {growth:+.1f} % (target < 10 %): {verdict}. "
               f"{len(trials)} trials in {wall:.0f} s, peak RSS {C.peak_rss_mb():.0f} MB.\n")
    markdown = (C.header("Memory over a long search", ("autodeep", "keras", "jax", "optuna")) + summary + "\n"
                + C.md_table(trials, ["fit", "rss_mb", "t_s"]))
    out, csv_path = C.write_report(args.out, markdown, trials)
    print(summary.strip())
    print(f"written to {out} and {csv_path}")
    return 0 if growth < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
