"""Validate compose/compose.yaml and compose.ha.yaml: a real compose implementation first, then the stack's own rules.

``python compose/check_compose.py [COMPOSE_BINARY]`` (default: the one compose/install-compose.sh
gives). Findings print as ``compose/compose.yaml:LINE: message``; the exit code is 1 if any.

Rules beyond the compose schema: image tags come from versions.env; every service has a
healthcheck, a restart policy and CPU and memory limits; only Grafana and Mailpit publish a port, on
127.0.0.1; bind mounts are read-only folders of the repository; data sits in named volumes; every
secret is a file under secrets/ handed to the service that reads it, and no secret is inline.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COMPOSE_FILE = HERE / "compose.yaml"
#: The single-host stack and the HA profile (docs/scale-out.md): both are checked.
COMPOSE_FILES = (COMPOSE_FILE, HERE / "compose.ha.yaml")
VERSIONS = HERE / "versions.env"
#: Services whose UI may be published, and only on the loopback address.
PUBLISHED = {"grafana", "mailpit"}
#: Image repository → the versions.env pin its tag must carry (every service running that image).
PINS = {
    "prom/prometheus": "PROMETHEUS_VERSION",
    "prom/alertmanager": "ALERTMANAGER_VERSION",
    "grafana/loki": "LOKI_VERSION",
    "grafana/grafana": "GRAFANA_VERSION",
    "axllent/mailpit": "MAILPIT_VERSION",
    "thanosio/thanos": "THANOS_VERSION",
}
#: Where the services of an image read the /run/secrets/NAME files they need.
SECRET_READERS = {"prom/alertmanager": REPO / "alertmanager"}
SECRET_REF = re.compile(r"/run/secrets/([\w.-]+)")
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|WEBHOOK", re.IGNORECASE)


def versions(path: Path = VERSIONS) -> dict[str, str]:
    """The NAME=VALUE pins of versions.env."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pins[name.strip()] = value.strip()
    return pins


class Source:
    """compose.yaml as YAML nodes, to turn a path such as services.grafana.ports into a line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = yaml.compose(path.read_text(encoding="utf-8"))

    def line(self, *keys: str | int) -> int:
        """1-based line of the deepest key (or list item) of ``keys`` that exists."""
        node = self.root
        found = node.start_mark.line if node is not None else 0
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                pair = next(((name, value) for name, value in node.value if name.value == key), None)
                if pair is None:
                    break
                found, node = pair[0].start_mark.line, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                found = node.start_mark.line
            else:
                break
        return found + 1


def resolved(compose: str, path: Path = COMPOSE_FILE) -> tuple[dict[str, Any] | None, str]:
    """The model compose resolves (interpolated, defaults filled), or None and compose's error."""
    # Relative paths resolve against compose/, wherever the file under test lies.
    argv = [compose, "--project-directory", str(HERE), "--env-file", str(VERSIONS), "-f", str(path), "config", "--format", "json"]
    run = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv, no shell
    if run.returncode != 0:
        return None, run.stderr.strip() or run.stdout.strip()
    return json.loads(run.stdout), ""


def compose_errors(message: str, source: Source) -> Iterator[tuple[int, str]]:
    """compose's error text, each line placed at the line of the key path it names."""
    for text in message.splitlines():
        keys = re.search(r"\b((?:services|volumes|secrets|networks)(?:\.[\w-]+)+)", text)
        line = source.line(*keys.group(1).split(".")) if keys else 1
        yield line, text


def policy(model: dict[str, Any], source: Source, pins: dict[str, str]) -> Iterator[tuple[int, str]]:
    """The stack's own rules on a resolved model."""
    for name, service in sorted(model.get("services", {}).items()):
        yield from _service(name, service, source, pins)
    for name, secret in sorted(model.get("secrets", {}).items()):
        file = Path(secret.get("file", ""))
        if not file.is_relative_to(REPO / "secrets"):
            yield source.line("secrets", name), f"secret {name} must be a file under secrets/ (git-ignored), not {file}"


def _service(name: str, service: dict[str, Any], source: Source, pins: dict[str, str]) -> Iterator[tuple[int, str]]:
    at = source.line("services", name)
    image = str(service.get("image", ""))
    pin = PINS.get(image.rpartition(":")[0])
    if pin and not image.endswith(pins.get(pin, "<unpinned>")):
        yield source.line("services", name, "image"), f"{name}: image {image} must be tagged ${{{pin}}} from versions.env"
    if not service.get("healthcheck", {}).get("test"):
        yield at, f"{name}: needs a healthcheck"
    if service.get("restart") not in {"always", "unless-stopped", "on-failure"}:
        yield at, f"{name}: needs a restart policy"
    limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
    if not limits.get("cpus") or not limits.get("memory"):
        yield at, f"{name}: needs deploy.resources.limits cpus and memory"
    for index, port in enumerate(service.get("ports", [])):
        if name not in PUBLISHED or port.get("host_ip") != "127.0.0.1":
            yield source.line("services", name, "ports", index), f"{name}: only {sorted(PUBLISHED)} may publish a port, and only on 127.0.0.1"
    for index, volume in enumerate(service.get("volumes", [])):
        if volume.get("type") == "bind" and (not volume.get("read_only") or not Path(volume["source"]).is_relative_to(REPO)):
            yield source.line("services", name, "volumes", index), f"{name}: bind mount {volume['source']} must be a repository folder, read-only"
    yield from _secrets(name, service, source)


def _secrets(name: str, service: dict[str, Any], source: Source) -> Iterator[tuple[int, str]]:
    given = {secret["source"] for secret in service.get("secrets", [])}
    for variable, value in sorted(service.get("environment", {}).items()):
        # A *_FILE variable naming a compose secret (Grafana's __FILE, quantwatch's *_PASSWORD_FILE) holds a path, not a secret.
        if SECRET_WORDS.search(variable) and not (variable.endswith("_FILE") and SECRET_REF.search(str(value or ""))):
            yield source.line("services", name, "environment", variable), f"{name}: {variable} looks like an inline secret: use a compose secret"
        for secret in SECRET_REF.findall(str(value or "")):
            if secret not in given:
                yield source.line("services", name, "environment", variable), f"{name}: {variable} reads secret {secret}, which the service is not given"
    reader = SECRET_READERS.get(str(service.get("image", "")).rpartition(":")[0])
    if reader is not None:
        for config in sorted(reader.glob("*.y*ml")):
            for secret in sorted(set(SECRET_REF.findall(config.read_text(encoding="utf-8"))) - given):
                yield (
                    source.line("services", name, "secrets"),
                    f"{name}: {config.relative_to(REPO)} reads /run/secrets/{secret}, which the service is not given",
                )


def check(compose: str, path: Path = COMPOSE_FILE) -> list[str]:
    """Every finding as ``file:line: message``."""
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    try:
        source = Source(path)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        return [f"{shown}:{line}: {error.problem} ({error.context or 'YAML syntax'})"]
    model, message = resolved(compose, path)
    found = compose_errors(message, source) if model is None else policy(model, source, versions())
    return [f"{shown}:{line}: {message}" for line, message in found]


def main(argv: list[str]) -> int:
    """Check with the given compose binary, else the pinned one."""
    if argv:
        compose = argv[0]
    else:
        compose = subprocess.run([str(HERE / "install-compose.sh")], capture_output=False, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()  # noqa: S603
    failed = False
    for path in COMPOSE_FILES:
        problems = check(compose, path)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{path.name}: {len(problems)} problems (checked with {compose})", file=sys.stderr if problems else sys.stdout)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
