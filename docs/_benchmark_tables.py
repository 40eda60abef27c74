"""Read the result tables of ``benchmarks/README.md`` (the one record of measured figures), so
that the benchmarks page draws its plots from the same numbers it shows."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "benchmarks" / "README.md"


def read_table(heading: str, index: int = 0) -> list[dict[str, str]]:
    """Rows of the ``index``-th Markdown table under the ``##`` heading starting with
    ``heading``, as dicts keyed by the header cells."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    tables, current = [], []
    for line in [*lines[start:end], ""]:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])  # "\|" is a literal bar
            current.append([cell.strip().replace("\\|", "|") for cell in cells])
        elif current:
            tables.append(current)
            current = []
    header, _, *rows = tables[index]
    return [dict(zip(header, row, strict=True)) for row in rows]


def number(cell: str) -> float:
    """The first number of a cell (``"7,096 (1.9x, sliced)"`` -> 7096.0)."""
    return float(re.search(r"-?[\d,]*\.?\d+", cell).group().replace(",", ""))


def values(cell: str) -> list[float]:
    """Every value of a per-seed cell (``"0.000 · 0.012 · 0.000"``)."""
    return [number(part) for part in cell.split("·")]
