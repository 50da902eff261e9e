"""Shared by the benchmarks: medians with their spread, and tables in Markdown."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of the (sorted) values lie, nearest rank."""
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def spread(values: Sequence[float], digits: int = 1) -> str:
    """``median (min–max)`` of a run's figures, or the one figure of a single run."""
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join("| " + " | ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)) + " |" for line in lines)
