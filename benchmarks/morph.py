"""Network morphism against greedy at an equal, small budget: the same trials and epochs on the same split.

    python benchmarks/morph.py --datasets phoneme --max-trials 9 --epochs 3 --seeds 0 1

For each dataset (a binary table of the shared data) and seed, ``tuner="morph"`` and ``tuner="greedy"`` each fit
a ``StructuredDataClassifier`` on the stratified 80/20 split of that seed, one after the other in this process
(the order alternates with the seed, so load drifts fall on both). Both start with the task's known-good
configurations; after them greedy mutates the best trial's hyperparameters and morph trains children of the
best trials that inherit their parent's weights. Reported per run: test accuracy and AUC, wall seconds,
architectures evaluated (trials), children, the epochs children trained and the epochs their inherited
weights carry (``epochs_inherited``: training a child from scratch would have repeated them).

Writes ``benchmarks/results/morph_<datasets>_<max_trials>.md`` and the raw rows to the CSV beside it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import _common as C


def run_one(tuner: str, split: tuple, seed: int, args) -> dict:
    """One fit of ``tuner`` on ``split`` (x_train, x_test, y_train, y_test): test scores, time, inheritance."""
    import autodeep as ak
    from sklearn.metrics import accuracy_score, roc_auc_score

    x_tr, x_te, y_tr, y_te = split
    clf = ak.StructuredDataClassifier(tuner=tuner, max_trials=args.max_trials, seed=seed, verbose=0,
                                      directory=tempfile.mkdtemp(prefix="morph_bench_"), overwrite=True)
    start = time.time()
    clf.fit(x_tr, y_tr, epochs=args.epochs)
    seconds = time.time() - start
    proba = np.asarray(clf.predict_proba(x_te))
    attrs = [t.user_attrs for t in _trials(clf)]
    children = [a for a in attrs if "parent" in a]
    return {"dataset": args.dataset, "tuner": tuner, "seed": seed,
            "accuracy": accuracy_score(y_te.astype(str), np.asarray(clf.predict(x_te)).ravel().astype(str)),
            "auc": roc_auc_score(y_te, proba[:, -1] if proba.ndim == 2 else proba.ravel()),
            "seconds": seconds, "trials": len(attrs), "children": len(children),
            "child_epochs": sum(int(a.get("epochs_run", 0)) for a in children),
            "epochs_inherited": sum(int(a.get("inherited_epochs", 0)) for a in children)}


def _trials(clf) -> list:
    """The finished trials of ``clf``'s study."""
    import optuna

    url = clf.project_.study_url
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["phoneme"], help="binary tables of MANIFEST.tsv")
    parser.add_argument("--max-trials", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    C.add_io_arguments(parser, "morph_{datasets}_{max_trials}")
    args = parser.parse_args()
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root)
    rows = []
    for dataset in args.datasets:
        x, y = C.load_table(root, manifest.loc[dataset])
        args.dataset = dataset
        for k, seed in enumerate(args.seeds):
            split = C.split(x, y, seed)
            order = ("morph", "greedy") if k % 2 == 0 else ("greedy", "morph")
            for tuner in order:
                rows.append(run_one(tuner, split, seed, args))
                print(rows[-1], flush=True)
    load = os.getloadavg()
    columns = ["dataset", "tuner", "seed", "accuracy", "auc", "seconds", "trials", "children", "child_epochs",
               "epochs_inherited"]
    markdown = (C.header("Network morphism against greedy (equal trials and epochs)", ("autodeep", "keras"))
                + f"- load average at the end (1, 5, 15 min): {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}\n\n"
                + C.md_table(rows, columns))
    print(markdown)
    C.write_report(C.result_path(args), markdown, rows)


if __name__ == "__main__":
    main()
