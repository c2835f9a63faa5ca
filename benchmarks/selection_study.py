"""Which trials should the exported ensemble hold? Replays ensemble-selection rules on one real search.

    python benchmarks/selection_study.py --datasets kc1 --seeds 0 1 2 --time-limit 300 \
        --keep /tmp/selection_kc1_300             # -> benchmarks/results/selection_300.md
    python benchmarks/selection_study.py --replay /tmp/selection_kc1_300 --out /tmp/replay.md

``--keep DIR`` saves each fit's candidates (validation and test predictions, the latter also with the
fit's blend applied; the blend is linear in the prediction, so blending the members and then averaging
equals averaging and then blending) as ``DIR/<dataset>_<seed>.npz``; ``--replay DIR`` scores the rules on
those files without fitting anything, so a new rule costs seconds, not a search.

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
  caruana_bagged   greedy by log loss, 5 picks, on each of 20 random halves of the candidates; the 20
                   weightings averaged (bagged ensemble selection, Caruana et al. 2006)
  caruana_boot     greedy by log loss, 5 picks, on each of 20 bootstrap resamples of the validation rows; the
                   20 weightings averaged (what autodeep's ``bootstrap_selection`` does)
  caruana_boot10   the same with 10 picks
  caruana_init5    greedy by log loss, 20 picks, starting from the 5 best trials (sorted initialisation)
  top5_mean        the 5 best trials by validation loss, equal weights
  top10_mean       the 10 best, equal weights
  tophalf_mean     the better half of the candidates (rounded up), equal weights
  all_mean         every candidate, equal weights
  oracle_single    the trial with the highest test AUC (a ceiling, not a rule)

Where the fit tried a neighbour blend, rows ``<member rule>|<blend rule>`` also replay the blend's choice on
the members' averaged validation predictions: ``none``; ``choose`` (autodeep's ``choose_blend``, with the
fit's seed); ``choose_wide`` (its taus plus 0.1); ``choose_coarse`` (its taus without the smallest);
``choose_scaled`` (its choice, with the prior scaled by the reference rows at test over those at
validation); ``tau0.003``/``tau0.01``/``tau0.03`` (fixed, prior 1: reference points, not rules).
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
         "caruana_bagged", "caruana_boot", "caruana_boot10", "caruana_init5", "top5_mean", "top10_mean",
         "tophalf_mean", "all_mean", "oracle_single")
COLUMNS = ["dataset", "seed", "rule", "members", "val_auc", "test_auc", "test_auc_blend", "commit"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="binary datasets of MANIFEST.tsv (required unless --replay)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--time-limit", type=float, default=60)
    p.add_argument("--keep", help="folder to save each fit's candidate predictions in (for --replay)")
    p.add_argument("--replay", help="score the rules on the .npz files of this folder instead of fitting")
    C.add_io_arguments(p, "selection_{time_limit}")
    args = p.parse_args(argv)
    args.out = C.result_path(args)
    return args


def auc(y, p) -> float:
    return float(roc_auc_score(y, np.asarray(p).reshape(len(y), -1)[:, -1]))


def input_specs(clf) -> dict:
    """The fitted inputs' specs, as the fit passed them to ``graph.build``."""
    return {node.name: pre.specs() for node, pre in zip(clf.graph_.inputs, clf.predictor_.preprocessors)}


def candidates(clf, x_train, y_train, x_test):
    """The exporter's candidates: ``[(trial, val_prediction, test_prediction)]`` and the validation rows' targets.

    The validation rows are found as the fit found them (same split function, seed and stratification); a
    rebuilt model must reproduce the saved validation predictions, which checks both."""
    import optuna

    from autodeep.data.split import train_validation_split
    from autodeep.graph import HyperParameters
    from autodeep.train import quiet_optimizer_state
    from autodeep.train.batches import predict_model

    graph, project, predictor, study = clf.graph_, clf.project_, clf.predictor_, clf.study_
    specs = input_specs(clf)
    codec = predictor.codecs[0]
    y_all = np.asarray(predictor.targets(y_train)).reshape(len(x_train), -1)[:, -1]
    _, val_idx = train_validation_split(len(x_train), y=codec.encode(y_train), validation_split=0.2,
                                        seed=clf.settings_.seed or 0)
    x_val = predictor.transform(x_train.iloc[val_idx])
    x_te = predictor.transform(x_test)
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    done = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
                  key=lambda t: t.value, reverse=reverse)[:20]
    out = []
    for trial in done:
        path = project.weights_file(trial.number)
        saved = project.load_val_predictions(trial.number)
        if not path.exists() or len(saved) != 1:
            continue
        model = graph.build(HyperParameters(values={**trial.params, **clf.settings_.hyperparameters}), specs)
        with quiet_optimizer_state():
            model.load_weights(path)
        check = np.asarray(predict_model(model, x_val, batch_size=1024), dtype="float64")
        if not np.allclose(check, saved[0], atol=1e-4):
            sys.exit(f"error: trial {trial.number}'s rebuilt model does not reproduce its validation predictions")
        test = np.asarray(predict_model(model, x_te, batch_size=1024), dtype="float64")
        out.append((trial, np.asarray(saved[0], dtype="float64"), test))
    return out, y_all[val_idx], val_idx


def greedy_from(vals, y, loss, start: dict[int, int], picks: int) -> dict[int, float]:
    """Greedy selection with replacement that begins with ``start`` (candidate position -> picks) and adds
    the candidate that lowers ``loss`` most until ``picks`` picks; the weights where the loss was lowest."""
    counts, total = dict(start), sum(start.values())
    mean = sum(c * vals[i] for i, c in counts.items()) / max(total, 1)
    best, best_counts = (loss(y, mean) if counts else np.inf), dict(counts)
    while total < picks:
        losses = [loss(y, (mean * total + v) / (total + 1)) for v in vals]
        i = int(np.argmin(losses))
        mean, total = (mean * total + vals[i]) / (total + 1), total + 1
        counts[i] = counts.get(i, 0) + 1
        if losses[i] < best - 1e-12:
            best, best_counts = losses[i], dict(counts)
    n = sum(best_counts.values())
    return {i: c / n for i, c in best_counts.items()}


def pick(rule, val_preds, test_preds, y_val, y_test, seed: int = 0) -> dict[int, float]:
    """Weights over candidate positions (best validation loss first) chosen by ``rule`` from validation
    predictions (test predictions only for the oracle)."""
    from autodeep.ensemble.retrieval import rank_loss
    from autodeep.ensemble.selection import bootstrap_selection, greedy_selection, validation_loss

    n = len(val_preds)
    vals = [[v] for v in val_preds]
    log_loss = validation_loss("binary")
    y = y_val.reshape(-1, 1)
    if rule == "best_loss":
        return {0: 1.0}
    if rule == "best_auc":
        return {int(np.argmax([auc(y_val, v) for v in val_preds])): 1.0}
    if rule == "oracle_single":
        return {int(np.argmax([auc(y_test, t) for t in test_preds])): 1.0}
    equal = {"top5_mean": min(5, n), "top10_mean": min(10, n), "tophalf_mean": (n + 1) // 2, "all_mean": n}
    if rule in equal:
        return {i: 1 / equal[rule] for i in range(equal[rule])}
    if rule == "caruana_init5":
        return greedy_from([np.reshape(v, (-1, 1)) for v in val_preds], y, log_loss,
                           {i: 1 for i in range(min(5, n))}, 20)
    if rule == "caruana_bagged":
        rng, weights = np.random.default_rng(seed), np.zeros(n)
        for _ in range(20):
            subset = np.sort(rng.choice(n, size=max(1, (n + 1) // 2), replace=False))
            chosen = greedy_selection([vals[i] for i in subset], lambda o: log_loss(y, o[0]), max_size=5)
            for j, w in chosen.items():
                weights[subset[j]] += w / 20
        return {i: float(w) for i, w in enumerate(weights) if w > 0}
    if rule in ("caruana_boot", "caruana_boot10"):
        return bootstrap_selection(vals, [y], [log_loss], max_size=10 if rule.endswith("10") else 5, seed=seed)
    criterion = rank_loss if rule.startswith("caruana_rank") else log_loss
    return greedy_selection(vals, lambda o: criterion(y, o[0]), max_size=20 if rule.endswith("_20") else 5)


BLEND_MEMBERS = ("caruana_loss", "caruana_boot", "top10_mean", "all_mean")
BLEND_RULES = ("none", "choose", "choose_wide", "choose_coarse", "choose_scaled", "tau0.003", "tau0.01", "tau0.03")


def choose_and_blend(kept: dict, blend_rule: str, val, test, seed: int = 0):
    """``test`` with the neighbour blend ``blend_rule`` picks from ``val``: ``choose`` is autodeep's choice
    (``retrieval.choose_blend``); ``choose_wide`` the same over taus up to 0.1; ``choose_scaled`` autodeep's
    choice with its prior scaled by the reference rows at test over those at validation (the neighbour mass
    grows with the rows); ``tauX`` a fixed tau with prior 1 (a reference point, not a rule)."""
    from autodeep.ensemble.retrieval import TAUS, blend, choose_blend, rank_loss

    if blend_rule == "none":
        return test
    if blend_rule.startswith("tau"):
        return blend(kept["d_test"], kept["y_ref"], test, float(blend_rule[3:]), 1.0)
    taus = {"choose_wide": TAUS + (0.1,), "choose_coarse": tuple(t for t in TAUS if t > 1e-3)}.get(blend_rule, TAUS)
    choice = choose_blend(kept["d_val"], kept["y_fit"], val, kept["y_val"].reshape(-1, 1), rank_loss, taus=taus,
                          seed=seed)  # the fit's seed: its random halvings decide whether a blend is kept
    if not choice["used"]:
        return test
    scale = len(kept["y_ref"]) / len(kept["y_fit"]) if blend_rule == "choose_scaled" else 1.0
    return blend(kept["d_test"], kept["y_ref"], test, choice["tau"], choice["prior"] * scale)


def score_blends(kept: dict, name: str, seed: int, commit: str) -> list[dict]:
    """Rows ``<member rule>|<blend rule>`` (``test_auc_blend``): each blend rule on a few member rules."""
    if "d_val" not in kept:
        return []
    rows = []
    for member_rule in BLEND_MEMBERS:
        weights = pick(member_rule, list(kept["val"]), list(kept["test"]), kept["y_val"], kept["y_test"], seed)
        total = sum(weights.values())
        val, test = (sum(w * kept[k][i] for i, w in weights.items()) / total for k in ("val", "test"))
        for blend_rule in BLEND_RULES:
            rows.append({"dataset": name, "seed": seed, "rule": f"{member_rule}|{blend_rule}", "members": "",
                         "val_auc": auc(kept["y_val"], val), "test_auc": auc(kept["y_test"], test),
                         "test_auc_blend": auc(kept["y_test"], choose_and_blend(kept, blend_rule, val, test, seed)),
                         "commit": commit})
    return rows


def score_rules(kept: dict, name: str, seed: int, commit: str) -> list[dict]:
    """One row per rule for one fit's candidates (``kept``: the arrays ``--keep`` saves)."""
    rows = [{"dataset": name, "seed": seed, "rule": "exported", "members": "",
             "test_auc": float(kept["exported_auc"]), "commit": commit}]
    y_val, y_test = kept["y_val"], kept["y_test"]
    for rule in RULES:
        weights = pick(rule, list(kept["val"]), list(kept["test"]), y_val, y_test, seed)
        total = sum(weights.values())
        mix = {k: sum(w * kept[k][i] for i, w in weights.items()) / total for k in ("val", "test", "test_blend")}
        rows.append({"dataset": name, "seed": seed, "rule": rule,
                     "members": " ".join(f"{kept['trials'][i]}:{w:.2f}" for i, w in sorted(weights.items())),
                     "val_auc": auc(y_val, mix["val"]), "test_auc": auc(y_test, mix["test"]),
                     "test_auc_blend": auc(y_test, mix["test_blend"]), "commit": commit})
    return rows + score_blends(kept, name, seed, commit)


def neighbour_arrays(clf, x_train, y_train, x_test, val_idx) -> dict:
    """What replaying the neighbour blend needs: validation-to-fit-rows distances (``d_val``, ``y_fit``:
    what the fit chose its blend on), test-to-training distances (``d_test``, ``y_ref``: what the exported
    blend uses) and the fit's choice (``tau``, ``prior``; NaN when it kept none). Empty when the fit did
    not try a blend (an input that is not a table, or more rows than ``neighbours.MAX_ROWS``)."""
    from autodeep.ensemble.retrieval import row_distances
    from autodeep.ensemble import neighbours

    keys = [k for k, _ in neighbours.retrieval_keys(clf.graph_, input_specs(clf))]
    if not keys or len(x_train) > neighbours.MAX_ROWS:
        return {}
    info = (clf.predictor_.manifest["info"]["final"].get("retrieval") or [{}])[0]
    predictor = clf.predictor_
    ref, query = predictor.transform(x_train), predictor.transform(x_test)
    y_ref = np.asarray(predictor.targets(y_train), dtype="float64").reshape(len(x_train), -1)
    fit_idx = np.setdiff1d(np.arange(len(x_train)), val_idx)
    return {"d_val": row_distances([ref[k][val_idx] for k in keys], [ref[k][fit_idx] for k in keys]),
            "y_fit": y_ref[fit_idx], "d_test": row_distances([query[k] for k in keys], [ref[k] for k in keys]),
            "y_ref": y_ref, "tau": info.get("tau") if info.get("used") else np.nan,
            "prior": info.get("prior") if info.get("used") else np.nan}


def study_one(name, seed, data, time_limit, commit, keep=None) -> list[dict]:
    import autodeep as ak

    x_train, x_test, y_train, y_test = data
    with tempfile.TemporaryDirectory(prefix="autodeep_selection_") as tmp:
        clf = ak.StructuredDataClassifier(time_limit=time_limit, max_trials=1000, seed=seed, directory=tmp,
                                          overwrite=True, verbose=0)
        clf.fit(x_train, y_train)
        proba = clf.predict_proba(x_test)
        y_test01 = (np.asarray(y_test) == np.asarray(clf.classes_)[1]).astype(int)
        cands, y_val, val_idx = candidates(clf, x_train, y_train, x_test)
        kept = {"trials": np.array([t.number for t, _, _ in cands]), "val": np.stack([v for _, v, _ in cands]),
                "test": np.stack([t for _, _, t in cands]), "y_val": np.asarray(y_val), "y_test": y_test01,
                "exported_auc": auc(y_test01, proba[:, 1]),
                **neighbour_arrays(clf, x_train, y_train, x_test, val_idx)}
        kept["test_blend"] = kept["test"]
        if np.isfinite(kept.get("tau", np.nan)):  # the fit's blend on each candidate (it is linear in them)
            from autodeep.ensemble.retrieval import blend

            kept["test_blend"] = np.stack([blend(kept["d_test"], kept["y_ref"], t, kept["tau"], kept["prior"])
                                           for t in kept["test"]])
    if keep:
        C.Path(keep).mkdir(parents=True, exist_ok=True)
        np.savez(C.Path(keep) / f"{name}_{seed}.npz", **kept)
    return score_rules(kept, name, seed, commit)


def replay(folder) -> list[dict]:
    """The rules' rows for every ``<dataset>_<seed>.npz`` that ``--keep`` saved in ``folder``."""
    files = sorted(C.Path(folder).glob("*_*.npz"))
    if not files:
        sys.exit(f"error: --replay: no <dataset>_<seed>.npz files in {folder}")
    rows = []
    for f in files:
        name, seed = f.stem.rsplit("_", 1)
        with np.load(f) as kept:
            rows += score_rules(dict(kept), name, int(seed), "replay")
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
    if args.replay:
        rows = replay(args.replay)
        report = (C.header("Ensemble selection rules replayed on saved candidates", ("keras", "optuna"))
                  + f"- candidates: {args.replay}\n\n## Rows\n\n" + C.md_table(rows, COLUMNS)
                  + "\n## Mean over dataset-seeds\n\n" + summarize(rows))
        md, csv = C.write_report(args.out, report, rows)
        print(summarize(rows) + f"\nwrote {md} and {csv}")
        return
    if not args.datasets:
        sys.exit("error: --datasets is required unless --replay is given")
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
                rows += study_one(name, seed, C.split(x, y, seed), args.time_limit, commit, args.keep)
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
