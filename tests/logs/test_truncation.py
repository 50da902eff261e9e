"""Cutting a line that is not JSON to the line limit (JSON lines are checked as the server stores them, in test_delivery.py)."""

from __future__ import annotations

from quantwatch.loki import truncate_line


def test_plain_text_over_the_limit_is_cut_and_marked() -> None:
    """A line that is not a JSON object is cut to the limit and ends with its original size."""
    line = truncate_line("x" * 5000, 100)
    assert len(line.encode()) <= 100
    assert line.endswith("…[truncated 5000 bytes]")
    assert truncate_line("short", 100) == "short"
