"""Markdown tables for the benchmarks' reports, aligned for a terminal."""

from __future__ import annotations

from collections.abc import Sequence


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def markdown_table(
    headers: tuple[str, ...], body: Sequence[tuple[str, ...]], right: set[int]
) -> str:
    """A markdown table; the columns numbered in ``right`` are right-aligned."""
    widths = [max(_width(row[i]) for row in [headers, *body]) for i in range(len(headers))]

    def line(row: tuple[str, ...]) -> str:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":" if i in right else "-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(row) for row in body)])
