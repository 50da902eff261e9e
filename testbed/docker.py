"""The Docker backend: compose's images (tags from compose/versions.env) instead of the native binaries.

Containers share the host's network, so they take exactly the arguments and rendered configs of
the native backend: they listen on 127.0.0.1 at the bed's ports and reach the bot and the stand-ins
there too. The bed's folder and the repository are mounted at their own paths, so every rendered
path holds inside the container. Host networking needs a Linux engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .binaries import REPO, pins
from .compose import service


def image(server: str) -> str:
    """Compose's pinned image of ``server``; VictoriaLogs, the bed's own log server, is not a compose service."""
    if server == "victorialogs":
        return f"victoriametrics/victoria-logs:v{pins()['victorialogs']}"
    return service(server).image


class DockerProcess:
    """One container of a pinned image; removed once it has stopped, its logs kept in ``log``."""

    def __init__(self, server: str, args: list[str], log: Path, bed_root: Path) -> None:
        from testcontainers.core.container import DockerContainer  # noqa: PLC0415 - imported only when Docker is used

        # The images run as unprivileged users: let them write the bed's data folders.
        for path in [bed_root, *bed_root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o777)
        self.log = log
        # Logs of earlier containers of this server (before a restart) stay at the top of the file.
        self._earlier = log.read_bytes() if log.exists() else b""
        container = DockerContainer(image(server)).with_command(args).with_kwargs(network_mode="host")
        container.with_volume_mapping(str(bed_root), str(bed_root), "rw").with_volume_mapping(str(REPO), str(REPO), "ro")
        # Configs link their siblings (say, a test's own rules folder): mount what the links point to.
        for target in {p.resolve() for p in bed_root.rglob("*") if p.is_symlink()}:
            if not target.is_relative_to(REPO) and not target.is_relative_to(bed_root):
                container.with_volume_mapping(str(target), str(target), "ro")
        self._container: Any = container.start()
        self._wrapped: Any = self._container.get_wrapped_container()
        self._exit_code: int | None = None

    @property
    def pid(self) -> int | None:
        if self._exit_code is not None:
            return None
        self._wrapped.reload()
        return int(self._wrapped.attrs["State"]["Pid"]) or None

    def exit_code(self) -> int | None:
        if self._exit_code is None:
            self._wrapped.reload()
            state = self._wrapped.attrs["State"]
            if not state["Running"]:
                self._remove(int(state["ExitCode"]))
        return self._exit_code

    def stop(self, timeout: float) -> None:
        if self._exit_code is None:
            self._wrapped.stop(timeout=int(timeout))
            self._remove(143)

    def kill(self) -> None:
        if self._exit_code is None:
            self._wrapped.kill()
            self._remove(137)

    def logs(self) -> str:
        if self._exit_code is None:
            self._save_logs()
        return self.log.read_text(errors="replace")

    def _save_logs(self) -> None:
        out, err = self._container.get_logs()
        self.log.write_bytes(self._earlier + out + err)

    def _remove(self, code: int) -> None:
        # Keep the logs, then remove the container: a restart starts a new one on the same data.
        self._save_logs()
        self._container.stop()
        self._exit_code = code


class DockerBackend:
    """Runs each server as a container of its pinned image (testcontainers)."""

    name = "docker"

    def __init__(self, bed_root: Path) -> None:
        self.bed_root = bed_root

    def spawn(self, server: str, args: list[str], log: Path) -> DockerProcess:
        return DockerProcess(server, args, log, self.bed_root)
