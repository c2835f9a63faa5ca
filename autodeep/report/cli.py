"""The ``autodeep leaderboard`` and ``autodeep report`` subcommands (registered by ``autodeep.cli``)."""

from __future__ import annotations

import argparse


def add_commands(sub) -> None:
    """Add ``leaderboard`` and ``report`` to the ``autodeep`` command's subparsers ``sub``.

    Example:
        >>> parser = argparse.ArgumentParser(prog="autodeep"); add_commands(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["report", "runs/credit", "--out", "r.html"]).out
        'r.html'
    """
    board = sub.add_parser("leaderboard", help="print the trials of a search, best first")
    board.add_argument("project", help="the search's project folder (<directory>/<project_name>)")
    board.add_argument("--csv", default=None, help="also write the table to this CSV file")
    board.set_defaults(func=_clean_errors(_leaderboard))
    report = sub.add_parser("report", help="write a search's HTML report (one self-contained file)")
    report.add_argument("project", help="the search's project folder (<directory>/<project_name>)")
    report.add_argument("--out", default=None, help="the HTML file (default: <project>/report.html)")
    report.set_defaults(func=_clean_errors(_report))


def _clean_errors(command):
    """``command`` printing a missing or unreadable project folder as one line on stderr (exit status 2)."""
    import sys

    def run(args) -> int:
        try:
            return command(args)
        except (FileNotFoundError, ValueError, ImportError) as error:
            print(f"autodeep {args.command}: {error}", file=sys.stderr)
            return 2

    return run


def _leaderboard(args) -> int:
    import pandas as pd

    from autodeep.report import leaderboard

    table = leaderboard(args.project)
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def _report(args) -> int:
    from pathlib import Path

    from autodeep.report import write_report

    out = write_report(args.project, args.out or Path(args.project) / "report.html")
    print(f"report written to {out}")
    return 0
