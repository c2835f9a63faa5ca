"""Which trials should the exported ensemble hold? Replays ensemble-selection rules on one real search.

    python benchmarks/selection_study.py --datasets kc1 --seeds 0 1 2 --time-limit 300 \
        --out benchmarks/results/selection_kc1_300.md

For each dataset and seed: the benchmark's 80/20 split (``benchmarks/tabular.py``'s), one default
``StructuredDataClassifier`` fit under ``--time-limit`` (its exported model's test AUC is the row
``exported``). Then every candidate the exporter considers (the 20 best completed trials) is rebuilt from its
saved weights, so each has validation predictions (saved by the search) and test predictions. Each rule
picks an ensemble from the validation predictions alone; its test AUC is reported as the trials' own models
(``test_auc``) and with the fit's neighbour blend applied to it (``test_auc_blend``, the ``tau`` and
``prior`` the fit chose; equal to ``test_auc`` when the fit kept no blend). The trial models were trained
on the search's training rows only, so these are lower than the exported model, which is bagged or refit:
compare rules with each other, not with ``exported``.

Rules:
  best_loss        the search's best trial (validation loss, the default objective)
  best_auc         the trial with the highest validation AUC
  caruana_loss     greedy selection with replacement, 5 picks, by validation log loss (what autodeep does)
  caruana_rank     the same by 1 - validation AUC
  caruana_loss_20  by log loss, 20 picks
  caruana_rank_20  by 1 - AUC, 20 picks
  top5_mean        the 5 best trials by validation loss, equal weights
  all_mean         every candidate, equal weights
  oracle_single    the trial with the highest test AUC (a ceiling, not a rule)
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import _common as C

RULES = ("best_loss", "best_auc", "caruana_loss", "caruana_rank", "caruana_loss_20", "caruana_rank_20",
         "top5_mean", "all_mean", "oracle_single")
COLUMNS = ["dataset", "seed", "rule", "members", "val_auc", "test_auc", "test_auc_blend", "commit"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", required=True, help="binary datasets of MANIFEST.tsv")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--time-limit", type=float, default=60)
    C.add_io_arguments(p, "benchmarks/results/selection_study.md")
    return p.parse_args(argv)


def auc(y, p) -> float:
    return float(roc_auc_score(y, np.asarray(p).reshape(len(y), -1)[:, -1]))


def input_specs(clf) -> dict:
    """The fitted inputs' specs, as the fit passed them to ``graph.build``."""
    return {node.name: pre.specs() for node, pre in zip(clf._graph.inputs, clf._predictor.preprocessors)}


def candidates(clf, x_train, y_train, x_test):
    """The exporter's candidates: ``[(trial, val_prediction, test_prediction)]`` and the validation rows' targets.

    The validation rows are found as the fit found them (same split function, seed and stratification); a
    rebuilt model must reproduce the saved validation predictions, which checks both."""
    import optuna

    from autodeep.data.split import train_validation_split
    from autodeep.graph import HyperParameters
    from autodeep.train import quiet_optimizer_state
    from autodeep.train.batches import predict_model

    graph, project, predictor, study = clf._graph, clf._project, clf._predictor, clf.study_
    specs = input_specs(clf)
    codec = predictor.codecs[0]
    y_all = np.asarray(predictor.targets(y_train)).reshape(len(x_train), -1)[:, -1]
    _, val_idx = train_validation_split(len(x_train), y=codec.encode(y_train), validation_split=0.2,
                                        seed=clf.seed or 0)
    x_val = predictor.transform(x_train.iloc[val_idx])
    x_te = predictor.transform(x_test)
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    done = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
                  key=lambda t: t.value, reverse=reverse)[:20]
    out = []
    for trial in done:
        path = project.trial_dir(trial.number) / "model.weights.h5"
        saved = project.load_val_predictions(trial.number)
        if not path.exists() or len(saved) != 1:
            continue
        model = graph.build(HyperParameters(values={**trial.params, **clf.hyperparameters}), specs)
        with quiet_optimizer_state():
            model.load_weights(path)
        check = np.asarray(predict_model(model, x_val, batch_size=1024), dtype="float64")
        if not np.allclose(check, saved[0], atol=1e-4):
            sys.exit(f"error: trial {trial.number}'s rebuilt model does not reproduce its validation predictions")
        test = np.asarray(predict_model(model, x_te, batch_size=1024), dtype="float64")
        out.append((trial, np.asarray(saved[0], dtype="float64"), test))
    return out, y_all[val_idx]


def pick(rule, cands, y_val, y_test) -> dict[int, float]:
    """Weights over candidate positions chosen by ``rule`` from validation predictions (test for the oracle)."""
    from autodeep.ensemble.retrieval import rank_loss
    from autodeep.ensemble.selection import greedy_selection, validation_loss

    vals = [[v] for _, v, _ in cands]
    log_loss = validation_loss("binary")
    if rule == "best_loss":
        return {0: 1.0}
    if rule == "best_auc":
        return {int(np.argmax([auc(y_val, v) for _, v, _ in cands])): 1.0}
    if rule == "oracle_single":
        return {int(np.argmax([auc(y_test, t) for _, _, t in cands])): 1.0}
    if rule == "top5_mean":
        return {i: 0.2 for i in range(min(5, len(cands)))}
    if rule == "all_mean":
        return {i: 1 / len(cands) for i in range(len(cands))}
    criterion, y = (rank_loss if rule.startswith("caruana_rank") else log_loss), y_val.reshape(-1, 1)
    return greedy_selection(vals, lambda o: criterion(y, o[0]), max_size=20 if rule.endswith("_20") else 5)


def blend_on_test(clf, x_train, y_train, x_test):
    """A function that pulls a test-row prediction to the training rows' targets as the fit's blend does
    (the identity when the fit kept no blend). The test-to-training distances are computed once here."""
    from autodeep.ensemble.retrieval import blend, row_distances
    from autodeep.tasks import neighbours

    info = clf._predictor.manifest["info"]["final"].get("retrieval") or [{}]
    if not info[0].get("used"):
        return lambda prediction: prediction
    predictor = clf._predictor
    keys = [k for k, _ in neighbours.retrieval_keys(clf._graph, input_specs(clf))]
    ref, query = predictor.transform(x_train), predictor.transform(x_test)
    y_ref = np.asarray(predictor.targets(y_train), dtype="float64").reshape(len(x_train), -1)
    d = row_distances([query[k] for k in keys], [ref[k] for k in keys])
    return lambda prediction: blend(d, y_ref, prediction, tau=info[0]["tau"], prior=info[0]["prior"])


def study_one(name, seed, data, time_limit, commit) -> list[dict]:
    import autodeep as ak

    x_train, x_test, y_train, y_test = data
    with tempfile.TemporaryDirectory(prefix="autodeep_selection_") as tmp:
        clf = ak.StructuredDataClassifier(time_limit=time_limit, max_trials=1000, seed=seed, directory=tmp,
                                          overwrite=True, verbose=0)
        clf.fit(x_train, y_train)
        proba = clf.predict_proba(x_test)
        y_test01 = (np.asarray(y_test) == np.asarray(clf.classes_)[1]).astype(int)
        rows = [{"dataset": name, "seed": seed, "rule": "exported", "members": "",
                 "test_auc": auc(y_test01, proba[:, 1]), "commit": commit}]
        cands, y_val = candidates(clf, x_train, y_train, x_test)
        blended = blend_on_test(clf, x_train, y_train, x_test)
        for rule in RULES:
            weights = pick(rule, cands, y_val, y_test01)
            total = sum(weights.values())
            val = sum(w * cands[i][1] for i, w in weights.items()) / total
            test = sum(w * cands[i][2] for i, w in weights.items()) / total
            rows.append({"dataset": name, "seed": seed, "rule": rule,
                         "members": " ".join(f"{cands[i][0].number}:{w:.2f}" for i, w in sorted(weights.items())),
                         "val_auc": auc(y_val, val), "test_auc": auc(y_test01, test),
                         "test_auc_blend": auc(y_test01, blended(test)), "commit": commit})
    return rows


def summarize(rows) -> str:
    df = pd.DataFrame(rows)
    df = df[df["rule"] != "exported"]
    table = df.groupby("rule", sort=False)[["val_auc", "test_auc", "test_auc_blend"]].mean()
    lines = ["| rule | mean val AUC | mean test AUC | mean test AUC with the blend |", "|---|---|---|---|"]
    lines += [f"| {r} | {v.val_auc:.4f} | {v.test_auc:.4f} | {v.test_auc_blend:.4f} |" for r, v in table.iterrows()]
    return "\n".join(lines) + f"\n\n{df[['dataset', 'seed']].drop_duplicates().shape[0]} dataset-seeds\n"


def main(argv=None) -> None:
    args = parse_args(argv)
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root, "binary")
    unknown = sorted(set(args.datasets) - set(manifest.index))
    if unknown:
        sys.exit(f"error: --datasets: not binary datasets in the manifest: {unknown}; "
                 f"choose from {list(manifest.index)}")
    commit, rows = C.git_commit(), []
    try:
        for name in args.datasets:
            for seed in args.seeds:
                x, y = C.load_table(root, manifest.loc[name], None, seed)
                rows += study_one(name, seed, C.split(x, y, seed), args.time_limit, commit)
                print(C.md_table([r for r in rows if r["seed"] == seed and r["dataset"] == name], COLUMNS),
                      flush=True)
                C.write_rows(C.Path(args.out).with_suffix(".csv"), rows)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished rows", file=sys.stderr)
    report = (C.header("Ensemble selection rules replayed on autodeep's searches", ("keras", "optuna"))
              + f"- time limit: {args.time_limit:g} s\n\n## Rows\n\n" + C.md_table(rows, COLUMNS)
              + "\n## Mean over dataset-seeds\n\n" + summarize(rows))
    md, csv = C.write_report(args.out, report, rows)
    print(summarize(rows) + f"\nwrote {md} and {csv}")


if __name__ == "__main__":
    main()
