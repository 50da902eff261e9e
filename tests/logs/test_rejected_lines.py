"""How many lines a 400 refused, read from its body.

Loki's bodies cannot come from the test bed, whose server is VictoriaLogs: they are Loki's documented
formats, kept as a unit test of the parser. VictoriaLogs' 400 refuses the whole request
(test_retries.py shows it against the real server).
"""

from __future__ import annotations

import pytest

from quantwatch.push import rejected_lines


@pytest.mark.parametrize(
    ("message", "total", "expected"),
    [
        ("entry for stream '{a=\"b\"}' has timestamp too old: 2026-11-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-18T00:00:00Z", 10, 1),
        ("max entry size '262144' bytes exceeded for stream '{a=\"b\"}' while adding an entry with length '300000' bytes", 10, 1),
        ("3 errors like: max entry size '262144' bytes exceeded; 2 errors like: entry for stream '{a=\"b\"}' has timestamp too old", 10, 5),
        ("entry with timestamp x ignored, reason: 'too far behind',\nuser 'fake', total ignored: 4 out of 9 for stream: {a=\"b\"}", 9, 4),
        ("", 6, 6),
        ("99 errors like: entry for stream '{a=\"b\"}' has timestamp too old", 6, 6),
    ],
    ids=["one-entry", "line-too-long", "counted", "ingester-ignored", "empty", "count-over-total"],
)
def test_lokis_documented_400_bodies(message: str, total: int, expected: int) -> None:
    """The count comes from Loki's per-entry messages; without a usable count the whole batch counts."""
    assert rejected_lines(message, total) == expected


@pytest.mark.parametrize(
    "message",
    [
        "cannot read Loki json data: too big data size exceeding -loki.maxRequestSize=2000 bytes",
        'cannot parse common params from request: cannot parse accountID from "desk-7": invalid syntax',
    ],
    ids=["request-too-big", "tenant-not-numeric"],
)
def test_a_400_that_names_no_entry_refused_the_whole_batch(message: str) -> None:
    """A 400 body that is not about single entries (VictoriaLogs', a refused request) counts every line of the batch."""
    assert rejected_lines(message, 10) == 10
