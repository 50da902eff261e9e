"""The HA profile on 127.0.0.1: compose/compose.ha.yaml's Prometheus replicas, Alertmanager peers and Thanos Receive and Query, run natively.

Each service runs its compose command line, rendered through one :class:`~testbed.render.Mapping`
(every ``service:port`` the profile names gets a local port; each service gets its own container
folders), with every listener moved to its 127.0.0.1 port. Secrets are made by the profile's own
generator (``scaleout.pki``) into the bed's /run/secrets: a fresh CA, certificates, passwords and
web.yml per bed, never committed. The servers join the base :class:`~testbed.servers.TestBed`, so
they stop with it and their logs go into a failing test's report::

    ha = HABed(testbed_factory("ha"), rules_dir=rendered.rules_dir, alertmanager_config=rendered.alertmanager)
    ha.start()                                       # receivers, router, query, peers, replicas
    bots = LightBots(ha, count=3)                    # TLS + basic-auth /metrics
    list_bots(ha, bots)                              # in the bed's file_sd targets
    ha.query.query('up{job="bot"}')                  # Thanos Query, deduplicated
    ha.servers["thanos-receive-2"].kill()            # a fault
    ha.start("thanos-receive-2")                     # back, with its data

Native only: the Docker backend runs the single-host stack; the profile's images run under
``make up PROFILE=ha``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import requests
import yaml
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bench._series import populate
from quantwatch import Monitor
from quantwatch.serving import WsgiApp, serve_wsgi
from scaleout import pki
from scaleout.inventory import Bot, write

from .api import AlertmanagerAPI, PrometheusAPI
from .binaries import REPO, binary
from .compose import Service, service
from .poll import wait_until
from .ports import LOCAL_HOST, free_port, free_ports
from .render import Mapping
from .servers import NativeProcess, Server, TestBed

HA_COMPOSE = REPO / "compose" / "compose.ha.yaml"
#: Image repository of a compose service → the test bed's binary that runs it, and seconds it may take to be ready.
NATIVE = {"prom/prometheus": ("prometheus", 60.0), "prom/alertmanager": ("alertmanager", 30.0), "thanosio/thanos": ("thanos", 30.0)}
#: A listener flag of a compose command: its port is the service's endpoint ``service:port``.
_LISTEN = re.compile(r"^(--[\w.-]*address)=(?:0\.0\.0\.0|127\.0\.0\.1)?:(\d+)$")
#: Flags naming the port a server's HTTP API (and its /-/ready) answers on.
_HTTP_FLAGS = ("--web.listen-address", "--http-address")
#: Start order: stores before their clients, so nothing starts with a dead upstream.
ORDER = ("thanos-receive", "thanos-router", "thanos-query", "alertmanager", "prometheus")


def _services() -> dict[str, Service]:
    """The profile's services that run natively, by name, in :data:`ORDER`."""
    specs = [service(name, HA_COMPOSE) for name in yaml.safe_load(HA_COMPOSE.read_text())["services"]]
    native = [spec for spec in specs if spec.image.rpartition(":")[0] in NATIVE]
    rank = {spec.name: next(i for i, prefix in enumerate(ORDER) if spec.name.startswith(prefix)) for spec in native}
    return {spec.name: spec for spec in sorted(native, key=lambda spec: (rank[spec.name], spec.name))}


def _listeners(spec: Service) -> dict[str, str]:
    """Flag → port of each listener in a service's command."""
    return {m.group(1): m.group(2) for m in map(_LISTEN.match, spec.command) if m}


class HABed:
    """The profile's servers of one test bed; its SMTP and webhook stand-ins are the base bed's."""

    def __init__(self, bed: TestBed, *, rules_dir: Path | None = None, alertmanager_config: Path | None = None) -> None:
        """``rules_dir`` replaces the generated rules, ``alertmanager_config`` the routes (e.g. the e2e profile's shorter waits)."""
        self.bed = bed
        self.root = bed.root / "ha"
        self.specs = _services()
        self.services = tuple(self.specs)
        self.secrets = bed.mapping.path("/run/secrets")
        pki.generate(self.secrets, secrets_path=str(self.secrets))
        needed = {name for spec in self.specs.values() for name in spec.secrets}
        bed.write_secrets(tuple(sorted(n for n in needed if not (self.secrets / n).exists())), {})
        #: Where Prometheus's file_sd reads bots.json (the bed's inventory, not the repository's).
        self.targets = self.root / "targets"
        self.targets.mkdir(parents=True, exist_ok=True)
        self.overrides: dict[str, Path] = {"/etc/prometheus/targets": self.targets}
        self.overrides |= {"/etc/prometheus/rules": rules_dir} if rules_dir else {}
        self.overrides |= {"/etc/alertmanager/alertmanager.yml": alertmanager_config} if alertmanager_config else {}
        names = [f"{name}:{port}" for name, spec in self.specs.items() for port in _listeners(spec).values()]
        endpoints = dict(zip(names, free_ports(len(names), taken=set(bed.mapping.ports.values())), strict=True))
        self.ports = dict(bed.mapping.ports) | endpoints
        self.servers: dict[str, Server] = {}
        #: When each server last started (time.monotonic()).
        self.started: dict[str, float] = {}

    def password(self, user: str = "prometheus") -> str:
        """A basic-auth user's password (``prometheus`` or ``grafana``; ``bot``: the one Prometheus scrapes bots with)."""
        return (self.secrets / (pki.BOT_PASSWORD_FILE if user == "bot" else pki.USERS[user])).read_text().strip()

    def session(self, user: str = "prometheus") -> requests.Session:
        """HTTPS with the profile's CA, as ``user`` (``bot``: as Prometheus scraping a bot)."""
        session = requests.Session()
        # Not from the environment: REQUESTS_CA_BUNDLE would override the session's CA.
        session.trust_env = False
        session.verify = str(self.secrets / "ca.crt")
        session.auth = ("prometheus" if user == "bot" else user, self.password(user))
        return session

    def address(self, endpoint: str) -> str:
        """``127.0.0.1:PORT`` standing for a profile endpoint such as ``thanos-query:10902``."""
        return f"{LOCAL_HOST}:{self.ports[endpoint]}"

    def url(self, endpoint: str) -> str:
        return f"https://{self.address(endpoint)}"

    def mapping(self, spec: Service) -> Mapping:
        """The mapping of one service: shared endpoints, its own container folders, the bed's secrets."""
        paths = {target: self.root / "fs" / spec.name / target.lstrip("/") for target in (*spec.binds, *spec.volumes)}
        paths["/run/secrets"] = self.secrets
        return Mapping(ports=self.ports, paths=paths, known=frozenset(self.ports) | frozenset(paths))

    def start(self, *names: str) -> list[Server]:
        """Start these services (all when none are named) in :data:`ORDER`, each waited on until ready; a stopped one restarts with its data."""
        wanted = set(names or self.services)
        started = []
        for name in (n for n in self.services if n in wanted):
            self.started[name] = time.monotonic()
            started.append(self.servers[name].start() if name in self.servers else self._start(name))
        return started

    def _start(self, name: str) -> Server:
        spec = self.specs[name]
        program, ready_timeout = NATIVE[spec.image.rpartition(":")[0]]
        mapping = self.mapping(spec)
        for target in sorted(spec.binds, key=len):  # a folder before the folders mounted inside it
            folder = self.overrides.get(target, spec.binds[target])
            # Files and folders replaced inside this mount; a mount of its own (rules/) is mirrored on its own.
            inside = {p.rpartition("/")[2]: source for p, source in self.overrides.items() if p.rpartition("/")[0] == target and p not in spec.binds}
            mapping.mirror(folder, mapping.path(target), inside)
        for target in spec.volumes:
            mapping.path(target).mkdir(parents=True, exist_ok=True)
        listeners = _listeners(spec)
        args = [self._listen(name, arg, mapping) for arg in spec.command]
        http = next(port for flag, port in listeners.items() if flag in _HTTP_FLAGS)
        argv = [str(binary(program)), *args]
        env = dict(os.environ) | {key: mapping.render(value) for key, value in spec.environment.items()}
        log = self.bed.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        server = Server(
            self.bed.name, name, port=self.ports[f"{name}:{http}"], ready_path="/-/ready", log=log,
            launch=lambda out: NativeProcess(argv, out, env), backend="native", session=self.session(), ready_timeout=ready_timeout,
        )  # fmt: skip
        if name in self.bed.servers:
            raise RuntimeError(f"{self.bed.name} already has a {name}")
        self.bed.servers[name] = self.servers[name] = server
        return server.start()

    def start_bot(self) -> Server:
        """The demo bot with compose.ha.yaml's environment: /metrics over TLS and basic auth; no log shipping (no Loki runs here)."""
        spec = service("bot", HA_COMPOSE)
        mapping = self.mapping(spec)
        port = free_port()
        env = dict(os.environ) | {key: mapping.render(value) for key, value in spec.environment.items()}
        env |= {"QUANTWATCH_METRICS_ADDR": LOCAL_HOST, "QUANTWATCH_METRICS_PORT": str(port), "QUANTWATCH_LOKI_URL": ""}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "exporter"), env.get("PYTHONPATH")]))
        for target in spec.volumes:
            mapping.path(target).mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "quantwatch.demo", "--seed", "7"]
        log = self.bed.root / "logs" / "bot.log"
        server = Server(
            self.bed.name, "bot", port=port, ready_path="/metrics", log=log,
            launch=lambda out: NativeProcess(argv, out, env), backend="native", session=self.session("bot"),
        )  # fmt: skip
        self.bed.servers["ha-bot"] = self.servers["bot"] = server
        return server.start()

    def _listen(self, name: str, arg: str, mapping: Mapping) -> str:
        match = _LISTEN.match(arg)
        return f"{match.group(1)}={self.address(f'{name}:{match.group(2)}')}" if match else mapping.render(arg)

    def wait_gossip(self, timeout: float = 60.0) -> float:
        """Wait until every running Alertmanager peer sees all running peers, ready; seconds since the last of them (re)started."""
        peers = [name for name, server in self.servers.items() if name.startswith("alertmanager") and server.running]

        def settled() -> bool:
            return all((status := self.alertmanager(name).status()["cluster"])["status"] == "ready" and len(status["peers"]) == len(peers) for name in peers)

        wait_until(settled, timeout, f"gossip settled between {peers}", interval=0.25, retry_on=(requests.RequestException,))
        return time.monotonic() - max(self.started[name] for name in peers)

    @property
    def query(self) -> PrometheusAPI:
        """Thanos Query's Prometheus API (deduplicated unless asked ``dedup="false"``)."""
        return PrometheusAPI(self.url("thanos-query:10902"), self.session())

    def prometheus(self, name: str) -> PrometheusAPI:
        """The API of one Prometheus replica (``prometheus-a``)."""
        return PrometheusAPI(self.servers[name].url, self.session())

    def alertmanager(self, name: str) -> AlertmanagerAPI:
        """The API of one Alertmanager peer (``alertmanager-1``)."""
        return AlertmanagerAPI(self.servers[name].url, self.session())


class LightBot:
    """One bot of the fleet: /metrics over TLS and basic auth, counting the scrapes it answered."""

    def __init__(self, name: str, app: WsgiApp, ha: HABed) -> None:
        self.name = name
        self.scrapes = 0
        self._lock = threading.Lock()

        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            with self._lock:
                self.scrapes += 1
            return app(environ, start_response)

        secrets = ha.secrets
        self.server: WSGIServer = serve_wsgi(
            counted, LOCAL_HOST, 0, tls=(str(secrets / "server.crt"), str(secrets / "server.key")), auth=("prometheus", str(secrets / pki.BOT_PASSWORD_FILE))
        )
        self.host = f"{LOCAL_HOST}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LightBots:
    """A fleet of bots in this process, listed in the bed's inventory (file_sd): the real catalogue, served over TLS and basic auth.

    Bots of one fleet share one :class:`~quantwatch.Monitor` (``monitor``) holding every event
    kind over 4 symbols (bench's grid): the same series per bot, told apart by the ``service`` and
    ``instance`` labels, as many bots of one program would be. Light because the exposition is
    rendered at most once per :data:`RENDER_EVERY` for the whole fleet: fifty bots rendering it
    per scrape would need more CPU than this process has, and Prometheus would time out.
    """

    #: Seconds an exposition is reused: below the 2 s scrape interval, so every scrape sees fresh values.
    RENDER_EVERY = 1.0

    def __init__(self, ha: HABed, count: int, *, prefix: str = "bot", env: str = "ha", populated: bool = True) -> None:
        self.ha = ha
        self.monitor = Monitor(service=prefix, env=env, registry=CollectorRegistry())
        if populated:
            populate(self.monitor, symbols=4)
        self._rendered = (0.0, b"")
        self._lock = threading.Lock()
        self.bots = [LightBot(f"{prefix}-{i:02d}", self._serve, ha) for i in range(count)]
        self.env = env

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            at, body = self._rendered
            if time.monotonic() - at >= self.RENDER_EVERY:
                body = generate_latest(self.monitor.registry)
                self._rendered = (time.monotonic(), body)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    def __iter__(self) -> Iterator[LightBot]:
        return iter(self.bots)

    def inventory(self) -> list[Bot]:
        return [Bot(bot.name, bot.host, self.env, {"fleet": "testbed"}) for bot in self.bots]

    def close(self) -> None:
        for bot in self.bots:
            bot.stop()
        self.monitor.close()


def list_bots(ha: HABed, *fleets: LightBots) -> None:
    """Write the bed's bots.json from these fleets' inventories, as ``make generate`` renders the repository's."""
    write([bot for fleet in fleets for bot in fleet.inventory()], ha.targets / "bots.json")


#: Each scenario's measured figures, printed at the end of the session (tests/scaleout/conftest.py).
FIGURES: list[tuple[str, str]] = []


def figure(scenario: str, text: str) -> None:
    """Record a measured figure of a scenario for the session's closing summary."""
    FIGURES.append((scenario, text))
