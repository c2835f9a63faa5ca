"""Shared helpers for the autodeep benchmarks (tabular.py, and later images.py / text.py).

Data location, manifest loading, seeded splits, timing, peak memory and markdown/CSV reports.
"""

from __future__ import annotations

import csv
import datetime as _dt
import importlib.metadata
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"

# Benchmark the checkout this script lives in, whether or not autodeep is pip-installed.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def data_dir(path: str | Path | None = None) -> Path:
    """The shared data folder (holding MANIFEST.tsv); exits with a message when it is missing."""
    d = Path(path) if path else DEFAULT_DATA_DIR
    if not (d / "MANIFEST.tsv").is_file():
        sys.exit(f"error: benchmark data not found: {d / 'MANIFEST.tsv'} is missing (pass --data-dir DIR)")
    return d


def add_io_arguments(parser, report: str) -> None:
    """``--data-dir`` and ``--out``, shared by every benchmark. ``report`` names the default result file, one per
    setting: a template filled from the parsed arguments by ``result_path`` (``"tabular_{tasks}_{time_limit}"``
    gives ``benchmarks/results/tabular_binary_60.md``)."""
    parser.add_argument("--data-dir", help=f"folder holding MANIFEST.tsv (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--out", help=f"markdown report (default benchmarks/results/{report}.md); the raw rows "
                                      "go to the .csv beside it")
    parser.set_defaults(report=report)


def result_path(args) -> str:
    """``args.out``, or the benchmark's result file for the parsed setting (see ``add_io_arguments``).

    >>> import argparse
    >>> result_path(argparse.Namespace(out=None, report="tabular_{tasks}_{time_limit}", tasks=["binary"],
    ...                                time_limit=60.0)).endswith("benchmarks/results/tabular_binary_60.md")
    True
    """
    if args.out:
        return args.out
    fields = {name: _slug(value) for name, value in vars(args).items()}
    return str(REPO / "benchmarks" / "results" / f"{args.report.format(**fields)}.md")


def _slug(value) -> str:
    if isinstance(value, (list, tuple)):
        return "_".join(_slug(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("-", "_")


def load_manifest(root: Path, task: str | None = None) -> pd.DataFrame:
    """MANIFEST.tsv as a frame indexed by dataset name, optionally only one task (binary, image, ...)."""
    m = pd.read_csv(root / "MANIFEST.tsv", sep="\t", dtype=str).set_index("name", drop=False)
    return m[m["task"] == task] if task else m


def load_table(root: Path, entry: pd.Series, max_rows: int | None = None,
               seed: int = 0, stratify: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Read a manifest entry's csv(.gz), pop its target; optionally a (stratified) subsample of max_rows."""
    x = pd.read_csv(root / entry["file"])
    y = x.pop(entry["target"])
    if max_rows and len(x) > max_rows:
        x, _, y, _ = train_test_split(x, y, train_size=max_rows, stratify=y if stratify else None,
                                      random_state=seed)
    return x.reset_index(drop=True), y.reset_index(drop=True)


def split(x, y, seed: int, test_size: float = 0.2, stratify: bool = True):
    """Seeded (stratified) train/test split: returns x_train, x_test, y_train, y_test."""
    return train_test_split(x, y, test_size=test_size, stratify=y if stratify else None, random_state=seed)


def binary_study_split(x, y, seed: int):
    """A binary table as single-model studies see it: ``split``'s training part split again 80/20 (stratified)
    into fit and validation rows, as the search does. Returns ``(frames, labels, preprocessor)``: the fit,
    validation and test rows, their labels as 0/1 float32 (1: the larger class name), and autodeep's
    ``TabularPreprocessor`` fit on the fit rows."""
    from autodeep.data import TabularPreprocessor

    x_train, x_test, y_train, y_test = split(x, y, seed)
    positive = np.unique(y_train)[1]
    y_train = (np.asarray(y_train) == positive).astype("float32")
    y_test = (np.asarray(y_test) == positive).astype("float32")
    fit, val = train_test_split(np.arange(len(x_train)), test_size=0.2, stratify=y_train, random_state=seed)
    frames = (x_train.iloc[fit], x_train.iloc[val], x_test)
    return frames, (y_train[fit], y_train[val], y_test), TabularPreprocessor().fit(frames[0])


class Timer:
    """`with Timer() as t: ...` then t.seconds (wall clock)."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (monotone over the whole run)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kb / (1024 * 1024 if sys.platform == "darwin" else 1024)


def nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def versions(*packages: str) -> str:
    """'pkg x.y.z' for each package, read from metadata (nothing is imported)."""
    out = []
    for p in packages:
        try:
            out.append(f"{p} {importlib.metadata.version(p)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{p} (not installed)")
    return ", ".join(out)


def header(title: str, packages: tuple[str, ...]) -> str:
    """Markdown preamble: title, command line, date, CPU count and library versions."""
    cmd = shlex.join([Path(sys.executable).name, *sys.argv])
    return (f"# {title}\n\n"
            f"- command: `{cmd}`\n"
            f"- date: {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"- machine: nproc={nproc()}, python {sys.version.split()[0]}\n"
            f"- versions: {versions(*packages)}\n")


def fmt(v) -> str:
    if isinstance(v, float):
        return "" if v != v else f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")


def md_row(values) -> str:
    return "| " + " | ".join(fmt(v) for v in values) + " |"


def md_table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of the given columns of a list of dicts."""
    lines = [md_row(columns), "|" + "---|" * len(columns)]
    lines += [md_row(r.get(c) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def write_report(out: str | Path, markdown: str, rows: list[dict]) -> tuple[Path, Path]:
    """Write the markdown to `out` and the raw rows to a CSV beside it (same stem)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown)
    return out, write_rows(out.with_suffix(".csv"), rows)


def write_rows(csv_path: str | Path, rows: list[dict]) -> Path:
    """The raw rows as a CSV, replaced atomically so an interrupted run never leaves half a file. Every row
    carries the commit it ran: rows without a ``commit`` get the checkout's (``git_commit``)."""
    csv_path = Path(csv_path)
    if any("commit" not in r for r in rows):
        commit = git_commit()
        rows = [r if "commit" in r else {**r, "commit": commit} for r in rows]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = csv_path.with_suffix(".csv.tmp")
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, csv_path)
    return csv_path


def _git(*args, repo=REPO) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()


def git_commit(checkout=REPO) -> str:
    """The short commit of ``checkout`` (this one by default), with "+dirty" when its autodeep/ has uncommitted
    changes ("" outside git)."""
    commit = _git("rev-parse", "--short", "HEAD", repo=checkout)
    return commit + ("+dirty" if commit and _git("status", "--porcelain", "--", "autodeep", repo=checkout) else "")


def import_autodeep(checkout=REPO):
    """The ``autodeep`` package of ``checkout`` (this one by default): that folder first on ``sys.path``, then
    imported. Raises when the package came from elsewhere (autodeep was imported before, from another folder),
    so a benchmark never scores one checkout's code under another's commit.

    >>> Path(import_autodeep().__file__).is_relative_to(REPO)
    True
    """
    checkout = Path(checkout).resolve()
    sys.path.insert(0, str(checkout))
    import autodeep

    if not Path(autodeep.__file__).resolve().is_relative_to(checkout):
        raise RuntimeError(f"autodeep was imported from {autodeep.__file__}, not from the checkout {checkout}")
    return autodeep


def library_tree(commit) -> str:
    """The git tree of autodeep/ at ``commit`` as git_commit wrote it (git_commit() for the checkout); "" when
    that code cannot be named: no commit, a "+dirty" one, an unknown one, or no git."""
    if not isinstance(commit, str) or not commit or commit.endswith("+dirty"):
        return ""
    return _git("rev-parse", "--verify", "--quiet", f"{commit}:autodeep")
