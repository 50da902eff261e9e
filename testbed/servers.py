"""Real servers on 127.0.0.1, run as compose runs them, from the repository's own configs.

A :class:`TestBed` is the compose network in miniature. Once, it picks a free local port for every
compose endpoint (``bot:8000``, ``prometheus:9090``, ...) and a folder for every container path
(``/prometheus``, ``/etc/prometheus``, ``/run/secrets``, ...): that is its one
:class:`~testbed.render.Mapping`. Each server then runs compose's own command line
(compose/compose.yaml), rendered through the mapping, plus a flag saying where to listen; its
mounted repository folder is mirrored with every config file rendered::

    bed = TestBed(tmp_path)
    bot = bed.start_bot()
    prometheus = bed.start_prometheus()     # scrapes the bot: bot:8000 is rendered to its port
    prometheus.restart()                    # same port, same data: fault tests
    logs = bed.start_victorialogs()         # the log server, where compose's loki:3100 points
    bed.close()                             # every server stopped by PID

Loki's Go module is AGPL and never built here: the bed's log server is VictoriaLogs, which takes
Loki's push protocol under ``/insert`` (:attr:`TestBed.loki_url`) and answers LogsQL, not LogQL.

Servers are native processes of the binaries ``make testbed`` builds (a missing one fails, never
skips), or containers of compose's images when the Docker backend is selected (see docker.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

from .binaries import REPO, binary
from .compose import service
from .poll import wait_until
from .ports import LOCAL_HOST, free_ports
from .render import CONTAINER_PATHS, ENDPOINTS, Mapping
from .standins import SmtpStandIn, WebhookReceiver

#: The compose services the bed runs from their repository configs, each with its endpoint and readiness path.
SERVERS = {"prometheus": ("prometheus:9090", "/-/ready"), "alertmanager": ("alertmanager:9093", "/-/ready")}
#: The repository's config of each server: the file compose passes as --config.file.
CONFIGS = {name: service(name).config for name in SERVERS}
#: VictoriaLogs answers where compose's Loki would: the bot's QUANTWATCH_LOKI_URL names this endpoint.
LOG_ENDPOINT = "loki:3100"
#: VictoriaLogs' flags in the bed: keep each JSON line whole in ``_msg`` (Loki stores the line as
#: sent; without this VictoriaLogs splits JSON into fields) and make rows queryable within about a
#: second of the push instead of the 5 s default.
VICTORIALOGS_FLAGS = ("-loki.disableMessageParsing", "-inmemoryDataFlushInterval=1s")
#: Executable of each server where it is not named after the server.
PROGRAMS = {"victorialogs": "victoria-logs"}
#: Seconds from start to ready before a server counts as broken; each is up in well under a second.
READY_TIMEOUT = {"prometheus": 60.0, "alertmanager": 30.0, "victorialogs": 30.0, "bot": 30.0}
STOP_TIMEOUT = 15.0
LOG_TAIL_LINES = 200


class Process(Protocol):
    """A started server, whichever backend runs it."""

    @property
    def pid(self) -> int | None: ...

    def exit_code(self) -> int | None:
        """None while it runs."""

    def stop(self, timeout: float) -> None:
        """Ask it to exit; kill it after ``timeout`` seconds."""

    def kill(self) -> None: ...

    def logs(self) -> str: ...


class Backend(Protocol):
    """Starts the three servers from their argument lists."""

    name: str

    def spawn(self, server: str, args: list[str], log: Path) -> Process: ...


class NativeProcess:
    """A child process whose output goes to a log file; stopped by its PID."""

    def __init__(self, argv: list[str], log: Path, env: AbstractMapping[str, str] | None = None) -> None:
        self.log = log
        with log.open("ab") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
            out.flush()
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def exit_code(self) -> int | None:
        return self._proc.poll()

    def stop(self, timeout: float) -> None:
        if self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        self._proc.kill()
        self._proc.wait()

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


class NativeBackend:
    """The binaries built by ``make testbed`` (testbed/build.sh), run as child processes."""

    name = "native"

    def spawn(self, server: str, args: list[str], log: Path) -> Process:
        return NativeProcess([str(binary(server, PROGRAMS.get(server))), *args], log)


def docker_answers() -> bool:
    """True when a Docker engine answers ``docker info``."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def select_backend(bed_root: Path, choice: str | None = None) -> Backend:
    """By ``choice`` or else ``QUANTWATCH_TESTBED``: ``native``, ``docker``, or unset for Docker when an engine answers."""
    choice = (os.environ.get("QUANTWATCH_TESTBED", "") if choice is None else choice).strip().lower()
    if choice not in ("", "native", "docker"):
        raise ValueError(f"QUANTWATCH_TESTBED={choice!r}: expected native or docker")
    if choice == "docker" or (choice == "" and docker_answers()):
        from .docker import DockerBackend  # noqa: PLC0415 - testcontainers is needed only with an engine

        return DockerBackend(bed_root)
    return NativeBackend()


class ServerFailed(RuntimeError):
    """A server exited or never became ready; the message carries its log's tail."""


@dataclass(frozen=True)
class StartRecord:
    """How long one start took, for the session's closing summary."""

    bed: str
    server: str
    backend: str
    seconds: float


#: Every start in this session, in order (printed by the pytest terminal summary).
STARTS: list[StartRecord] = []


class Server:
    """One server of a bed: its API at ``url``, started, stopped and restarted on the same port."""

    def __init__(
        self,
        bed: str,
        name: str,
        *,
        port: int,
        ready_path: str,
        log: Path,
        launch: Callable[[Path], Process],
        backend: str,
        session: requests.Session | None = None,
        ready_timeout: float | None = None,
    ) -> None:
        """``session``: the CA and credentials of a server served over https (its url is then https)."""
        self.bed = bed
        self.name = name
        self.port = port
        self.session = session or requests.Session()
        self.url = f"{'https' if session is not None else 'http'}://{LOCAL_HOST}:{port}"
        self.log = log
        self.ready_seconds: float | None = None
        self._ready_url = self.url + ready_path
        self._ready_timeout = READY_TIMEOUT[name] if ready_timeout is None else ready_timeout
        self._launch = launch
        self._backend = backend
        self._process: Process | None = None

    def __repr__(self) -> str:
        return f"<{self.name} {self.url} pid={self.pid} {'running' if self.running else 'stopped'}>"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.exit_code() is None

    def start(self, timeout: float | None = None) -> Server:
        """Start and wait until ready; raises ServerFailed with the log's tail."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        began = time.monotonic()
        self._process = self._launch(self.log)
        self.wait_ready(self._ready_timeout if timeout is None else timeout)
        self.ready_seconds = time.monotonic() - began
        STARTS.append(StartRecord(self.bed, self.name, self._backend, self.ready_seconds))
        return self

    def wait_ready(self, timeout: float) -> None:
        """Poll the readiness endpoint until it answers 200; fail at once if the server exits."""

        def ready() -> bool:
            code = self._process.exit_code() if self._process else None
            if code is not None:
                raise ServerFailed(f"{self.name} exited with code {code} before it was ready\n{self.log_tail(40)}")
            return self.session.get(self._ready_url, timeout=2).status_code == 200

        try:
            wait_until(ready, timeout, f"{self.name} ready at {self._ready_url}", retry_on=(requests.RequestException,))
        except TimeoutError as exc:
            raise ServerFailed(f"{exc}\n{self.log_tail(40)}") from None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop it (SIGTERM, then SIGKILL after ``timeout`` seconds); its data stays for a restart."""
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL: a crash, for fault tests."""
        if self._process is not None and self.running:
            self._process.kill()

    def restart(self, timeout: float | None = None) -> Server:
        """Stop, start on the same port with the same data, and wait until ready."""
        self.stop()
        return self.start(timeout)

    def log_text(self) -> str:
        return self._process.logs() if self._process else ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last {len(tail)} lines of the {self.name} log ({self.log}) ---\n" + "\n".join(tail)


#: Beds not yet closed: their server logs go into the report of a failing test.
OPEN_BEDS: list[TestBed] = []


class TestBed:
    """The compose network on 127.0.0.1: one mapping, stand-ins, and at most one server of each kind."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, backend: Backend | None = None, name: str = "bed") -> None:
        self.root = root
        self.name = name
        self.backend = backend or select_backend(root)
        self.smtp = SmtpStandIn().start()
        self.slack = WebhookReceiver().start()
        ports = dict(zip(ENDPOINTS, free_ports(len(ENDPOINTS)), strict=True)) | {"mailpit:1025": self.smtp.port}
        # Each container path becomes the same path under root/fs: a small container filesystem.
        paths = {p: root / "fs" / p.lstrip("/") for p in CONTAINER_PATHS}
        self.mapping = Mapping(ports=ports, paths=paths)
        for path in paths.values():
            path.mkdir(parents=True, exist_ok=True)
        self.servers: dict[str, Server] = {}
        OPEN_BEDS.append(self)

    def url(self, endpoint: str) -> str:
        """``http://127.0.0.1:PORT`` standing for a compose endpoint such as ``loki:3100``."""
        return self.mapping.url(endpoint)

    def start_prometheus(self, config: Path | None = None, rules_dir: Path | None = None) -> Server:
        """Prometheus; ``config`` replaces prometheus.yml, ``rules_dir`` the ``rules`` folder beside it."""
        overrides = {CONFIGS["prometheus"].name: config, "rules": rules_dir}
        return self._start_service("prometheus", {k: v for k, v in overrides.items() if v})

    def start_alertmanager(self, config: Path | None = None, secrets: AbstractMapping[str, str] | None = None) -> Server:
        """Alertmanager; ``config`` replaces alertmanager.yml, ``secrets`` sets compose secrets by name.

        Each compose secret of the service is written into the bed's /run/secrets: ``secrets[NAME]``
        if given, else for a name ending in ``_url`` the webhook receiver's URL plus ``/NAME`` (so
        a test tells receivers apart by path), else ``testbed-NAME``.
        """
        source = config or CONFIGS["alertmanager"]
        if not source.is_file():
            raise FileNotFoundError(
                f"{source} is missing: it is generated (`make generate`, the alerting rules and routes); "
                "the test bed runs only the repository's real Alertmanager config"
            )
        return self._start_service("alertmanager", {CONFIGS["alertmanager"].name: source}, secrets or {})

    @property
    def loki_url(self) -> str:
        """The ``loki_url`` that ships to this bed's log server: VictoriaLogs serves Loki's push API under ``/insert``."""
        return self.url(LOG_ENDPOINT) + "/insert"

    def start_victorialogs(self, *flags: str) -> Server:
        """VictoriaLogs at the bed's ``loki:3100`` port, data in the bed; ``flags`` add to or override its defaults.

        Faults come from the server's own flags, e.g. ``-loki.maxRequestSize=1000`` (400 for a bigger
        body), ``-storage.minFreeDiskSpaceBytes=1E18`` (read-only: 429), ``-maxConcurrentInserts=1``
        with ``-insert.maxQueueDuration=1ms`` (503 when busy).
        """
        self._claim("victorialogs")
        args = [
            f"-storageDataPath={self.root / 'victorialogs-data'}",
            f"-httpListenAddr={self.mapping.address(LOG_ENDPOINT)}",
            *VICTORIALOGS_FLAGS,
            *flags,
        ]
        backend = self.backend
        return self._add_server("victorialogs", LOG_ENDPOINT, "/health", lambda log: backend.spawn("victorialogs", args, log), backend.name)

    def start_bot(self, *args: str) -> Server:
        """The demo bot (``python -m quantwatch.demo``, as compose's image runs it) with ``args``, e.g. ``"--seed", "7"``.

        Its environment is compose's, rendered: it ships logs to the bed's log server (started or
        not: the exporter spools and retries) and keeps its spool and audit file in the bed's
        folder. Two things change: where it listens (the port ``bot:8000`` stands for, on
        127.0.0.1) and ``QUANTWATCH_LOKI_URL``, which gets VictoriaLogs' ``/insert`` prefix.
        """
        self._claim("bot")
        argv = [sys.executable, "-m", "quantwatch.demo", *args]
        env = dict(os.environ) | {key: self.mapping.render(value) for key, value in service("bot").environment.items()}
        env |= {"QUANTWATCH_METRICS_ADDR": LOCAL_HOST, "QUANTWATCH_METRICS_PORT": str(self.mapping.ports["bot:8000"]), "QUANTWATCH_LOKI_URL": self.loki_url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "exporter"), env.get("PYTHONPATH")]))
        return self._add_server("bot", "bot:8000", "/metrics", lambda log: NativeProcess(argv, log, env), "native")

    def close(self) -> None:
        """Stop every server (newest first) and the stand-ins; safe to call twice."""
        if self not in OPEN_BEDS:
            return
        try:
            for server in reversed(list(self.servers.values())):
                server.stop()
        finally:
            self.smtp.stop()
            self.slack.stop()
            OPEN_BEDS.remove(self)

    def log_sections(self) -> list[tuple[str, str]]:
        """(title, log tail) of each server, for a failing test's report."""
        return [(f"{self.name} {s.name} log", s.log_tail()) for s in self.servers.values()]

    def write_secrets(self, names: tuple[str, ...], given: AbstractMapping[str, str]) -> None:
        """Write compose secrets into the bed's /run/secrets, defaults as :meth:`start_alertmanager` says."""
        folder = self.mapping.path("/run/secrets")
        for name in names:
            default = f"{self.slack.url}/{name}" if name.endswith("_url") else f"testbed-{name}"
            (folder / name).write_text(given.get(name, default))

    def _listen_flags(self, name: str) -> list[str]:
        # Compose leaves each server on its default port on all interfaces; the bed says where.
        return [f"--web.listen-address={self.mapping.address(SERVERS[name][0])}"]

    def _start_service(self, name: str, overrides: AbstractMapping[str, Path], secrets: AbstractMapping[str, str] | None = None) -> Server:
        self._claim(name)
        spec = service(name)
        self.write_secrets(spec.secrets, secrets or {})
        for target, folder in spec.binds.items():
            self.mapping.mirror(folder, self.mapping.path(target), overrides)
        args = [self.mapping.render(arg) for arg in spec.command] + self._listen_flags(name)
        backend = self.backend
        endpoint, ready_path = SERVERS[name]
        return self._add_server(name, endpoint, ready_path, lambda log: backend.spawn(name, args, log), backend.name)

    def _claim(self, name: str) -> None:
        if name in self.servers:
            raise RuntimeError(f"{self.name} already has a {name}: use restart(), or another bed")

    def _add_server(self, name: str, endpoint: str, ready_path: str, launch: Callable[[Path], Process], backend: str) -> Server:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        server = Server(self.name, name, port=self.mapping.ports[endpoint], ready_path=ready_path, log=log, launch=launch, backend=backend)
        self.servers[name] = server
        return server.start()


def failure_sections() -> list[tuple[str, str]]:
    """Log tails of every server of every open bed, for the report of a failing test."""
    return [section for bed in OPEN_BEDS for section in bed.log_sections()]
