"""`make up` (compose/stack.sh): pre-flight, secrets, waiting for health, naming the service that fails.

No Docker engine runs here, so a stand-in `docker` on PATH plays the CLI: it answers `info`,
`compose ...` and `inspect` from a script of container states and records every call.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaleout.pki import generate

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "compose" / "stack.sh"
SERVICES = ["prometheus", "alertmanager", "loki", "grafana", "bot", "mailpit"]

FAKE_DOCKER = """\
import json, os, sys
state_path = os.environ["FAKE_DOCKER_STATE"]
state = json.load(open(state_path))
args = sys.argv[1:]
with open(state["calls"], "a") as calls:
    calls.write(" ".join(args) + "\\n")
def done(code=0, out=""):
    if out:
        print(out)
    json.dump(state, open(state_path, "w"))
    sys.exit(code)
if args[0] == "info":
    done(0 if state["engine"] else 1)
if args[0] == "inspect":
    states = state["health"][args[-1].removeprefix("id-")]
    done(0, states.pop(0) if len(states) > 1 else states[0])
if args[0] == "compose":
    if args[1] == "version":
        done(0 if state["compose"] else 1, "Docker Compose version v5.6.0")
    if "--services" in args:
        done(0, "\\n".join(state["health"]))
    if "ps" in args and "-q" in args:
        done(0, "id-" + args[-1])
    if "logs" in args:
        done(0, "last log line of " + args[-1])
    if "up" in args:
        done(state["up_rc"])
    done(0)
done(2)
"""


def _run(
    tmp_path: Path,
    *,
    command: str = "up",
    engine: bool = True,
    compose: bool = True,
    up_rc: int = 0,
    health: dict[str, list[str]] | None = None,
    timeout: int = 20,
    profile: str = "",
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(f"#!{sys.executable}\n{FAKE_DOCKER}")
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.log"
    calls.write_text("")
    state: dict[str, Any] = {
        "engine": engine,
        "compose": compose,
        "up_rc": up_rc,
        "calls": str(calls),
        "health": health or {service: ["running/starting", "running/healthy"] for service in SERVICES},
    }
    (tmp_path / "state.json").write_text(json.dumps(state))
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FAKE_DOCKER_STATE": str(tmp_path / "state.json"),
        "QW_SECRETS_DIR": str(tmp_path / "secrets"),
        "QW_UP_POLL": "0.05",
        "QW_UP_TIMEOUT": str(timeout),
        "QW_PROFILE": profile,
    }
    run = subprocess.run([str(STACK), command], capture_output=True, text=True, env=env, timeout=60, check=False)
    return run, calls.read_text().splitlines()


def test_no_engine_stops_before_compose(tmp_path: Path) -> None:
    """Without a Docker engine, up says so and calls no compose command."""
    run, calls = _run(tmp_path, engine=False)
    assert run.returncode == 1
    assert "no Docker engine answers" in run.stderr
    assert calls == ["info"]


def test_compose_v2_is_required(tmp_path: Path) -> None:
    """With an engine but no compose v2, up says what to install."""
    run, _ = _run(tmp_path, compose=False)
    assert run.returncode == 1
    assert "Docker Compose v2 is missing" in run.stderr


def test_healthy_stack_prints_the_urls_and_where_the_password_is(tmp_path: Path) -> None:
    """All services turning healthy: up waits for them, then prints the Grafana and Mailpit URLs and the password file."""
    run, calls = _run(tmp_path)
    assert run.returncode == 0, run.stderr
    secrets = tmp_path / "secrets"
    assert "http://127.0.0.1:3000" in run.stdout
    assert "http://127.0.0.1:8025" in run.stdout
    assert str(secrets / "grafana_admin_password") in run.stdout
    assert "waiting" in run.stderr
    assert "all services healthy" in run.stderr
    up = next(call for call in calls if " up " in f" {call} ")
    assert f"--env-file {REPO}/compose/versions.env" in up
    assert "--detach --build" in up


def test_secrets_are_generated_once_privately(tmp_path: Path) -> None:
    """The first run writes a random admin password and placeholders (folder 0700); later runs keep them."""
    _run(tmp_path)
    secrets = tmp_path / "secrets"
    password = (secrets / "grafana_admin_password").read_text()
    assert len(password) == 24
    assert password.isalnum()
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert {p.name for p in secrets.iterdir()} == {
        "grafana_admin_password",
        "grafana_secret_key",
        "slack_webhook_url",
        "smtp_password",
        "alert_webhook_url",
        "heartbeat_url",
    }
    run, _ = _run(tmp_path)
    assert (secrets / "grafana_admin_password").read_text() == password
    assert "Generated" not in run.stderr


def test_secret_names_match_what_the_configs_read(tmp_path: Path) -> None:
    """Every compose secret is a file the pre-flight creates, so a fresh clone starts."""
    _run(tmp_path)
    declared = yaml.safe_load((REPO / "compose" / "compose.yaml").read_text())["secrets"]
    assert {Path(s["file"]).name for s in declared.values()} == {p.name for p in (tmp_path / "secrets").iterdir()}


@pytest.mark.parametrize(
    ("up_rc", "loki"),
    [(0, ["running/starting", "running/unhealthy"]), (1, ["running/unhealthy"])],
    ids=["after-compose-up", "compose-up-fails-on-it"],
)
def test_unhealthy_service_is_named_with_its_logs(tmp_path: Path, up_rc: int, loki: list[str]) -> None:
    """A service that turns unhealthy (while compose up waits for it, or after) is named, with its last log lines."""
    health = {service: ["running/healthy"] for service in SERVICES} | {"loki": loki}
    run, calls = _run(tmp_path, up_rc=up_rc, health=health)
    assert run.returncode == 1
    assert "loki is running/unhealthy" in run.stderr
    assert "last log line of loki" in run.stderr
    assert any("logs" in call and call.endswith("loki") for call in calls)


def test_timeout_names_the_services_still_starting(tmp_path: Path) -> None:
    """A service that never turns healthy ends the wait after QW_UP_TIMEOUT with its name and logs."""
    health = {service: ["running/healthy"] for service in SERVICES} | {"grafana": ["running/starting"]}
    run, _ = _run(tmp_path, health=health, timeout=1)
    assert run.returncode == 1
    assert "grafana is not healthy after 1s" in run.stderr
    assert "last log line of grafana" in run.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [("down", "down --remove-orphans"), ("logs", "logs --follow --tail 100"), ("ps", "ps --all")],
)
def test_down_logs_ps_run_compose_on_the_stack(tmp_path: Path, command: str, expected: str) -> None:
    """make down/logs/ps run compose on this stack's file and pins; down never removes the named volumes."""
    run, calls = _run(tmp_path, command=command)
    assert run.returncode == 0, run.stderr
    [call] = [call for call in calls if call.split()[:2] != ["compose", "version"] and call.startswith("compose")]
    assert f"--env-file {REPO}/compose/versions.env -f {REPO}/compose/compose.yaml {expected}" in call
    assert not {"-v", "--volumes"} & set(call.split())


def test_ha_profile_needs_its_tls_material(tmp_path: Path) -> None:
    """make up PROFILE=ha without scaleout.pki's secrets stops before compose, naming what to run."""
    run, calls = _run(tmp_path, profile="ha")
    assert run.returncode == 1
    assert "has no TLS material: run 'make up PROFILE=ha'" in run.stderr
    assert not [call for call in calls if call.startswith("compose") and "up" in call.split()]


def test_ha_profile_runs_its_own_compose_file(tmp_path: Path) -> None:
    """With the profile's secrets, up runs compose.ha.yaml, writes a placeholder for Loki's object-storage keys, and every declared secret exists."""
    generate(tmp_path / "secrets" / "ha")
    run, calls = _run(tmp_path, profile="ha", health={"thanos-query": ["running/healthy"]})
    assert run.returncode == 0, run.stderr
    assert any(f"-f {REPO}/compose/compose.ha.yaml up --detach" in call for call in calls)
    assert "aws_access_key_id" in (tmp_path / "secrets" / "ha" / "loki_s3_credentials").read_text()
    declared = yaml.safe_load((REPO / "compose" / "compose.ha.yaml").read_text())["secrets"]
    written = {str(p.relative_to(tmp_path)) for p in (tmp_path / "secrets").rglob("*") if p.is_file()}
    assert {s["file"].removeprefix("../") for s in declared.values()} <= written, "a secret the profile declares that nothing creates"


def test_an_unknown_profile_is_named(tmp_path: Path) -> None:
    """A profile without its compose file is refused with the file it looked for."""
    run, _ = _run(tmp_path, profile="huge")
    assert run.returncode == 1
    assert "no profile 'huge'" in run.stderr
