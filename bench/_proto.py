"""Loki's protobuf push body with snappy, the wire format quantwatch measured against and did not choose.

Hand-encoded ``logproto.PushRequest`` (streams: labels string + entries of
timestamp and line), so the comparison costs no protobuf runtime; snappy in
its raw block form, as Loki expects, from ``cramjam``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import cramjam

from quantwatch.push import Entry, Wire


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_proto(entries: Sequence[Entry], labels: Mapping[str, str]) -> bytes:
    """PushRequest{streams: [StreamAdapter{labels, entries: [EntryAdapter{timestamp, line}]}]}, one stream per level."""
    streams: dict[str, list[bytes]] = {}
    for ts, level, line in entries:
        seconds, nanos = divmod(ts, 1_000_000_000)
        stamp = b"\x08" + _varint(seconds) + (b"\x10" + _varint(nanos) if nanos else b"")
        streams.setdefault(level, []).append(_field(2, _field(1, stamp) + _field(2, line.encode("utf-8", "replace"))))
    body = b""
    for level, items in streams.items():
        selector = "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted({**labels, "level": level}.items())) + "}"
        body += _field(1, _field(1, selector.encode()) + b"".join(items))
    return body


def _encode_proto_snappy(entries: Sequence[Entry], labels: Mapping[str, str]) -> bytes:
    return bytes(cramjam.snappy.compress_raw(encode_proto(entries, labels)))


PROTO_SNAPPY = Wire("application/x-protobuf", "", _encode_proto_snappy)
