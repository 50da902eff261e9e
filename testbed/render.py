"""The one mapping from the compose network to a local test bed.

The repository's server configs are written for compose: services reach each other as
``prometheus:9090``, keep data under volumes such as ``/loki`` and read secrets from
``/run/secrets/NAME``. A test bed runs the same files with exactly two kinds of change:

- a compose endpoint ``service:port`` becomes ``127.0.0.1:LOCAL_PORT``;
- a container path (a data volume, a mounted config folder, the secrets folder) becomes a local
  directory.

Nothing else is touched, which :func:`unrender` lets a test prove: unrendering a rendered file gives
back the original byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field
from pathlib import Path

from .ports import LOCAL_HOST

#: Every compose endpoint a config may name, as ``service:port`` (compose/ defines the services).
ENDPOINTS = (
    "bot:8000",
    "prometheus:9090",
    "alertmanager:9093",
    "loki:3100",
    "grafana:3000",
    "mailpit:1025",
    "mailpit:8025",
)

#: Every container path a config or a server's flags may name: data volumes, mounted config
#: folders (each service's folder of the repository, read-only) and compose secrets.
CONTAINER_PATHS = (
    "/prometheus",
    "/alertmanager",
    "/loki",
    "/etc/prometheus",
    "/etc/alertmanager",
    "/etc/loki",
    "/run/secrets",
    "/var/lib/quantwatch",
)


def _endpoint_pattern(endpoint: str) -> re.Pattern[str]:
    # A whole host:port token: not part of a longer host name, not followed by more port digits.
    return re.compile(rf"(?<![\w.-]){re.escape(endpoint)}(?!\d)")


def _path_pattern(path: str) -> re.Pattern[str]:
    # A path at the start of a value: "/loki/chunks" or "/loki", but not the "/loki/api/v1/push"
    # that follows a host in a URL, nor "/etc/loki" when mapping "/loki".
    return re.compile(rf"(?<![\w.:/-]){re.escape(path)}(?![\w.-])")


@dataclass(frozen=True)
class Mapping:
    """Where each compose endpoint and container path lives in one test bed.

    >>> m = Mapping(ports={"loki:3100": 41000}, paths={"/loki": Path("/tmp/bed/loki")})
    >>> m.render("url: http://loki:3100/loki/api/v1/push\\npath_prefix: /loki\\n")
    'url: http://127.0.0.1:41000/loki/api/v1/push\\npath_prefix: /tmp/bed/loki\\n'

    Endpoints and paths left out of the mapping stay as they are.
    """

    ports: AbstractMapping[str, int]
    paths: AbstractMapping[str, Path] = field(default_factory=dict)
    host: str = LOCAL_HOST
    #: Every endpoint and container path a config may name: the single-host stack's unless another
    #: compose file is rendered (the HA profile, testbed/ha.py).
    known: frozenset[str] = frozenset(ENDPOINTS + CONTAINER_PATHS)

    def __post_init__(self) -> None:
        unknown = (set(self.ports) | set(self.paths)) - self.known
        if unknown:
            raise ValueError(f"not compose endpoints or container paths: {sorted(unknown)}")
        if len(set(self.ports.values())) != len(self.ports):
            raise ValueError(f"two endpoints share a local port: {dict(self.ports)}")

    def address(self, endpoint: str) -> str:
        """The local ``host:port`` standing for a compose endpoint."""
        return f"{self.host}:{self.ports[endpoint]}"

    def url(self, endpoint: str) -> str:
        """``http://`` plus :meth:`address`."""
        return f"http://{self.address(endpoint)}"

    def path(self, container_path: str) -> Path:
        """The local directory standing for a container path."""
        return self.paths[container_path]

    def _pairs(self) -> list[tuple[str, str, re.Pattern[str]]]:
        pairs = [(e, self.address(e), _endpoint_pattern(e)) for e in self.ports]
        pairs += [(p, str(local), _path_pattern(p)) for p, local in self.paths.items()]
        return pairs

    def render(self, text: str) -> str:
        """Replace the mapped endpoints and container paths in ``text``; nothing else."""
        for _, local, pattern in self._pairs():
            text = pattern.sub(local.replace("\\", "\\\\"), text)
        return text

    def unrender(self, text: str) -> str:
        """The inverse of :meth:`render`, for tests that prove nothing else changed."""
        # Longest local value first, so a path is never undone through a prefix of it.
        for original, local, _ in sorted(self._pairs(), key=lambda p: -len(p[1])):
            text = text.replace(local, original)
        return text

    def mirror(self, folder: Path, dest: Path, overrides: AbstractMapping[str, Path] | None = None) -> None:
        """Stand in for a bind mount of ``folder`` at ``dest``: its files rendered, its subfolders linked.

        Configs name files relative to themselves or under their mount (Prometheus
        ``rule_files: [rules/*.yml]``, Alertmanager templates), so the whole folder is mirrored.
        ``overrides`` replaces or adds entries by name: a test's own config file or rules folder.
        """
        dest.mkdir(parents=True, exist_ok=True)
        entries = {p.name: p for p in folder.iterdir()} | dict(overrides or {})
        for name, source in sorted(entries.items()):
            target = dest / name
            if target.is_symlink() or target.is_file():
                target.unlink()
            if source.is_dir():
                target.symlink_to(source.resolve())
            else:
                target.write_text(self.render(source.read_text()))
