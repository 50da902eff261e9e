"""Fixtures of the end-to-end scenarios: one stack per test module, and the latency table at session end."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from testbed.e2e.pipeline import LATENCIES, table
from testbed.e2e.stack import Stack, render_stack
from testbed.servers import TestBed


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, testbed_factory: Callable[[str], TestBed], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A bed of its own for the module: VictoriaLogs, Alertmanager and Prometheus on the e2e rendering, market open now, the scripted bot."""
    name = "e2e-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    rendered = render_stack(tmp_path_factory.mktemp(f"{name}-config"))
    bed = testbed_factory(name)
    stack = Stack(bed, rendered)
    yield stack
    stack.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each scenario's event → first notification latency per receiver, and the pipeline overhead."""
    if LATENCIES:
        terminalreporter.write_sep("-", "e2e: event → first notification (seconds; overhead = condition → notice minus for and group_wait)")
        for line in table():
            terminalreporter.write_line(line)
