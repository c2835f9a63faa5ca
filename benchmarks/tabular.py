"""Tabular benchmark: autodeep vs FLAML vs AutoGluon vs LightGBM (default parameters) on the shared tabular datasets.

    python benchmarks/tabular.py --time-limit 60 --seeds 0 1 2      # -> results/tabular_binary_60.md
    python benchmarks/tabular.py --time-limit 60 --seeds 0 1 2 --tasks multiclass regression
                                                  # -> results/tabular_multiclass_regression_60.md

Defaults: the binary datasets in MANIFEST.tsv, seed 0, 60 s, all four systems (FLAML needs the `bench`
extra: pip install -e ".[bench]"; AutoGluon runs in its own virtual environment, made by
benchmarks/setup_autogluon.sh, named by --autogluon-python). --tasks adds the multiclass and regression sets.
Per dataset and seed: 80/20 split (random_state=seed, stratified for classification); each system fits
on the train part, autodeep, FLAML and AutoGluon under the same time limit, and is scored on the test part:
binary ROC AUC and F1 (positive class = second sorted label), multiclass accuracy and log-loss,
regression RMSE and R²; wall seconds of fit + predict; this process's peak RSS so far (MB).
Rows print as they finish; a summary per task follows: means over seeds, mean rank per system
(rank per dataset-seed on AUC / log-loss / RMSE), the per-dataset difference autodeep - flaml, each system's
worst gap to the best system of a set, and for binary sets F1 beside AUC. The binary sets are split once into a
tune half (TUNE_HALF: the sets defaults were tuned on) and a confirm half (every other set); the summary gives
each half's mean, and --half runs one of them.
The markdown goes to --out, the raw rows to a CSV beside it; the CSV is rewritten after every run, so
--resume can pick a long run up where it stopped; it reruns the rows a system made with other code (autodeep's
"commit") or another package version (a peer's "version").
With --baseline CHECKOUT (another checkout of autodeep, e.g. `git worktree add /tmp/main main`), the system
autodeep_baseline runs autodeep with that checkout's code beside autodeep with this one's, each in a process of
its own, the one that goes first alternating from dataset-seed to dataset-seed: a change to the library is
measured side by side in one command (`--systems autodeep --baseline /tmp/main --half confirm`).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from pathlib import Path

import pandas as pd

import _common as C
import _tabular_systems as S

TASKS = tuple(S.METRICS)
COLUMNS = ["dataset", "task", "rows", "seed", "system", "auc", "f1", "accuracy", "log_loss", "rmse", "r2",
           "wall_s", "peak_rss_mb", "error", "time_limit", "commit", "version", "detail"]
RUN_COLUMNS = ["dataset", "rows", "seed", "system"]
LIMIT_SLACK = 1.10  # a time-limited run over 110 % of the limit is flagged in the report
# The binary sets defaults may be tuned on: the 8 development sets, and of the later ones the two named for
# tuning categorical codes (credit-approval, click_prediction_small) and ilpd, already looked at. Every other
# binary set, including any added to MANIFEST.tsv later, is in the confirm half: a default changes only if it
# does not lose there.
TUNE_HALF = frozenset({"Australian", "credit-g", "kc1", "kr-vs-kp", "phoneme", "adult", "bank-marketing", "titanic",
                       "credit-approval", "click_prediction_small", "ilpd"})
BASELINE = "autodeep_baseline"  # autodeep with the code of --baseline
SUMMARY_ROWS = ("mean, tune half", "mean, confirm half", "mean", "mean rank", "worst gap to best")


def half(dataset: str) -> str:
    """The half of the binary sets ``dataset`` belongs to: ``"tune"`` or ``"confirm"``.

    >>> half("kc1"), half("spambase"), half("a set added later")
    ('tune', 'confirm', 'confirm')
    """
    return "tune" if dataset in TUNE_HALF else "confirm"


def run_one(name, task, seed, system, data, args) -> dict:
    """Fit and score one system on one split; an exception becomes the row's error."""
    x_train, x_test, y_train, y_test = data
    row = dict.fromkeys(COLUMNS) | {"dataset": name, "task": task, "rows": len(x_train) + len(x_test),
                                    "seed": seed, "system": system, "time_limit": args.time_limit,
                                    "commit": args.baseline_commit if system == BASELINE else args.commit,
                                    "version": S.version(system)}
    try:
        with C.Timer() as t:
            out = S.runner(system, args.baseline)(task, x_train, y_train, x_test, seed, args.time_limit,
                                                  f"{name}_{seed}")
        row |= S.score(task, y_test, *out[:3]) | {"wall_s": t.seconds, "detail": out[3]}
    except Exception as e:  # one failure is a row, not the end of the run
        row["error"] = f"{type(e).__name__}: {e}"[:300]
    row["peak_rss_mb"] = C.peak_rss_mb()
    return row


def complete_runs(df: pd.DataFrame, task: str) -> pd.DataFrame:
    """The scored runs of dataset-seeds every system completed, with each system's rank there."""
    metric, higher = S.RANK_BY[task]
    done = df[df["error"].isna()].copy()
    n_systems = df["system"].nunique()
    done = done[done.groupby(["dataset", "seed"])["system"].transform("size") == n_systems]
    done["rank"] = done.groupby(["dataset", "seed"])[metric].rank(ascending=not higher)
    return done


def system_table(df: pd.DataFrame, done: pd.DataFrame, task: str) -> str:
    """Per dataset x system: metric means over the complete seeds, mean rank, wall time, runs ok."""
    metrics = list(S.METRICS[task])
    runs = df.groupby(["dataset", "system"], sort=False).agg(
        rows=("rows", "first"), ok=("error", lambda e: e.isna().sum()), n=("error", "size"))
    means = done.groupby(["dataset", "system"])[metrics + ["rank", "wall_s"]].mean()
    t = runs.join(means).reset_index()
    t["runs ok"] = t["ok"].astype(str) + "/" + t["n"].astype(str)
    return C.md_table(t.to_dict("records"), ["dataset", "rows", "system", *metrics, "rank", "wall_s", "runs ok"])


def pivot_table(done: pd.DataFrame, task: str) -> tuple[str, pd.DataFrame]:
    """Dataset x system on the ranking metric, autodeep - flaml when both ran, then the summary rows: the mean of
    each half of the binary sets (when both are there), the mean, the mean rank, and each system's worst gap to
    the best system of a set (in the metric's units, 0 where it was best everywhere)."""
    metric, higher = S.RANK_BY[task]
    sets = done.groupby(["dataset", "system"])[metric].mean().unstack("system")
    p = sets.copy()
    if {"autodeep", "flaml"} <= set(p.columns):
        p["autodeep - flaml"] = p["autodeep"] - p["flaml"]
    halves = sets.index.map(half)
    if task == "binary" and halves.nunique() == 2:
        for name in ("tune", "confirm"):
            p.loc[f"mean, {name} half"] = p.loc[sets.index[halves == name]].mean()
    p.loc["mean"] = p.loc[sets.index].mean()
    p.loc["mean rank"] = done.groupby("system")["rank"].mean().reindex(p.columns)
    gaps = sets.max(axis=1).to_numpy()[:, None] - sets if higher else sets - sets.min(axis=1).to_numpy()[:, None]
    p.loc["worst gap to best"] = gaps.max().reindex(p.columns)
    records = [{"dataset": i, **r} for i, r in p.iterrows()]
    return C.md_table(records, ["dataset", *p.columns]), p


def verdict(p: pd.DataFrame, done: pd.DataFrame) -> str:
    """The issue's done-criterion read off the binary pivot: mean AUC and the sets more than 0.01 below."""
    if "autodeep - flaml" not in p.columns:
        return ""
    delta = p["autodeep - flaml"].drop(list(SUMMARY_ROWS), errors="ignore")
    below = [f"{d} ({v:+.4f})" for d, v in delta.items() if v < -0.01]
    return (f"autodeep vs flaml: mean AUC {p.at['mean', 'autodeep']:.4f} vs {p.at['mean', 'flaml']:.4f} "
            f"(difference {p.at['mean', 'autodeep - flaml']:+.4f}) over {len(delta)} datasets, "
            f"{done[['dataset', 'seed']].drop_duplicates().shape[0]} dataset-seeds; "
            f"sets where autodeep is more than 0.01 below flaml: {', '.join(below) or 'none'}\n")


def f1_table(done: pd.DataFrame) -> str:
    """Binary F1 per dataset at each system's own ``predict`` (FLAML and LightGBM cut at 0.5; autodeep_f1 at its
    tuned threshold), and autodeep_f1's mean against the best of FLAML and LightGBM when they all ran."""
    p = done.groupby(["dataset", "system"])["f1"].mean().unstack("system")
    p.loc["mean"] = p.mean()
    table = C.md_table([{"dataset": i, **r} for i, r in p.iterrows()], ["dataset", *p.columns])
    if not {"autodeep_f1", "flaml", "lightgbm"} <= set(p.columns):
        return "\nf1 per dataset (mean over seeds):\n\n" + table
    best = p.loc["mean", ["flaml", "lightgbm"]]
    return ("\nf1 per dataset (mean over seeds):\n\n" + table
            + f"\nautodeep_f1 (objective=\"f1\", tuned threshold): mean F1 {p.at['mean', 'autodeep_f1']:.4f} vs "
              f"{best.max():.4f} for {best.idxmax()} at 0.5, the better of FLAML and LightGBM\n")


def overruns(df: pd.DataFrame, time_limit: float) -> str:
    late = df[df["system"].isin(S.TIME_LIMITED) & (df["wall_s"] > LIMIT_SLACK * time_limit)]
    runs = [f"{r.system} {r.dataset} seed {r.seed} ({r.wall_s:.1f} s)" for r in late.itertuples()]
    return f"Time-limited runs over {LIMIT_SLACK:.0%} of {time_limit:g} s: {', '.join(runs) or 'none'}\n"


def summarize(rows: list[dict], task: str, time_limit: float) -> str:
    """One task's summary: per-system table, ranking-metric pivot with deltas, verdict, time overruns."""
    df = pd.DataFrame([r for r in rows if r["task"] == task], columns=COLUMNS)
    if df.empty:
        return ""
    done = complete_runs(df, task)
    metric = S.RANK_BY[task][0]
    pivot, p = pivot_table(done, task)
    return (f"### {task}\n\nMeans over the seeds every system completed; rank per dataset-seed on {metric} "
            f"(1 = best), averaged.\n\n" + system_table(df, done, task)
            + f"\n{metric} per dataset (mean over seeds):\n\n" + pivot + "\n"
            + (verdict(p, done) + f1_table(done) if task == "binary" else "") + overruns(df, time_limit))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", choices=TASKS, default=["binary"])
    p.add_argument("--datasets", nargs="+", help="dataset names of the selected tasks in MANIFEST.tsv (default: all)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--systems", nargs="+", choices=S.SYSTEMS, default=list(S.SYSTEMS))
    p.add_argument("--time-limit", type=float, default=60,
                   help="autodeep, FLAML and AutoGluon time limit in seconds (default 60)")
    S.add_autogluon_argument(p)
    p.add_argument("--half", choices=("tune", "confirm"),
                   help="only the binary sets of this half (TUNE_HALF; other tasks' sets are kept)")
    p.add_argument("--max-rows", type=int, help="(stratified) subsample of larger datasets to this many rows")
    p.add_argument("--resume", action="store_true",
                   help="keep the successful runs already in the CSV beside --out and run only the missing ones")
    p.add_argument("--baseline", help="another checkout of autodeep: run its code as the system autodeep_baseline "
                                      "beside autodeep, each in a process of its own, alternating which goes first")
    C.add_io_arguments(p, "tabular_{tasks}_{time_limit}")
    args = p.parse_args(argv)
    if args.baseline:
        args.systems = list(dict.fromkeys([*args.systems, "autodeep", BASELINE]))
        if not (Path(args.baseline) / "autodeep" / "__init__.py").is_file():
            p.error(f"--baseline: expected a checkout of autodeep (a folder holding autodeep/__init__.py), "
                    f"got {args.baseline!r}")
    elif BASELINE in args.systems:
        p.error(f"--systems {BASELINE} needs --baseline, the checkout whose code it runs")
    args.out = C.result_path(args)
    return args


def ordered(systems: list[str], turn: int) -> list[str]:
    """``systems`` in the order they run on the ``turn``-th dataset-seed: autodeep and autodeep_baseline swap
    places every other turn, so each goes first as often.

    >>> ordered(["autodeep", "flaml", "autodeep_baseline"], 0), ordered(["autodeep", "flaml", "autodeep_baseline"], 1)
    (['autodeep', 'flaml', 'autodeep_baseline'], ['autodeep_baseline', 'flaml', 'autodeep'])
    """
    if turn % 2 == 0 or not {"autodeep", BASELINE} <= set(systems):
        return list(systems)
    swap = {"autodeep": BASELINE, BASELINE: "autodeep"}
    return [swap.get(s, s) for s in systems]


def select(manifest: pd.DataFrame, args) -> pd.DataFrame:
    """The manifest rows of the selected tasks and datasets (of ``--half``'s binary sets with it), in task order;
    exits on unknown names."""
    m = manifest[manifest["task"].isin(args.tasks)]
    names = args.datasets or list(m.index)
    if unknown := [n for n in names if n not in m.index]:
        sys.exit(f"error: not {'/'.join(args.tasks)} datasets in the manifest: {unknown}; "
                 f"choose from {list(m.index)} or pass --tasks")
    m = m.loc[names]
    if args.half:
        m = m[(m["task"] != "binary") | (m.index.map(half) == args.half)]
    return m.iloc[m["task"].map(TASKS.index).argsort(kind="stable")]


def previous_rows(csv_path, time_limit: float, systems, commit: str, baseline_commit: str = "",
                  runs=None) -> list[dict]:
    """The successful rows of an earlier run of the same report (for --resume); exits on another time limit.

    Rows of the ``systems`` that run now, on the ``(dataset, seed)`` pairs in ``runs`` (all when ``None``), are
    kept only when they are still current: autodeep's (and autodeep_f1's) when they ran the autodeep/ code of
    ``commit``, the one checked out now (autodeep_baseline's: that of ``baseline_commit``), a peer's when they ran
    the version of its package installed now (rows without a version, from before the column, are kept); stale
    rows are rerun, so each run of a resumed table is one system's current code. Rows of systems, datasets or
    seeds that do not run now are kept as they are (the header's provenance line counts each commit's rows)."""
    if not csv_path.is_file():
        return []
    df = pd.read_csv(csv_path)
    df = df[df["error"].isna()].astype(object).where(lambda d: d.notna(), None)
    stale = pd.Series(False, index=df.index)
    rerun = pd.Series(True, index=df.index) if runs is None else pd.Series(
        [(d, int(s)) in runs for d, s in zip(df["dataset"], df["seed"])], index=df.index, dtype=bool)
    for system in systems:
        mine = (df["system"] == system) & rerun
        if system.startswith("autodeep"):
            code = baseline_commit if system == BASELINE else commit
            commits = df.get("commit", pd.Series(None, index=df.index))
            stale |= mine & ~commits.map(lambda c: _same_library(c, code)).astype(bool)
        elif (now := S.version(system)) is not None and "version" in df:
            stale |= mine & df["version"].notna() & (df["version"] != now)
    if stale.any():
        print(f"--resume: rerunning {int(stale.sum())} run(s) made with other autodeep code or another version of "
              f"a peer", file=sys.stderr)
    df = df[~stale]
    if "time_limit" in df and (other := set(df["time_limit"].dropna()) - {time_limit}):
        sys.exit(f"error: --resume: {csv_path} holds runs with time limit {sorted(other)}, not {time_limit:g}")
    return [dict.fromkeys(COLUMNS) | {k: v for k, v in r.items() if k in COLUMNS} for r in df.to_dict("records")]


@functools.cache
def _same_library(commit, reference) -> bool:
    """Whether ``commit`` has the autodeep/ code of ``reference`` (a commit as ``C.git_commit`` writes it)."""
    tree = C.library_tree(reference)
    return bool(tree) and C.library_tree(commit) == tree


def provenance(rows: list[dict]) -> str:
    """Which code made the rows, per system and seed: autodeep's commits, a peer's package versions (a resumed
    report keeps rows of earlier runs, so one table can hold several).

    >>> provenance([{"system": "autodeep", "seed": 0, "commit": "abc1234", "version": None},
    ...             {"system": "autodeep", "seed": 1, "commit": "abc1234", "version": None},
    ...             {"system": "autodeep", "seed": 1, "commit": "def5678", "version": None},
    ...             {"system": "flaml", "seed": 0, "commit": "abc1234", "version": "2.8.0"}])
    'autodeep: seed 0 at abc1234 (1), seed 1 at abc1234 (1), def5678 (1); flaml: seed 0 at 2.8.0 (1)'
    """
    made = {}
    for r in rows:
        key = (r["commit"] if r["system"].startswith("autodeep") else r.get("version")) or "unknown"
        seeds = made.setdefault(r["system"], {}).setdefault(int(r["seed"]), {})
        seeds[key] = seeds.get(key, 0) + 1
    return "; ".join(f"{system}: " + ", ".join(
        f"seed {seed} at " + ", ".join(f"{k} ({n})" for k, n in by.items()) for seed, by in sorted(seeds.items()))
        for system, seeds in made.items())


def import_systems(systems) -> None:
    """Import up front so wall times exclude it (AutoGluon: check its python exists; autodeep_baseline imports its
    code in its own process); a failure shows up per run."""
    for system in systems:
        if system == BASELINE:
            continue
        try:
            S.autogluon_python() if system in S.IN_SUBPROCESS else importlib.import_module(system)
        except Exception as e:
            print(f"warning: cannot import {system}: {type(e).__name__}: {e}", file=sys.stderr)


def main(argv=None) -> None:
    args = parse_args(argv)
    root = C.data_dir(args.data_dir)
    entries = select(C.load_manifest(root), args)
    import_systems(args.systems)
    args.commit = C.git_commit()
    args.baseline_commit = C.git_commit(args.baseline) if args.baseline else None
    csv_path = Path(args.out).with_suffix(".csv")
    runs = {(name, seed) for name in entries.index for seed in args.seeds}
    rows = previous_rows(csv_path, args.time_limit, args.systems, args.commit, args.baseline_commit, runs) \
        if args.resume else []
    done = {(r["dataset"], int(r["seed"]), r["system"]) for r in rows}

    print(C.md_table(rows, COLUMNS), end="", flush=True)
    turn = 0
    try:
        for name, entry in entries.iterrows():
            classify = entry["task"] != "regression"
            for seed in args.seeds:
                todo = [s for s in ordered(args.systems, turn) if (name, seed, s) not in done]
                if not todo:
                    continue
                turn += 1
                x, y = C.load_table(root, entry, args.max_rows, seed, stratify=classify)
                data = C.split(x, y, seed, stratify=classify)
                for system in todo:
                    rows.append(run_one(name, entry["task"], seed, system, data, args))
                    print(C.md_row(rows[-1].values()), flush=True)
                    C.write_rows(csv_path, rows)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished rows", file=sys.stderr)

    summary = "\n".join(summarize(rows, task, args.time_limit) for task in args.tasks)
    print("\n" + summary, flush=True)
    runs = "".join(f"\n### {t}\n\n" + C.md_table(
        [r for r in rows if r["task"] == t],
        RUN_COLUMNS + [*S.METRICS[t], "wall_s", "peak_rss_mb", "error", "commit", "detail"]) for t in args.tasks)
    report = (C.header("Tabular benchmark: autodeep vs FLAML vs AutoGluon vs LightGBM",
                       ("keras", "jax", "flaml", "lightgbm", "xgboost", "scikit-learn"))
              + f"- time limit (autodeep, FLAML, AutoGluon): {args.time_limit:g} s; max rows: {args.max_rows or 'all'}\n"
              + f"- rows made by (commit or version, and how many rows): {provenance(rows)}\n"
              + "\n## Runs\n" + runs + "\n## Summary\n\n" + summary)
    md, csv = C.write_report(args.out, report, rows)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
