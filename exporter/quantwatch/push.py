"""One push to Loki: the wire format and the HTTP request, classified for the retry policy.

The push body is gzip'd JSON. Measured against snappy-compressed protobuf in
``make bench`` (figures in docs/logging.md): it costs the bot's process about
two thirds as much per line, is smaller on the wire and needs only the standard
library; Loki spends more per JSON line, which only matters far above a bot's
rate. :class:`Wire` is the seam the benchmark uses to plug the other format in.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from .config import loki_push_url
from .version import __version__

#: One log line on its way: (timestamp in ns, ``level`` label value, line).
Entry = tuple[int, str, str]

#: Lines per orjson call: a whole batch in one call would hold the GIL, and the bot's threads, for about a millisecond.
ENCODE_CHUNK = 256


@dataclass(frozen=True)
class Wire:
    """A push body format: how to encode a batch and which headers announce it."""

    content_type: str
    content_encoding: str
    encode: Callable[[Sequence[Entry], Mapping[str, str]], bytes]


def encode_json(entries: Sequence[Entry], labels: Mapping[str, str]) -> bytes:
    """The push request as JSON: one stream per level, ``labels`` plus ``level`` on each.

    Written ENCODE_CHUNK lines at a time, and between chunks the GIL is handed
    to any thread waiting for it (``time.sleep(0)``): otherwise a bot's thread
    waking up during the encoding of a large batch waits for all of it.
    """
    streams: dict[str, list[bytes]] = {}
    try:
        for start in range(0, len(entries), ENCODE_CHUNK):
            chunk: dict[str, list[list[str]]] = {}
            for ts, level, line in entries[start : start + ENCODE_CHUNK]:
                try:
                    chunk[level].append([str(ts), line])
                except KeyError:
                    chunk[level] = [[str(ts), line]]
            for level, values in chunk.items():
                streams.setdefault(level, []).append(orjson.dumps(values)[1:-1])
            time.sleep(0)
    except orjson.JSONEncodeError:  # a lone surrogate, which orjson refuses: the json module writes it, and "?" replaces it
        return _encode_json_slowly(entries, labels)
    parts = [
        b'{"stream":%b,"values":[%b]}' % (orjson.dumps(dict(sorted({**labels, "level": level}.items()))), b",".join(values))
        for level, values in streams.items()
    ]
    return b'{"streams":[%b]}' % b",".join(parts)


def _encode_json_slowly(entries: Sequence[Entry], labels: Mapping[str, str]) -> bytes:
    """The json module's rendering, in one call: rare enough that holding the GIL for it does not matter."""
    streams: dict[str, list[list[str]]] = {}
    for ts, level, line in entries:
        streams.setdefault(level, []).append([str(ts), line])
    body = {"streams": [{"stream": dict(sorted({**labels, "level": level}.items())), "values": values} for level, values in streams.items()]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _encode_json_gzip(entries: Sequence[Entry], labels: Mapping[str, str]) -> bytes:
    # Level 1: within a few bytes per line of level 6's size at about two thirds of its cost (docs/logging.md).
    return gzip.compress(encode_json(entries, labels), compresslevel=1, mtime=0)


JSON_GZIP = Wire("application/json", "gzip", _encode_json_gzip)


@dataclass(frozen=True)
class Outcome:
    """What one push came to; ``retry`` names a LOG_RETRY_REASONS value when it may succeed later."""

    status: int
    retry: str | None = None
    #: Lines Loki refused for good (a 4xx); the rest of the batch was ingested.
    rejected: int = 0
    #: Seconds the server asked us to wait (``Retry-After``), if it said.
    retry_after: float | None = None
    #: The server says the URL is not its push endpoint (404, or VictoriaLogs' 400 "unsupported path"): every line is refused.
    wrong_url: bool = False

    @property
    def outcome(self) -> str:
        """The LOG_BATCH_OUTCOMES value of this push."""
        if 200 <= self.status < 300:
            return "success"
        return "error" if self.retry else "rejected"


_COUNTED = re.compile(r"(\d+) errors like: ")
#: How Loki's refusal of one line begins (pkg/validation: timestamp too old or too new, line too long).
_ONE_ENTRY = re.compile(r"(entry for stream|max entry size) ")
_IGNORED = re.compile(r"total ignored: (\d+) out of \d+")


def rejected_lines(message: str, total: int) -> int:
    """How many of ``total`` lines a Loki 400 refused, read from its body; all of them if it does not say.

    The distributor joins distinct validation errors with ``"; "`` and prefixes
    repeated ones with ``"N errors like: "``; the ingester ends with ``"total
    ignored: N out of M"`` per stream. Any other message refused the whole
    request, as every 400 of VictoriaLogs does (a body too big or unreadable, a
    bad tenant): nothing of it was stored.
    """
    ignored = _IGNORED.findall(message)
    if ignored:
        count = sum(int(n) for n in ignored)
    else:
        parts = [part for part in message.strip().split("; ") if part]
        count = sum(int(m.group(1)) if (m := _COUNTED.match(part)) else 1 if _ONE_ENTRY.match(part) else total for part in parts)
    return count if 0 < count <= total else total


class Pusher:
    """A keep-alive HTTP connection to Loki's push endpoint; reconnects after any failure.

    For example::

        pusher = Pusher("http://loki:3100", JSON_GZIP)
        pusher.push(body, lines=3, timeout=10.0).outcome  # "success"
    """

    def __init__(self, url: str, wire: Wire, *, tenant: str = "", username: str = "", password: str = "") -> None:
        #: The push endpoint: ``url`` as Config.loki_url takes it, with the push path appended to a base URL.
        self.url = loki_push_url(url)
        parts = urlsplit(self.url)
        assert parts.hostname  # loki_push_url refuses a URL without one
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self.path = parts.path
        self.headers = {"Content-Type": wire.content_type, "User-Agent": f"quantwatch/{__version__}"}
        if wire.content_encoding:
            self.headers["Content-Encoding"] = wire.content_encoding
        if tenant:
            self.headers["X-Scope-OrgID"] = tenant
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"
        self._conn: http.client.HTTPConnection | None = None

    def push(self, body: bytes, lines: int, timeout: float) -> Outcome:
        """Send one body of ``lines`` lines and wait at most ``timeout`` seconds for each network step."""
        try:
            conn = self._connection(timeout)
            conn.request("POST", self.path, body, self.headers)
            response = conn.getresponse()
            message = response.read(64 * 1024).decode("utf-8", "replace")
            if response.will_close or not response.isclosed():
                self.close()
        except TimeoutError:
            self.close()
            return Outcome(0, "timeout")
        except (OSError, http.client.HTTPException):
            self.close()
            return Outcome(0, "connection")
        status = response.status
        if 200 <= status < 300:
            return Outcome(status)
        if status == 429 or status >= 500:
            return Outcome(status, "rate_limited" if status == 429 else "server_error", retry_after=_seconds(response.getheader("Retry-After")))
        if status == 404 or (status == 400 and "unsupported path" in message):
            return Outcome(status, rejected=lines, wrong_url=True)
        return Outcome(status, rejected=rejected_lines(message, lines) if status == 400 else lines)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=timeout)
        else:
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
        return self._conn

    def close(self) -> None:
        """Drop the connection; the next push opens a new one."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` given in seconds (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
