"""Fixtures of the test bed, a pytest plugin (tests/conftest.py loads it; see README.md, "Test bed").

Session-scoped: ``testbed_factory``, ``testbed`` and its servers ``bot``, ``prometheus``,
``alertmanager``, ``victorialogs``. Function-scoped: ``smtp`` and ``slack``, the default bed's stand-ins,
emptied for each test.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

import pytest

from .servers import STARTS, Server, TestBed, failure_sections
from .standins import SmtpStandIn, WebhookReceiver


@pytest.fixture(scope="session")
def testbed_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], TestBed]]:
    """``make(name)`` gives a new, isolated bed (own ports, data, stand-ins); all are closed at session end."""
    beds: list[TestBed] = []

    def make(name: str) -> TestBed:
        beds.append(TestBed(tmp_path_factory.mktemp(name), name=name))
        return beds[-1]

    yield make
    for bed in beds:
        bed.close()


@pytest.fixture(scope="session")
def testbed(testbed_factory: Callable[[str], TestBed]) -> TestBed:
    """The shared bed: tests that stop or reconfigure servers take their own from testbed_factory."""
    return testbed_factory("testbed")


@pytest.fixture(scope="session")
def bot(testbed: TestBed) -> Server:
    """The demo bot serving /metrics where the configs' bot:8000 points."""
    return testbed.start_bot("--seed", "7")


@pytest.fixture(scope="session")
def prometheus(testbed: TestBed) -> Server:
    return testbed.start_prometheus()


@pytest.fixture(scope="session")
def alertmanager(testbed: TestBed) -> Server:
    return testbed.start_alertmanager()


@pytest.fixture(scope="session")
def victorialogs(testbed: TestBed) -> Server:
    """The log server where the bot ships, in place of Loki (see testbed/README.md)."""
    return testbed.start_victorialogs()


@pytest.fixture
def smtp(testbed: TestBed) -> SmtpStandIn:
    """The SMTP stand-in behind mailpit:1025, with no messages yet."""
    testbed.smtp.reset()
    return testbed.smtp


@pytest.fixture
def slack(testbed: TestBed) -> WebhookReceiver:
    """The webhook receiver behind every ``*_url`` secret, with no requests and no faults yet."""
    testbed.slack.reset()
    return testbed.slack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the servers' logs to the report of a failing test that used the test bed."""
    report = yield
    if report.failed and "testbed_factory" in getattr(item, "fixturenames", ()):
        report.sections.extend(failure_sections())
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long each server took from start to ready."""
    if STARTS:
        terminalreporter.write_sep("-", "test bed: seconds from start to ready")
        for record in STARTS:
            terminalreporter.write_line(f"{record.bed:>12} {record.server:<13}{record.backend:<8}{record.seconds:6.2f}")
