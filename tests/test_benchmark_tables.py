"""The README's benchmark tables are the result files' tables, and every result row names its commit."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
RESULT_NAME = re.compile(r"benchmarks/results/([\w.-]+\.md)")


def benchmark_section(readme: str) -> str:
    start = readme.index("\n## Benchmarks\n")
    return readme[start:readme.index("\n## ", start + 1)]


def tables_and_sources(section: str) -> list[tuple[str, list[str]]]:
    """Each markdown table of the section with the last result file named before it."""
    found, source, table = [], None, []
    for line in section.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            found.append((source, table))
            table = []
        names = RESULT_NAME.findall(line)
        source = names[-1] if names else source
    return found


def contains_block(lines: list[str], block: list[str]) -> bool:
    return any(lines[i:i + len(block)] == block for i in range(len(lines) - len(block) + 1))


def test_every_readme_table_is_copied_from_the_result_file_it_names():
    section = benchmark_section((REPO / "README.md").read_text())
    tables = tables_and_sources(section)
    assert len(tables) >= 5
    for source, table in tables:
        assert source, f"a README table names no benchmarks/results file before it: {table[0]}"
        lines = (RESULTS / source).read_text().splitlines()
        assert contains_block(lines, table), f"this README table differs from {source}:\n" + "\n".join(table)


def test_every_result_file_is_in_the_readme_and_the_readme_names_no_missing_file():
    section = benchmark_section((REPO / "README.md").read_text())
    named = set(RESULT_NAME.findall(section))
    on_disk = {p.name for p in RESULTS.glob("*.md")}
    assert named - on_disk == set(), "the README names result files that do not exist"
    assert on_disk - named == set(), "result files the README does not present (superseded? delete them)"


@pytest.mark.parametrize("name", sorted(p.stem for p in RESULTS.glob("*.md")))
def test_each_result_has_its_rows_with_their_commit(name):
    with (RESULTS / f"{name}.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{name}.csv has no rows"
    assert all(re.fullmatch(r"[0-9a-f]{7,40}(\+dirty)?", row.get("commit") or "") for row in rows), \
        f"{name}.csv has rows without a commit"
