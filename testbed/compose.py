"""What compose runs, read from compose/compose.yaml: the test bed runs the same thing.

For each server the bed takes compose's image, command line, bind-mounted repository folders,
data volumes and secrets, so the stack and the tests cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .binaries import REPO, pins

COMPOSE_FILE = REPO / "compose" / "compose.yaml"
_VARIABLE = re.compile(r"\$\{(\w+)(?:[:?-][^}]*)?\}")


@dataclass(frozen=True)
class Service:
    """One compose service, as far as the test bed needs it."""

    name: str
    image: str
    command: tuple[str, ...]
    #: Container folder -> repository folder, for bind mounts of the repository.
    binds: dict[str, Path]
    #: Container folders of named volumes (data).
    volumes: tuple[str, ...]
    #: Names of the compose secrets, seen as /run/secrets/NAME.
    secrets: tuple[str, ...]
    environment: dict[str, str]

    @property
    def config(self) -> Path:
        """The repository file that compose passes as ``--config.file`` (or Loki's ``-config.file``)."""
        for arg in self.command:
            flag, _, value = arg.partition("=")
            for target, folder in self.binds.items():
                if flag.lstrip("-") == "config.file" and value.startswith(target + "/"):
                    return folder / value.removeprefix(target + "/")
        raise ValueError(f"compose service {self.name}: no --config.file under a bind mount in {self.command}")


@cache
def _services(path: Path) -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(path.read_text())["services"]
    return services


def service(name: str, path: Path = COMPOSE_FILE) -> Service:
    """The compose service ``name``, its image tag filled from compose/versions.env."""
    spec = _services(path)[name]
    command = spec.get("command", [])
    variables = {f"{server.upper()}_VERSION": version for server, version in pins().items()}
    binds: dict[str, Path] = {}
    volumes: list[str] = []
    for volume in spec.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            binds[target] = (path.parent / source).resolve()
        else:
            volumes.append(target)
    return Service(
        name=name,
        image=_VARIABLE.sub(lambda m: variables[m.group(1)], spec["image"]),
        command=tuple(shlex.split(command) if isinstance(command, str) else map(str, command)),
        binds=binds,
        volumes=tuple(volumes),
        secrets=tuple(s if isinstance(s, str) else s["source"] for s in spec.get("secrets", [])),
        environment=_environment(spec.get("environment", {})),
    )


def _environment(env: dict[str, Any] | list[str]) -> dict[str, str]:
    pairs = env.items() if isinstance(env, dict) else (item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in pairs}
