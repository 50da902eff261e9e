"""Tenant and basic auth, checked by the real VictoriaLogs' own: -httpAuth.* credentials and numeric tenants (AccountID / X-Scope-OrgID)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from logs_helpers import LogServer, Sent, as_stored, offer_lines

from quantwatch.shipper import Shipper
from testbed.servers import TestBed

pytestmark = pytest.mark.servers

USER, PASSWORD = "bot", "s3cret"


@pytest.fixture(scope="module")
def guarded(testbed_factory: Callable[[str], TestBed]) -> Iterator[LogServer]:
    """A VictoriaLogs that asks for basic auth; the tests read it with the right credentials."""
    bed = testbed_factory("logs-auth")
    yield LogServer(bed, f"-httpAuth.username={USER}", f"-httpAuth.password={PASSWORD}", auth=(USER, PASSWORD))
    bed.close()


def password_file(folder: Path, password: str) -> str:
    """A loki_password_file holding ``password``, ending in a newline as secrets files often do."""
    path = folder / "loki_password"
    path.write_text(password + "\n")
    return str(path)


def test_right_password_and_tenant_deliver_to_that_tenant_only(guarded: LogServer, shippers: list[Shipper], tmp_path: Path) -> None:
    """With loki_username, the password file and loki_tenant 42 the lines are stored in tenant 42 and nowhere else."""
    shipper = Shipper(guarded.config(loki_tenant="42", loki_username=USER, loki_password_file=password_file(tmp_path, PASSWORD)))
    shippers.append(shipper)
    entries = offer_lines(shipper, 5)
    assert shipper.flush(timeout=5)
    service = shipper.labels["service"]
    assert guarded.stored(service, tenant="42") == as_stored(shipper, entries)
    assert guarded.stored(service) == []
    assert guarded.stored(service, tenant="7") == []


def test_wrong_password_is_refused_once_and_counted_rejected(guarded: LogServer, shippers: list[Shipper], pushes: list[Sent], tmp_path: Path) -> None:
    """A wrong password gets 401, a final answer: one request, every line counted rejected, nothing stored."""
    shipper = Shipper(guarded.config(loki_username=USER, loki_password_file=password_file(tmp_path, "wrong"), loki_batch_seconds=60))
    shippers.append(shipper)
    offer_lines(shipper, 4)
    assert shipper.flush(timeout=5)
    assert [sent.outcome.status for sent in pushes] == [401]
    stats = shipper.stats
    assert (stats.sent, stats.dropped["rejected"], stats.batches["rejected"], sum(stats.retries.values())) == (0, 4, 1, 0)
    assert guarded.stored(shipper.labels["service"]) == []
