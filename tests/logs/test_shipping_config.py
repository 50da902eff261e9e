"""Shipping settings that cannot work fail at start-up with ConfigError, never later in the trading path (loki_url: tests/exporter/test_loki_url.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from logs_helpers import config

from quantwatch import ConfigError
from quantwatch.shipper import Shipper


def test_batch_over_lokis_grpc_limit_fails_at_start() -> None:
    """loki_batch_bytes past 2 MiB raises ConfigError: Loki answers 500 to a push past its 4 MiB gRPC message limit, which would be retried forever."""
    with pytest.raises(ConfigError, match="loki_batch_bytes"):
        config("http://127.0.0.1:1", loki_batch_bytes=4 * 1024 * 1024)


def test_missing_password_file_fails_at_start(tmp_path: Path) -> None:
    """An unreadable loki_password_file raises ConfigError naming it, at start-up."""
    with pytest.raises(ConfigError, match="loki_password_file"):
        Shipper(config("http://127.0.0.1:1", loki_username="bot", loki_password_file=str(tmp_path / "absent")))
