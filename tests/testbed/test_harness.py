"""The harness fails loudly: a missing binary, a missing config or a dying server is an error with a way forward."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.binaries import MissingBinary, binary, pins
from testbed.docker import DockerBackend
from testbed.servers import NativeBackend, ServerFailed, TestBed, select_backend


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[TestBed]:
    bed = TestBed(tmp_path / "bed", backend=NativeBackend(), name="harness")
    yield bed
    bed.close()


def test_pins_name_every_server() -> None:
    """compose/versions.env pins every server of the bed (Prometheus, Alertmanager, VictoriaLogs) and compose's Loki."""
    assert {"prometheus", "alertmanager", "victorialogs", "loki"} <= set(pins())


def test_a_missing_binary_fails_with_the_make_testbed_hint(bed: TestBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting a server whose binary is not built raises MissingBinary naming `make testbed`: never a skip."""
    monkeypatch.setenv("QUANTWATCH_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("PROMETHEUS_BIN_DIR", raising=False)
    with pytest.raises(MissingBinary, match=r"make testbed"):
        binary("prometheus")
    with pytest.raises(MissingBinary, match=r"prometheus-" + pins()["prometheus"]):
        bed.start_prometheus()


def test_a_dying_server_fails_with_its_log(bed: TestBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that exits before it is ready raises ServerFailed at once, with its exit code and log."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "victoria-logs").write_text("#!/bin/sh\necho 'flag provided but not defined: -nope' >&2\nexit 1\n")
    (fake / "victoria-logs").chmod(0o755)
    monkeypatch.setenv("VICTORIALOGS_BIN_DIR", str(fake))
    with pytest.raises(ServerFailed, match=r"(?s)exited with code 1.*not defined: -nope"):
        bed.start_victorialogs("-nope")
    assert bed.servers["victorialogs"].running is False


def test_a_missing_alertmanager_config_is_an_error(bed: TestBed, tmp_path: Path) -> None:
    """Alertmanager runs only the repository's config: without it, starting fails naming the file."""
    with pytest.raises(FileNotFoundError, match=r"nowhere\.yml is missing"):
        bed.start_alertmanager(config=tmp_path / "nowhere.yml")


def test_secrets_are_written(bed: TestBed) -> None:
    """Each compose secret is written: a given value, else the webhook receiver for *_url, else a placeholder."""
    bed.write_secrets(("slack_url", "smtp_password", "given"), {"given": "value"})
    folder = bed.mapping.path("/run/secrets")
    assert (folder / "slack_url").read_text() == f"{bed.slack.url}/slack_url"
    assert (folder / "smtp_password").read_text() == "testbed-smtp_password"
    assert (folder / "given").read_text() == "value"


def test_backend_choice(tmp_path: Path) -> None:
    """QUANTWATCH_TESTBED picks the backend; anything but native or docker is refused."""
    assert isinstance(select_backend(tmp_path, "native"), NativeBackend)
    assert isinstance(select_backend(tmp_path, "docker"), DockerBackend)
    with pytest.raises(ValueError, match="expected native or docker"):
        select_backend(tmp_path, "podman")
