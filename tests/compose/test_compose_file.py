"""compose/compose.yaml and compose.ha.yaml pass a real Docker Compose and the stack's rules; each broken rule is reported at its line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "compose" / "compose.yaml"
TEXT = COMPOSE_FILE.read_text()


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_compose", REPO / "compose" / "check_compose.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_compose"] = module
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


@pytest.fixture(scope="module")
def compose_bin() -> str:
    """The pinned Docker Compose (built from its Go module and cached on first use)."""
    run = subprocess.run([str(REPO / "compose" / "install-compose.sh")], capture_output=True, text=True, check=False, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.strip()


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.servers  # the pinned docker-compose, built by make testbed
@pytest.mark.parametrize("path", checker.COMPOSE_FILES, ids=lambda path: path.name)
def test_compose_file_is_valid_and_follows_the_rules(compose_bin: str, path: Path) -> None:
    """`docker compose config` accepts the single-host stack and the HA profile with the pinned versions, and no stack rule is broken."""
    assert checker.check(compose_bin, path) == []


@pytest.mark.servers  # the pinned docker-compose, built by make testbed
def test_compose_version_is_the_pinned_one(compose_bin: str) -> None:
    """The validating compose is the COMPOSE_VERSION of versions.env."""
    version = subprocess.run([compose_bin, "version", "--short"], capture_output=True, text=True, check=True).stdout.strip()
    assert version.removeprefix("v") == checker.versions()["COMPOSE_VERSION"]


@pytest.mark.parametrize("path", checker.COMPOSE_FILES, ids=lambda path: path.name)
def test_image_tags_come_from_versions_env(path: Path) -> None:
    """Each server image is tagged with its versions.env variable, the pins the native test bed reads too."""
    services = yaml.safe_load(path.read_text())["services"]
    pinned = {name: checker.PINS.get(spec["image"].split(":")[0]) for name, spec in services.items()}
    for name, variable in pinned.items():
        assert variable is None or f"${{{variable}:?" in services[name]["image"], name
    assert {"prometheus", "alertmanager", "grafana", "mailpit"} <= {name.split("-")[0] for name, variable in pinned.items() if variable}
    assert set(checker.PINS.values()) <= set(checker.versions())


BROKEN = [
    # (replace this, with that, finding text, the line that must be named: the first line of `with that`)
    ("    ports:\n      - 127.0.0.1:${QW_GRAFANA_PORT", "    ports:\n      - 0.0.0.0:${QW_GRAFANA_PORT", "only ['grafana', 'mailpit'] may publish", "0.0.0.0"),
    (
        "      - --web.enable-lifecycle\n",
        "      - --web.enable-lifecycle\n    ports: ['9090:9090']\n",
        "only ['grafana', 'mailpit'] may publish",
        "ports: ['9090:9090']",
    ),
    ("      test: [CMD, /usr/bin/loki, -health]\n", "      disable: true\n", "loki: needs a healthcheck", "  loki:"),
    ('          cpus: "0.5"\n          memory: 256m\n\n  mailpit', '          cpus: "0.5"\n\n  mailpit', "bot: needs deploy.resources.limits", "  bot:"),
    (
        "prom/prometheus:v${PROMETHEUS_VERSION:?run compose with --env-file compose/versions.env}",
        "prom/prometheus:v3.0.0",
        "PROMETHEUS_VERSION",
        "prom/prometheus:v3.0.0",
    ),
    ("../provisioning/loki:/etc/loki:ro", "../provisioning/loki:/etc/loki", "must be a repository folder, read-only", "../provisioning/loki:/etc/loki"),
    (
        "      GF_PATHS_CONFIG: /etc/grafana/grafana.ini\n",
        "      GF_PATHS_CONFIG: /etc/grafana/grafana.ini\n      GF_SECURITY_ADMIN_PASSWORD: admin\n",
        "inline secret",
        "GF_SECURITY_ADMIN_PASSWORD: admin",
    ),
    ("    file: ../secrets/smtp_password", "    file: ../alertmanager/smtp_password", "under secrets/", "  smtp_password:\n    file: ../alertmanager"),
    ("      - heartbeat_url\n", "", "reads /run/secrets/heartbeat_url", "    secrets:\n      - slack_webhook_url"),
    ("      - grafana_secret_key\n", "", "GF_SECURITY_SECRET_KEY__FILE reads secret grafana_secret_key", "GF_SECURITY_SECRET_KEY__FILE"),
    ("  loki:\n    <<: *service\n", "  loki:\n    <<: *service\n    imagex: 1\n", "services.loki.imagex", "    imagex: 1"),
]


@pytest.mark.servers  # the pinned docker-compose, built by make testbed
@pytest.mark.parametrize("case", BROKEN, ids=[b[2][:40] for b in BROKEN])
def test_broken_file_is_reported_at_its_line(compose_bin: str, tmp_path: Path, case: tuple[str, str, str, str]) -> None:
    """Publishing a port, losing a healthcheck, limit, pin or secret, an inline secret, a schema error: each is named with its line."""
    old, new, finding, at = case
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    broken = tmp_path / "compose.yaml"
    broken.write_text(text)
    found = checker.check(compose_bin, broken)
    line = _line_of(text, at)
    assert any(finding in f and f.startswith(f"{broken}:{line}:") for f in found), (line, found)


@pytest.mark.servers  # the pinned docker-compose, built by make testbed
def test_yaml_syntax_error_names_the_line(compose_bin: str, tmp_path: Path) -> None:
    """A YAML syntax error is reported at the line where the parser gave up."""
    broken = tmp_path / "compose.yaml"
    text = TEXT.replace("  loki:\n", "  loki:\n   - [\n", 1)
    broken.write_text(text)
    # The parser notices the unclosed '[' two lines on, at the first token that cannot be in it.
    line = _line_of(text, "   - [") + 2
    assert checker.check(compose_bin, broken) == [f"{broken}:{line}: expected ',' or ']', but got '<scalar>' (while parsing a flow sequence)"]
