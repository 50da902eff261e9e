"""The server behind ``Monitor.serve()``: ``/metrics`` over plain HTTP, or over TLS and behind basic auth.

prometheus_client's ``start_http_server`` serves only its own WSGI app and takes a certificate but
no credentials, so the Monitor's app (:mod:`quantwatch.exposition`) is served here: the same
threading server, with the password read from a file once at start-up (rotate it by restarting the
bot) and compared in constant time. A plain-HTTP request to a TLS port fails its handshake; no request reaches the app
without the right credentials (401 with a ``WWW-Authenticate`` challenge)::

    server = serve_wsgi(mon.wsgi_app(), "0.0.0.0", 8000, tls=("/run/secrets/bot.crt", "/run/secrets/bot.key"),
                        auth=("prometheus", "/run/secrets/bot_scrape_password"))

Not bcrypt, unlike the servers' web.config.file: the bot holds the password file itself, and a
bcrypt check per 2-second scrape would cost the trading process a CPU share for nothing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.exposition import ThreadingWSGIServer

__all__ = ["basic_auth", "serve_wsgi"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def basic_auth(app: WsgiApp, username: str, password: str, realm: str = "quantwatch") -> WsgiApp:
    """``app`` answering only requests that carry ``username`` and ``password``; 401 otherwise."""
    expected = f"{username}:{password}".encode()
    challenge = [("WWW-Authenticate", f'Basic realm="{realm}"'), ("Content-Type", "text/plain")]

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scheme, _, encoded = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, expected):
            start_response("401 Unauthorized", challenge)
            return [b"Unauthorized\n"]
        return app(environ, start_response)

    return guarded


class _QuietHandler(WSGIRequestHandler):
    """No access log line on stderr per scrape (prometheus_client's handler does the same)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TLSServer(ThreadingWSGIServer):
    """Hands each accepted connection's TLS handshake to its request thread, so a slow or plain-HTTP client never stalls the accept loop."""

    context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        try:
            tls_socket = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a failed handshake (plain HTTP, an unknown CA): nothing to answer
        try:
            super().finish_request(tls_socket, client_address)
        finally:
            tls_socket.close()


def serve_wsgi(app: WsgiApp, addr: str, port: int, *, tls: tuple[str, str] | None = None, auth: tuple[str, str] | None = None) -> WSGIServer:
    """Serve ``app`` from a daemon thread; ``tls`` is (certificate file, key file), ``auth`` is (user, password file).

    Files are read now: a missing or unreadable one raises OSError (ssl.SSLError for a bad
    certificate) at start-up, never at a scrape. ``server.server_port`` is the bound port.
    """
    if auth is not None:
        username, password_file = auth
        app = basic_auth(app, username, Path(password_file).read_text().strip())
    family = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class: type[_TLSServer] = type("_Server", (_TLSServer,), {"address_family": family})  # an IPv6 address binds, as with start_http_server
    server = make_server(addr, port, app, server_class, handler_class=_QuietHandler)
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(*tls)
        server.context = context
    threading.Thread(target=server.serve_forever, name="quantwatch-metrics", daemon=True).start()
    return server
