"""Fixtures of the HA profile's scenarios: one profile per test module, and the measured figures at session end."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from testbed.e2e.stack import render_stack
from testbed.ha import FIGURES, HABed
from testbed.servers import TestBed


@pytest.fixture(scope="module")
def ha(request: pytest.FixtureRequest, testbed_factory: Callable[[str], TestBed], tmp_path_factory: pytest.TempPathFactory) -> Iterator[HABed]:
    """Every server of compose.ha.yaml on its own bed, ready; a module with ``PROFILE = "e2e"`` gets the alert spec's short waits."""
    name = "ha-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    bed = testbed_factory(name)
    if getattr(request.module, "PROFILE", "production") == "e2e":
        rendered = render_stack(tmp_path_factory.mktemp(f"{name}-config"))
        profile = HABed(bed, rules_dir=rendered.rules_dir, alertmanager_config=rendered.alertmanager)
    else:
        profile = HABed(bed)
    profile.start()
    yield profile
    bed.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each scale-out scenario's measured figures."""
    if FIGURES:
        terminalreporter.write_sep("-", "scale-out and HA profile: measured figures")
        for scenario, text in FIGURES:
            terminalreporter.write_line(f"{scenario:<22} {text}")
