"""What makes each setting unusable: one check per Config field, run at start-up.

Each check takes a value already of the field's type and returns why it cannot
be used, or "" when it can. Checks that look at the machine (a path that must
exist, a file that must be readable) run once, when the Config is made, so a
typo fails the bot's start rather than every scrape or every audit line.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import psutil

from .labels import label_problem
from .logs import LEVELS

#: The largest loki_batch_bytes: a batch may run one line over it, and Loki's ingester message carries ~45 bytes
#: per line more than the text, which must stay under Loki's grpc_server_max_recv_msg_size (default 4 MiB, 4194304
#: bytes: Loki configuration reference, server: grpc_server_max_recv_msg_size).
LOKI_BATCH_MAX = 2 * 1024 * 1024
#: Where Loki serves its push API, under its base URL.
PUSH_PATH = "/loki/api/v1/push"
#: The two forms of loki_url, for error messages.
LOKI_URL_FORMS = (
    f"give the base URL (Loki: http://loki:3100; VictoriaLogs: add /insert, http://victorialogs:9428/insert) or the full push URL ending in {PUSH_PATH}"
)
# Paths of the servers' other APIs, refused unless the path ends in PUSH_PATH: Loki's query and status APIs
# (/loki/api/..., /api/v1/..., /api/prom/...), its OTLP intake, VictoriaLogs' query API (/select/...) and its
# other ingestion protocols (/insert/<protocol>), and the pages every server has (/ready, /metrics...).
_OTHER_API = re.compile(r"/(loki/api|api/v1|api/prom|otlp|select|insert/[^/]+)(/|$)|/(ready|metrics|config|services|log_level|flush|ring|health|flags|vmui)$")
_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
#: Loki's tenant ids: at most 150 of these characters, and not "." or ".." (Loki docs, multi-tenancy).
_TENANT = re.compile(r"[A-Za-z0-9!\-_.*'()]{1,150}")
Check = Callable[[Any], str]


def url_problem(url: str) -> str:
    """Why ``url`` cannot be a push endpoint (see Config.loki_url), or "" when it can."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed [IPv6] host
        return "is not a URL"
    path = parts.path.rstrip("/")
    problems = (
        (parts.scheme not in ("http", "https"), "is not an http(s) URL"),
        ("@" in parts.netloc, "carries credentials (set loki_username and loki_password_file instead)"),
        (not parts.hostname, "has no host"),
        (not _valid_port(parts), "has no valid port"),
        (bool(parts.query or parts.fragment), "has a query string or fragment, which the push API does not take"),
        (not path.endswith(PUSH_PATH) and _OTHER_API.search(path) is not None, "names another API, not the push"),
    )
    return next((problem for found, problem in problems if found), "")


def masked(url: str) -> str:
    """``url`` with any credentials hidden, for messages and tracebacks."""
    return re.sub(r"//[^/]*@", "//***@", url)


def _valid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - reading it parses it
    except ValueError:
        return False
    return True


def _at_least(low: int) -> Check:
    return lambda value: "" if value >= low else f"must be at least {low}"


def _seconds(value: float) -> str:
    return "" if math.isfinite(value) and value > 0 else "must be a positive, finite number of seconds"


def _unless_empty(check: Check) -> Check:
    """``check`` for a setting whose empty value means "off"."""
    return lambda value: check(value) if value else ""


def _not_empty(value: str) -> str:
    return "" if value.strip() else "must not be empty"


def _address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "" if _HOST_NAME.fullmatch(value) else "is neither an IP address nor a host name"
    return ""


def _label_values(values: tuple[str, ...]) -> str:
    for value in values:
        problem = label_problem(value)
        if problem:
            return f"lists {value[:80]!r}, which cannot be a label value ({problem})"
    return ""


def _filesystem(value: str) -> str:
    try:
        psutil.disk_usage(value)
    except OSError as exc:
        return f"cannot be read as a filesystem ({exc.strerror or exc})"
    return ""


def _level(value: str) -> str:
    return "" if value.upper() in LEVELS else f"is not a log level ({', '.join(LEVELS)})"


def _loki_url(value: str) -> str:
    problem = url_problem(value)
    return f"{problem}: {LOKI_URL_FORMS}" if problem else ""


def _tenant(value: str) -> str:
    return "" if _TENANT.fullmatch(value) and value not in (".", "..") else "is not a Loki tenant id (up to 150 of A-Z a-z 0-9 ! - _ . * ' ( ))"


def _username(value: str) -> str:
    return "must not contain ':' (basic auth splits user and password there)" if ":" in value else ""


def _readable_file(value: str) -> str:
    path = Path(value)
    return "" if path.is_file() and os.access(path, os.R_OK) else "is not a readable file"


def _batch_bytes(value: int) -> str:
    if value > LOKI_BATCH_MAX:
        return f"is over {LOKI_BATCH_MAX}: Loki refuses pushes past its 4 MiB gRPC message limit"
    return _at_least(1)(value)


def _writable_folder(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def _spool_dir(value: str) -> str:
    """A directory the spool may use, or create inside an existing one."""
    path = Path(value)
    if path.exists():
        return "" if _writable_folder(path) else "is not a writable directory"
    return "" if _writable_folder(path.parent) else f"cannot be created: {path.parent} is not a writable directory"


def _audit_file(value: str) -> str:
    """A file the audit log may append to, in a folder that exists: a typo must not create a new tree."""
    path = Path(value)
    if path.is_dir():
        return "is a directory, not a file"
    return "" if _writable_folder(path.parent) else f"is in {path.parent}, which is not a writable directory"


#: The check of each Config field (a test keeps this in step with the fields).
CHECKS: dict[str, Check] = {
    "service": _not_empty,
    "env": _not_empty,
    "metrics_addr": _address,
    "metrics_port": lambda value: "" if 0 <= value <= 65535 else "is not a TCP port (0-65535)",
    "metrics_tls_cert_file": _unless_empty(_readable_file),
    "metrics_tls_key_file": _unless_empty(_readable_file),
    "metrics_username": _username,
    "metrics_password_file": _unless_empty(_readable_file),
    "label_cap": _at_least(1),
    "strategies": _label_values,
    "symbols": _label_values,
    "disk_path": _filesystem,
    "log_level": _level,
    "health_window_seconds": _seconds,
    "stale_after_seconds": _seconds,
    "loki_url": _unless_empty(_loki_url),
    "loki_tenant": _unless_empty(_tenant),
    "loki_username": _username,
    "loki_password_file": _unless_empty(_readable_file),
    "loki_queue_lines": _at_least(1),
    "loki_queue_bytes": _at_least(1),
    "loki_batch_bytes": _batch_bytes,
    "loki_batch_seconds": _seconds,
    "loki_timeout_seconds": _seconds,
    "loki_retry_seconds": _seconds,
    "loki_max_line_bytes": _at_least(1),
    "loki_max_age_seconds": _seconds,
    "loki_close_seconds": _seconds,
    "loki_spool_dir": _unless_empty(_spool_dir),
    "loki_spool_bytes": _at_least(1),
    "audit_path": _unless_empty(_audit_file),
    "audit_max_bytes": _at_least(1),
    "audit_backups": _at_least(0),
}


#: Settings that are given together or not at all, and why.
PAIRS = (
    ("metrics_tls_cert_file", "metrics_tls_key_file", "TLS serves the certificate with its key"),
    ("metrics_username", "metrics_password_file", "basic auth checks both"),
    ("loki_username", "loki_password_file", "basic auth sends both"),
)


def pair_problems(values: Mapping[str, Any], named: Callable[[str], str]) -> list[tuple[str, str]]:
    """(field, problem) for settings that are fine alone but not together; ``named`` describes the other field."""
    problems = []
    if values["loki_queue_bytes"] < values["loki_max_line_bytes"]:
        problems.append(("loki_queue_bytes", f"cannot hold one line of {named('loki_max_line_bytes')}"))
    for first, second, why in PAIRS:
        for one, other in ((first, second), (second, first)):
            if values[one] and not values[other]:
                problems.append((one, f"needs {other} ({why})"))
    return problems
