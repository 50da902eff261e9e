"""The push body: every line, in order, in its level's stream, whatever the line holds and however many there are."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from quantwatch.push import ENCODE_CHUNK, encode_json

LABELS = {"service": "bot", "env": "prod"}
levels = st.sampled_from(["info", "audit", "error"])


def _decoded(body: bytes) -> dict[str, list[list[str]]]:
    streams = json.loads(body)["streams"]
    assert all(list(s["stream"]) == sorted(s["stream"]) for s in streams)
    return {s["stream"]["level"]: s["values"] for s in streams if s["stream"] == {**LABELS, "level": s["stream"]["level"]}}


@given(st.lists(st.tuples(st.integers(0, 2**63 - 1), levels, st.text()), max_size=3 * ENCODE_CHUNK))
def test_each_line_arrives_in_its_stream_in_order(entries: list[tuple[int, str, str]]) -> None:
    """Lone surrogates, which UTF-8 cannot carry, become "?"; every other character stays."""
    expected: dict[str, list[list[str]]] = {}
    for ts, level, line in entries:
        expected.setdefault(level, []).append([str(ts), line.encode("utf-8", "replace").decode()])
    assert _decoded(encode_json(entries, LABELS)) == expected


def test_a_batch_past_one_chunk_keeps_every_line() -> None:
    entries = [(i, "info", f'{{"n":{i}}}') for i in range(2 * ENCODE_CHUNK + 1)]
    assert _decoded(encode_json(entries, LABELS))["info"] == [[str(i), f'{{"n":{i}}}'] for i in range(2 * ENCODE_CHUNK + 1)]
