"""The local audit file: every AUDIT line and only those, written before the log call returns, rotated, failures counted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from quantwatch import AUDIT, AuditHandler, AuditLog, JsonFormatter, Monitor


def record(level: int, message: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "bot", "levelno": level, "levelname": logging.getLevelName(level), "msg": message})


def test_only_audit_lines_are_written_and_at_once(tmp_path: Path) -> None:
    """AUDIT records are in the file as JSON lines as soon as handle() returns; ERROR and INFO are not."""
    path = tmp_path / "audit" / "audit.jsonl"
    errors: list[None] = []
    handler = AuditHandler(AuditLog(path, 1 << 20), JsonFormatter("condor-bot", "prod"), lambda: errors.append(None))
    for level, message in ((AUDIT, "order submitted"), (logging.ERROR, "broker down"), (logging.INFO, "tick"), (AUDIT, "order filled")):
        if level >= handler.level:
            handler.handle(record(level, message))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["level"], line["message"]) for line in lines] == [("audit", "order submitted"), ("audit", "order filled")]
    assert {line["service"] for line in lines} == {"condor-bot"}
    handler.close()
    assert errors == []


def test_rotation_keeps_whole_lines_and_the_newest_backups(tmp_path: Path) -> None:
    """Past max_bytes the file moves to a timestamped name; only `backups` rotated files are kept; no line is split."""
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, max_bytes=100, backups=2)
    for i in range(12):
        audit.write(json.dumps({"n": i, "pad": "x" * 30}))
    audit.close()
    rotated = sorted(tmp_path.glob("audit.jsonl.*"))
    assert len(rotated) == 2
    assert all(p.name[len("audit.jsonl.") :].endswith("Z") for p in rotated)
    kept = [json.loads(line)["n"] for p in [*rotated, path] for line in p.read_text().splitlines()]
    assert kept == list(range(12 - len(kept), 12))
    assert all(p.stat().st_size <= 100 for p in [*rotated, path])


def test_failed_write_is_counted_not_raised(tmp_path: Path) -> None:
    """A write the disk refuses calls on_error once and raises nothing into the bot."""
    errors: list[None] = []
    audit = AuditLog(tmp_path / "audit.jsonl", 1 << 20)
    handler = AuditHandler(audit, JsonFormatter("condor-bot", "prod"), lambda: errors.append(None))
    audit.close()
    handler.handle(record(AUDIT, "order submitted"))
    assert errors == [None]


def test_monitor_writes_order_events_to_the_audit_file_without_loki(tmp_path: Path) -> None:
    """With audit_path set and no loki_url, order events still land in the audit file, counted errors stay zero."""
    path = tmp_path / "audit.jsonl"
    mon = Monitor(service="condor-bot", env="prod", log_to_stderr=False, audit_path=str(path))
    try:
        mon.order_submitted("o-1", strategy="iron_condor", symbol="SPY", side="sell", quantity=1)
        mon.trade_closed("iron_condor", "SPY", "sell", 12.5)
    finally:
        mon.close()
    (line,) = [json.loads(text) for text in path.read_text().splitlines()]
    assert (line["message"], line["order_id"]) == ("order submitted", "o-1")
    assert mon.registry.get_sample_value("quantwatch_audit_write_errors_total") == 0
    assert mon.log_outputs.loki is None
