"""Backend benchmark: the same fixed search (no time limit) on JAX and on PyTorch, side by side.

    python benchmarks/backends.py --datasets credit-g phoneme --trials 3

Each backend runs in its own subprocess (Keras fixes its backend at import), one after the other, on the
same split and seed. Reported: wall seconds of fit + predict, seconds per trial, test AUC, peak RSS.
This is how the default backend was chosen; rerun it on your machine, since the winner depends on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

import _common as C

CHILD = textwrap.dedent("""
    import json, resource, sys, tempfile, time
    sys.path.insert(0, {repo!r})
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    import autodeep as ak, keras
    x = pd.read_csv({path!r}); y = x.pop({target!r})
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    started = time.time()
    clf = ak.StructuredDataClassifier(max_trials={trials}, seed=0, verbose=0, overwrite=True,
                                      directory=tempfile.mkdtemp())
    clf.fit(xtr, ytr)
    proba = clf.predict_proba(xte)[:, 1]
    wall = time.time() - started
    trial_s = [t.user_attrs.get("seconds", 0) for t in clf.study_.trials]
    print(json.dumps({{"backend": keras.backend.backend(), "wall_s": wall,
                      "s_per_trial": sum(trial_s) / len(trial_s),
                      "auc": roc_auc_score(yte == sorted(y.unique())[1], proba),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
""")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["credit-g", "phoneme"])
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    parser.add_argument("--trials", type=int, default=3)
    C.add_io_arguments(parser, "backends")
    args = parser.parse_args()
    args.out = C.result_path(args)
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root)
    rows = []
    for name in args.datasets:
        entry = manifest.loc[name]
        for backend in args.backends:
            code = CHILD.format(repo=str(C.REPO), path=str(root / entry["file"]), target=entry["target"],
                                trials=args.trials)
            env = {**os.environ, "KERAS_BACKEND": backend}
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                row = {"dataset": name, "backend": backend, "error": done.stderr.strip().splitlines()[-1]}
            else:
                row = {"dataset": name, **json.loads(done.stdout.strip().splitlines()[-1]), "error": ""}
            rows.append(row)
            print(C.md_row([row.get(c, "") for c in COLUMNS]), flush=True)
    markdown = C.header("Backend benchmark: JAX vs PyTorch", ("keras", "jax", "torch")) + \
        f"\n- fixed search: {args.trials} trials, early stopping, no time limit, seed 0\n\n" + \
        C.md_table(rows, COLUMNS)
    md, csv = C.write_report(args.out, markdown, rows)
    print(f"\nwrote {md} and {csv}")
    return 0


COLUMNS = ["dataset", "backend", "wall_s", "s_per_trial", "auc", "peak_rss_mb", "error"]

if __name__ == "__main__":
    sys.exit(main())
