"""Every hop of the HA profile is encrypted and authenticated: 401 without credentials, no answer over plain HTTP.

HTTP APIs (Prometheus, Alertmanager, Thanos) check web.yml's bcrypt users; the bot checks its
password file; remote write and gRPC ask for a client certificate signed by the profile's CA. A
plain-HTTP request to a Go TLS port fails its handshake, and Go answers the bytes with a fixed
``400 Client sent an HTTP request to an HTTPS server`` (no API is reached); the bot's Python server
closes the connection.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator

import pytest
import requests

from scaleout.inventory import Bot, write
from testbed.ha import HABed, LightBots, figure
from testbed.poll import wait_until

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def bots(ha: HABed) -> Iterator[list[tuple[str, str]]]:
    """(name, host:port) of the demo bot, run with compose.ha.yaml's settings, and of a light bot; both in the inventory."""
    fleet = LightBots(ha, 1, populated=False)
    demo = ha.start_bot()
    listed = [*fleet.inventory(), Bot("demo-bot", f"127.0.0.1:{demo.port}", "demo")]
    write(listed, ha.targets / "bots.json")
    yield [(bot.name, bot.host) for bot in listed]
    fleet.close()


def _endpoints(ha: HABed) -> list[tuple[str, str]]:
    """(server, https URL of its /metrics) of every Prometheus, Alertmanager and Thanos endpoint: web.yml guards every path alike."""
    return [(name, server.url + "/metrics") for name, server in ha.servers.items() if name != "bot"]


def _plain() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_http_endpoints_refuse_requests_without_credentials(ha: HABed, bots: list[tuple[str, str]]) -> None:
    """Every Prometheus, Alertmanager and Thanos API and the bot's /metrics: 401 without or with wrong credentials, 200 with them."""
    anonymous = _plain()
    anonymous.verify = str(ha.secrets / "ca.crt")
    wrong = ha.session()
    wrong.auth = ("prometheus", "not-the-password")
    endpoints = [(name, url, "prometheus") for name, url in _endpoints(ha)] + [(name, f"https://{host}/metrics", "bot") for name, host in bots]
    for name, url, user in endpoints:
        assert anonymous.get(url, timeout=10).status_code == 401, name
        assert wrong.get(url, timeout=10).status_code == 401, name
        assert ha.session(user).get(url, timeout=10).status_code == 200, name
    figure("security", f"{len(endpoints)} HTTP endpoints: 401 without or with a wrong password, 200 with it")


def test_plain_http_is_refused(ha: HABed, bots: list[tuple[str, str]]) -> None:
    """Plain HTTP reaches no API: Go's TLS ports answer a fixed 400 to the failed handshake, the bot closes the connection."""
    plain = _plain()
    plain.auth = ("prometheus", ha.password())  # the right password: only the missing TLS is wrong
    for name, url in _endpoints(ha):
        answer = plain.get(url.replace("https://", "http://"), timeout=10)
        assert (answer.status_code, answer.text.strip()) == (400, "Client sent an HTTP request to an HTTPS server."), name
    for _, host in bots:
        with pytest.raises(requests.ConnectionError):
            plain.get(f"http://{host}/metrics", timeout=10)
    figure("security", f"{len(_endpoints(ha)) + len(bots)} HTTP endpoints over plain HTTP: TLS handshake failed, no API reached")


def test_both_replicas_scrape_the_bots_over_tls_with_basic_auth(ha: HABed, bots: list[tuple[str, str]]) -> None:
    """The demo bot (compose.ha.yaml's QUANTWATCH_METRICS_* settings) and the light bot are up on both replicas."""
    for replica in ("prometheus-a", "prometheus-b"):
        prom = ha.prometheus(replica)
        wait_until(lambda prom=prom: prom.value('count(up{job="bot"} == 1)') == len(bots), 30, f"{replica} scrapes every bot")


def _handshake(address: str, ha: HABed, *, client_cert: bool) -> None:
    """TLS to ``address`` with the profile's CA, with or without the client certificate, and one read.

    In TLS 1.3 the server checks the client certificate after the handshake, so its refusal comes
    as an alert on the first read; a server that accepts simply has nothing to say yet.
    """
    context = ssl.create_default_context(cafile=str(ha.secrets / "ca.crt"))
    if client_cert:
        context.load_cert_chain(str(ha.secrets / "client.crt"), str(ha.secrets / "client.key"))
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
        tls.settimeout(1)
        with contextlib.suppress(TimeoutError):  # accepted: the server waits for the client to speak
            tls.recv(1)


def test_remote_write_and_grpc_need_the_client_certificate(ha: HABed) -> None:
    """Receive's remote-write listeners and every gRPC Store API refuse a TLS client without the CA-signed certificate."""
    listeners = [endpoint for endpoint in ha.ports if endpoint.endswith((":19291", ":10901"))]
    assert len(listeners) == 4 + 5  # router and three receivers take remote writes; those and Query serve gRPC
    for endpoint in listeners:
        address = ha.address(endpoint)
        with pytest.raises(ssl.SSLError, match=r"CERTIFICATE_REQUIRED|certificate required"):
            _handshake(address, ha, client_cert=False)
        _handshake(address, ha, client_cert=True)
    figure("security", f"{len(listeners)} remote-write and gRPC listeners: refused without the client certificate, accepted with it")
