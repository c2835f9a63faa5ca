"""Text benchmark: autodeep's TextClassifier and a sentence-pair AutoModel on the shared text datasets.

    python benchmarks/text.py --time-limit 300 --datasets sms_spam ag_news imdb stsb

Per dataset: SMS spam, AG News (test split; title + " " + description) and IMDB labelled sentences use
a stratified 80/20 split (random_state=seed) and a TextClassifier, scored by test accuracy; STS-B trains
an ``AutoModel(inputs=[TextInput(), TextInput()], outputs=RegressionHead())`` on the train file and is
scored by the Pearson r on the validation file. Wall seconds cover fit + predict; nothing is pretrained.
Targets: SMS spam accuracy >= 0.98, AG News >= 0.88, STS-B r >= 0.45. The markdown goes to --out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import numpy as np
import pandas as pd

import _common as C

DATASETS = {  # name: (manifest entry, target)
    "sms_spam": ("sms_spam_collection", 0.98),
    "ag_news": ("ag_news_test", 0.88),
    "imdb": ("imdb_labelled_sentences", None),
    "stsb": ("stsb_train", 0.45),
}
COLUMNS = ["dataset", "rows", "metric", "score", "target", "met", "trials", "best", "wall_s", "peak_rss_mb", "error"]


def load(root, manifest, name):
    """``(x, y)`` texts and labels of a classification dataset."""
    frame = pd.read_csv(root / manifest.loc[DATASETS[name][0], "file"])
    if name == "ag_news":
        return (frame["title"].fillna("") + " " + frame["description"].fillna("")).tolist(), frame["label"].to_numpy()
    return frame["text"].fillna("").astype(str).tolist(), frame["label"].to_numpy()


def run_classification(root, manifest, name, args):
    import autodeep as ak

    x, y = load(root, manifest, name)
    x_train, x_test, y_train, y_test = C.split(pd.Series(x), pd.Series(y), args.seed)
    with tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
        clf = ak.TextClassifier(time_limit=args.time_limit, max_trials=1000, seed=args.seed, directory=tmp,
                                project_name=name, overwrite=True, verbose=args.verbose)
        clf.fit(x_train.tolist(), y_train.to_numpy())
        accuracy = float(np.mean(np.asarray(clf.predict(x_test.tolist())) == y_test.to_numpy()))
        return len(x), "accuracy", accuracy, clf


def run_stsb(root, manifest, name, args):
    import autodeep as ak

    train = pd.read_csv(root / manifest.loc["stsb_train", "file"])
    valid = pd.read_csv(root / manifest.loc["stsb_validation", "file"])
    pair = lambda f: [f["sentence1"].fillna("").astype(str).tolist(), f["sentence2"].fillna("").astype(str).tolist()]
    with tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
        model = ak.AutoModel(inputs=[ak.TextInput(), ak.TextInput()], outputs=ak.RegressionHead(),
                             time_limit=args.time_limit, max_trials=1000, seed=args.seed, directory=tmp,
                             project_name=name, overwrite=True, verbose=args.verbose)
        model.fit(pair(train), train["score"].to_numpy(dtype="float32"))
        predicted = np.asarray(model.predict(pair(valid))).ravel()
        r = float(np.corrcoef(predicted, valid["score"].to_numpy(dtype="float64"))[0, 1])
        return len(train), "pearson_r", r, model


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=300, help="autodeep time limit per dataset (default 300 s)")
    p.add_argument("--verbose", type=int, default=1)
    C.add_io_arguments(p, "text_{time_limit}")
    args = p.parse_args(argv)
    args.out = C.result_path(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root, "text")
    import autodeep  # noqa: F401  (import time is not part of the first dataset's wall time)

    rows = []
    print(C.md_table([], COLUMNS), end="", flush=True)
    try:
        for name in args.datasets:
            target = DATASETS[name][1]
            row = dict.fromkeys(COLUMNS) | {"dataset": name, "target": target}
            try:
                with C.Timer() as t:
                    runner = run_stsb if name == "stsb" else run_classification
                    n, metric, value, model = runner(root, manifest, name, args)
                trials = model.tuner_results
                best = model.study_.best_trial.params
                row |= {"rows": n, "metric": metric, "score": value, "wall_s": t.seconds,
                        "met": None if target is None else bool(value >= target),
                        "trials": int((trials["state"] == "COMPLETE").sum()),
                        "best": best.get("text_block_1/block_type", "?")}
            except Exception as e:  # one failure is a row, not the end of the run
                row["error"] = f"{type(e).__name__}: {e}"[:300]
            row["peak_rss_mb"] = C.peak_rss_mb()
            rows.append(row)
            print(C.md_row(row.values()), flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished rows", file=sys.stderr)

    report = (C.header("Text benchmark: autodeep TextClassifier / sentence-pair AutoModel", ("keras", "jax"))
              + f"- time limit per dataset: {args.time_limit:g} s; seed {args.seed}; no pretrained weights\n"
              + "\n## Runs\n\n" + C.md_table(rows, COLUMNS))
    md, csv = C.write_report(args.out, report, rows)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
