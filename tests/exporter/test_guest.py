"""quantwatch in someone else's process: importing it and making a Monitor leave the bot's logging and metrics as they were."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import generate_latest

from quantwatch import Monitor
from quantwatch.testing import capture

EXPORTER = Path(__file__).resolve().parents[2] / "exporter"

#: A bot with its own handler, levels and prometheus_client metrics, made before quantwatch is imported.
BOT = textwrap.dedent(
    """
    import io, json, logging
    from prometheus_client import CollectorRegistry, Counter, generate_latest

    registry = CollectorRegistry()
    orders = Counter("bot_orders", "Orders.", registry=registry)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.addLevelName(25, "NOTICE")

    def state():
        return [root.level, [type(h).__name__ for h in root.handlers], logging.getLogger("urllib3").level, logging.getLevelName(25)]

    before = state()
    import quantwatch
    after_import = state()
    mon = quantwatch.Monitor(service="condor-bot")
    after_monitor = state()
    fills = Counter("bot_fills", "Fills.", registry=registry)
    orders.inc()
    fills.inc()
    logging.getLogger("bot").warning("own line")
    logging.getLogger("urllib3").warning("hidden by the bot's level")
    mon.order_submitted("o-1", "ic", "SPY", "sell", 1)
    mon.trade_closed("ic", "SPY", "sell", 5.0)
    mon.close()
    print(json.dumps({
        "before": before, "after_import": after_import, "after_monitor": after_monitor,
        "bot_series": sorted(line.split(" ")[0] for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")),
        "lines": stream.getvalue().splitlines(),
    }))
    """
)


def test_import_and_monitor_leave_the_bots_logging_and_metrics_alone() -> None:
    """The bot's root level and handler, other loggers' levels, its level names and its _created series stay; our lines use its handler."""
    done = subprocess.run([sys.executable, "-c", BOT], env={"PYTHONPATH": str(EXPORTER)}, capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["after_import"] == seen["before"] == seen["after_monitor"] == [logging.WARNING, ["StreamHandler"], logging.ERROR, "NOTICE"]
    assert seen["bot_series"] == ["bot_fills_created", "bot_fills_total", "bot_orders_created", "bot_orders_total"]
    # INFO lines of quantwatch pass its own logger (log_level INFO) and reach the bot's handler, in the bot's format.
    assert seen["lines"] == ["WARNING bot own line", "AUDIT quantwatch.events order submitted", "NOTICE quantwatch.events trade closed"]
    assert done.stderr == ""


def test_json_on_stderr_is_asked_for_explicitly() -> None:
    """Monitor(log_to_stderr=True) is the one switch that puts quantwatch's JSON handler on the root logger, at log_level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    mon = Monitor(service="condor-bot", log_level="warning", log_to_stderr=True)
    try:
        (added,) = [h for h in root.handlers if h not in handlers]
        assert root.level == logging.WARNING
        stream = io.StringIO()
        added.setStream(stream)  # type: ignore[attr-defined]
        mon.trade_closed("ic", "SPY", "sell", 5.0)
        logging.getLogger("bot").warning("own line")
        assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["own line"]
    finally:
        mon.close()
        root.removeHandler(added)
        root.setLevel(level)


def test_quantwatch_families_have_no_created_series() -> None:
    """quantwatch's own exposition leaves out the _created samples of its counters and histograms, without the process-wide switch."""
    with capture() as cap:
        cap.monitor.order_submitted("o-1", "ic", "SPY", "sell", 1)
        cap.monitor.order_filled("o-1", latency_seconds=0.1)
        text = generate_latest(cap.monitor.registry).decode()
    assert "trading_orders_filled_total{" in text
    assert "_created" not in text
