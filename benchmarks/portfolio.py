"""Learn the first configurations of a table search (the portfolio) from searches on the tune half.

    python benchmarks/portfolio.py --random 14 --seeds 0 1 --max-rows 10000

1. **Candidates**: the configurations the package ships today (``autodeep.modalities.table_starts``) and
   ``--random`` more drawn from the table search space by the random tuner (seeded, so the list is the same on
   every run).
2. **Matrix**: every candidate trained once on every binary set of the tune half (``tabular.py``'s
   ``TUNE_HALF``; the confirm half is never read), on the training part of each ``--seeds`` split (the
   benchmark's stratified 80/20 split; sets over ``--max-rows`` training rows are subsampled to it and run at
   seed 0 only), in one greedy search whose first trials are the candidates. Each trial's validation loss (the
   search's objective) and seconds are kept; the test rows are never touched.
3. **Portfolio**: per set and seed, a candidate's regret is its validation loss above the best candidate's,
   divided by the median candidate's gap to the best (so sets weigh alike). The portfolio starts with the
   search space's defaults; cost-aware greedy forward selection adds the rest of ``--size`` configurations:
   each the one that most lowers the mean over sets of the best regret in the portfolio so far per second of
   training (mean seconds), as large sets run only the first few. Leave-one-set-out: the portfolio learned
   without each set, scored on it after 1, 2, 3 and all of its configurations, against the shipped ones.

Writes the report to ``benchmarks/results/portfolio.md`` and the matrix (one row per set, seed and candidate,
with the candidate's configuration) to the CSV beside it (``--resume`` keeps its finished sets); and, with ``--write``, the portfolio to
``autodeep/portfolios/tables.json``, where ``autodeep.modalities`` reads the first configurations of tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import _common as C
from tabular import TUNE_HALF

SHIPPED = C.REPO / "autodeep" / "portfolios" / "tables.json"
PREFIXES = (1, 2, 3)  # the leave-one-out check scores the first k configurations too: large sets run only a few


def random_candidates(n: int, seed: int) -> list[dict]:
    """``n`` configurations drawn by the random tuner from the table search space (one epoch each on 200 rows of
    the bundled credit-g, which has numeric and categorical columns, so every table hyperparameter is drawn)."""
    import autodeep as ak

    frame = ak.datasets.load_credit_g().sample(200, random_state=seed)
    with tempfile.TemporaryDirectory() as tmp:
        clf = ak.StructuredDataClassifier(tuner="random", max_trials=n, epochs=1, seed=seed, directory=tmp,
                                          refit=False, bagging_folds=0, retrieval=False, ensemble_size=1, verbose=0)
        clf.fit(frame, "class")
        return [dict(t.params) for t in clf.study_.trials]


def evaluate(x, y, candidates: list[dict], seed: int) -> list[dict]:
    """Each candidate's validation loss and seconds, as the first trials of one greedy search on (x, y)."""
    import autodeep as ak

    with tempfile.TemporaryDirectory() as tmp:
        clf = ak.StructuredDataClassifier(tuner=ak.Greedy(initial_hps=candidates), max_trials=len(candidates),
                                          seed=seed, directory=tmp, refit=False, bagging_folds=0, retrieval=False,
                                          ensemble_size=1, verbose=0, max_consecutive_failures=0)
        clf.fit(x, y)
        trials = sorted(clf.study_.trials, key=lambda t: t.number)
        return [{"candidate": i, "val_loss": t.value if t.value is not None else np.nan,
                 "seconds": t.user_attrs.get("seconds", np.nan)} for i, t in enumerate(trials)]


def regrets(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rows (dataset, seed) by candidate columns: validation loss above the best, over the median's gap."""
    loss = matrix.pivot_table(index=["dataset", "seed"], columns="candidate", values="val_loss")
    best = loss.min(axis=1)
    spread = (loss.median(axis=1) - best).clip(lower=1e-9)
    out = loss.sub(best, axis=0).div(spread, axis=0)
    return out.fillna(out.max().max())  # a failed candidate: as bad as the worst seen


def costs(matrix: pd.DataFrame) -> pd.Series:
    """Each candidate's mean training seconds; a candidate that failed everywhere (no seconds): the dearest seen,
    so a NaN never wins or blocks ``select``'s comparison."""
    cost = matrix.groupby("candidate")["seconds"].mean()
    return cost.fillna(cost.max())


def set_regret(regret: pd.DataFrame, chosen: list[int]) -> pd.Series:
    """Per set (its seeds averaged): the best regret among the ``chosen`` candidates."""
    return regret[chosen].min(axis=1).groupby(level="dataset").mean()


def select(regret: pd.DataFrame, cost: pd.Series, size: int, first: int = 0) -> list[int]:
    """``size`` candidates, in the order tried: ``first`` (the search space's defaults, so a search of one
    trial still gets them), then each the candidate that lowers the mean best regret over sets most per second
    of training (``cost``), so cheap good configurations come before dear ones.

    >>> r = pd.DataFrame({0: [0.0, 2.0], 1: [1.0, 0.0], 2: [2.0, 0.1], 3: [0.5, 0.5]},
    ...                  index=pd.MultiIndex.from_tuples([("a", 0), ("b", 0)], names=["dataset", "seed"]))
    >>> select(r, pd.Series({0: 1.0, 1: 10.0, 2: 1.0, 3: 1.0}), 3)
    [0, 2, 1]
    """
    chosen = [first]
    while len(chosen) < min(size, regret.shape[1]):
        now = set_regret(regret, chosen).mean()
        left = [c for c in regret.columns if c not in chosen]
        chosen.append(max(left, key=lambda c: ((now - set_regret(regret, chosen + [c]).mean()) / cost[c], -cost[c])))
    return chosen


def leave_one_out(regret: pd.DataFrame, cost: pd.Series, size: int, shipped: list[int], first: int) -> pd.DataFrame:
    """For each set: the best regret on it of the first 1, 2, 3 and all configurations of the portfolio learned on
    the other sets (``learned_k``) and of the shipped one (``shipped_k``)."""
    rows = []
    for name in regret.index.get_level_values("dataset").unique():
        learned = select(regret.drop(index=name, level="dataset"), cost, size, first)
        held = regret.xs(name, level="dataset", drop_level=False)
        row = {"dataset": name}
        for label, portfolio in (("learned", learned), ("shipped", shipped)):
            row.update({f"{label}_{k}": set_regret(held, portfolio[:k]).iloc[0] for k in PREFIXES})
            row[f"{label}_all"] = set_regret(held, portfolio).iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


def build_matrix(args, candidates: list[dict], csv_path) -> pd.DataFrame:
    """Run (or, with ``--resume``, keep) every tune-half set's searches; the rows, also written to ``csv_path``
    as each set finishes."""
    root = C.data_dir(args.data_dir)
    manifest = C.load_manifest(root, "binary")
    done = pd.read_csv(csv_path) if args.resume and csv_path.is_file() else pd.DataFrame()
    if not done.empty and list(done.groupby("candidate")["config"].first()) != [json.dumps(c) for c in candidates]:
        raise SystemExit(f"--resume: {csv_path} was made with other candidates; run without --resume")
    rows, commit = done.to_dict("records"), C.git_commit()
    for name in sorted(TUNE_HALF & set(manifest.index)):
        x, y = C.load_table(root, manifest.loc[name])
        for seed in args.seeds:
            if not done.empty and ((done.dataset == name) & (done.seed == seed)).any():
                continue
            x_train, _, y_train, _ = C.split(x, y, seed)
            if len(x_train) > args.max_rows:
                if seed != args.seeds[0]:
                    continue
                x_train, _, y_train, _ = C.split(x_train, y_train, seed, test_size=len(x_train) - args.max_rows)
            with C.Timer() as t:
                found = evaluate(x_train, y_train, candidates, seed)
            rows += [{"dataset": name, "seed": seed, "rows": len(x_train), **r,
                      "config": json.dumps(candidates[r["candidate"]]), "commit": commit} for r in found]
            C.write_rows(csv_path, rows)
            print(f"{name} seed {seed}: {len(x_train)} rows, {t.seconds:.0f} s", flush=True)
    return pd.DataFrame(rows)


def report(candidates, matrix, regret, cost, chosen, loo, shipped) -> str:
    per_set = pd.DataFrame({"shipped": set_regret(regret, shipped), "learned": set_regret(regret, chosen)})
    lines = [C.header("Table portfolio learned on the tune half", ("autodeep", "keras", "optuna")),
             f"{len(candidates)} candidates ({len(shipped)} shipped, {len(candidates) - len(shipped)} random), "
             f"{matrix.dataset.nunique()} sets. Regret: validation loss above the best candidate's, over the "
             "median candidate's gap to the best (0 = the best candidate; 1 = the median).", "",
             "Portfolio (in the order tried):", ""]
    lines += [f"{i + 1}. candidate {c} (mean {cost[c]:.1f} s, mean regret alone {set_regret(regret, [c]).mean():.3f}): "
              f"`{json.dumps(candidates[c])}`" for i, c in enumerate(chosen)]
    lines += ["", "Best regret per set, in-sample (shipped starts against the learned portfolio):", "",
              C.md_table(per_set.reset_index().to_dict("records"), ["dataset", "shipped", "learned"]), "",
              f"Mean: shipped {per_set.shipped.mean():.4f}, learned {per_set.learned.mean():.4f}.", "",
              "Leave one set out (each set scored by the portfolio learned on the others; `_k`: its first k "
              "configurations):", "",
              C.md_table(loo.to_dict("records"), list(loo.columns)), "",
              "Mean best regret held out, learned against shipped: " + "; ".join(
                  f"{k} ({loo[f'learned_{k}'].mean():.4f} against {loo[f'shipped_{k}'].mean():.4f})"
                  for k in [*PREFIXES, "all"]) + ".",
              f"Seconds per set of the whole portfolio (mean): learned {cost[chosen].sum():.1f}, "
              f"shipped {cost[shipped].sum():.1f}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--random", type=int, default=14, help="random candidates beside the shipped starts")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="splits per set (large sets: the first)")
    p.add_argument("--max-rows", type=int, default=10_000, help="training rows kept of a larger set")
    p.add_argument("--size", type=int, default=6, help="configurations in the portfolio")
    p.add_argument("--resume", action="store_true", help="keep the sets already in the matrix")
    p.add_argument("--write", action="store_true", help=f"write the portfolio to {SHIPPED.relative_to(C.REPO)}")
    C.add_io_arguments(p, "portfolio")
    args = p.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]
    from autodeep.modalities import table_starts

    starts = table_starts()
    shipped = list(range(len(starts)))
    candidates = starts + random_candidates(args.random, seed=0)
    out = Path(C.result_path(args))
    matrix = build_matrix(args, candidates, out.with_suffix(".csv"))
    regret, cost = regrets(matrix), costs(matrix)
    first = candidates.index({})  # the search space's defaults: shipped first, so always a candidate
    chosen = select(regret, cost, args.size, first)
    loo = leave_one_out(regret, cost, args.size, shipped, first)
    text = report(candidates, matrix, regret, cost, chosen, loo, shipped)
    out.write_text(text)  # the matrix CSV beside it is written by build_matrix, each row with its commit
    print(text)
    if args.write:
        SHIPPED.parent.mkdir(exist_ok=True)
        SHIPPED.write_text(json.dumps({"learned_by": f"benchmarks/portfolio.py {' '.join(args.argv)}",
                                       "commit": C.git_commit(), "configurations": [candidates[c] for c in chosen]},
                                      indent=1) + "\n")


if __name__ == "__main__":
    main()
