"""Shared by the benchmarks: medians with their spread, tables in Markdown and the summary's figures."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Figure:
    """One row of ``make bench``'s summary: a figure over runs, its target and its baseline from the same run.

    ``most``/``least`` bound the median; ``most_ratio`` bounds median over baseline median instead.
    """

    name: str
    unit: str
    measured: Sequence[float]
    baseline: Sequence[float] = ()
    baseline_name: str = ""
    most: float | None = None
    least: float | None = None
    most_ratio: float | None = None
    digits: int = 1

    @property
    def ratio(self) -> float | None:
        base = statistics.median(self.baseline) if self.baseline else 0.0
        return statistics.median(self.measured) / base if base else None

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None when the figure has none."""
        value, ratio = statistics.median(self.measured), self.ratio
        if self.most is not None:
            return value <= self.most
        if self.least is not None:
            return value >= self.least
        if self.most_ratio is not None:
            return ratio is not None and ratio <= self.most_ratio
        return None

    def target(self) -> str:
        if self.most is not None:
            return f"≤ {self.most:,g} {self.unit}"
        if self.least is not None:
            return f"≥ {self.least:,g} {self.unit}"
        if self.most_ratio is not None:
            return f"≤ {self.most_ratio:g}× baseline"
        return "–"

    def row(self) -> list[str]:
        baseline = f"{spread(self.baseline, self.digits)} {self.unit} ({self.baseline_name})" if self.baseline else "–"
        ratio = "–" if self.ratio is None else f"{self.ratio:.2f}×"
        result = {True: "pass", False: "FAIL", None: "–"}[self.passed]
        return [self.name, self.target(), f"{spread(self.measured, self.digits)} {self.unit}", baseline, ratio, result]


SUMMARY_HEADERS = ("figure", "target", "measured: median (min–max)", "baseline, same run", "ratio", "result")


def summary(figures: Sequence[Figure]) -> str:
    """The one table of every benchmark's figures."""
    return table(SUMMARY_HEADERS, [f.row() for f in figures])


class Pace:
    """Spaces calls ``per_second`` apart by sleeping before each (None: back to back, no pause)."""

    def __init__(self, per_second: float | None) -> None:
        self.step = int(1e9 / per_second) if per_second else 0
        self.due = time.perf_counter_ns()

    def wait(self) -> None:
        """Sleep until the next call is due."""
        if self.step:
            self.due += self.step
            pause = self.due - time.perf_counter_ns()
            if pause > 0:
                time.sleep(pause / 1e9)
