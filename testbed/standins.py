"""Stand-ins for what lies outside the stack: a mail server and Slack/webhook endpoints.

Both speak the real protocol on 127.0.0.1 and keep everything they receive, so a test asserts on
what Alertmanager actually sent. The webhook receiver can be told to fail, for retry tests::

    slack.fail_next(2)               # the next two POSTs get 500, the third succeeds
    slack.hang_next(1, seconds=15)   # hold one request past the sender's timeout
    posts = slack.wait_for(lambda r: r.path == "/slack_critical", timeout=30)
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .ports import LOCAL_HOST, free_port

T = TypeVar("T")


class Inbox(Generic[T]):
    """A thread-safe list that tests can wait on."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def items(self) -> list[T]:
        """A copy of everything received so far, oldest first."""
        with self._changed:
            return list(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def wait_for(self, predicate: Callable[[T], bool] | None = None, count: int = 1, timeout: float = 30.0) -> list[T]:
        """Block until ``count`` received items match ``predicate`` (default: any) and return the matches.

        Raises TimeoutError after ``timeout`` seconds, listing what did arrive.
        """
        match = predicate or (lambda _item: True)
        with self._changed:
            found = self._changed.wait_for(lambda: len([i for i in self._items if match(i)]) >= count, timeout)
            items = list(self._items)
        if not found:
            raise TimeoutError(f"{count} matching item(s) not received within {timeout:g} s; received: {items!r}")
        return [i for i in items if match(i)]


@dataclass(frozen=True)
class Mail:
    """One message the SMTP stand-in accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    #: The user the sender logged in as, None when it sent without AUTH.
    login: str | None = None
    #: Wall-clock time it arrived (``time.time()``), for latency figures.
    received: float = field(default_factory=time.time, compare=False)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def body(self, subtype: str = "plain") -> str:
        """The text of the ``text/<subtype>`` part ("" when there is none)."""
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if isinstance(part, EmailMessage) else ""


class _MailpitSMTP(SMTP):
    """aiosmtpd's SMTP session with mailpit's AUTH LOGIN prompts: Alertmanager's LOGIN client accepts only these."""

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _MailpitSMTP(self.handler, **self.SMTP_kwargs)


class SmtpStandIn(Inbox[Mail]):
    """An SMTP server on 127.0.0.1 that accepts and keeps every message, as mailpit does.

    Like mailpit in the compose stack: no STARTTLS, and AUTH (PLAIN, LOGIN) offered without TLS,
    accepting any credentials. ``stop()`` then ``start()`` takes it down and back on the same port
    (fault tests: the mail server is down for a while).
    """

    def __init__(self) -> None:
        super().__init__()
        self.host = LOCAL_HOST
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> SmtpStandIn:
        # A stopped Controller's event loop is closed: each start gets a new one.
        self._controller = _Controller(self, hostname=self.host, port=self.port, authenticator=_accept_any, auth_require_tls=False)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.add(Mail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, login))
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        """Forget every message."""
        self.clear()


def _accept_any(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=True, auth_data=auth_data)


@dataclass(frozen=True)
class Post:
    """One HTTP request the webhook receiver got, and how it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    #: Seconds the receiver held the request before answering (a hang when past the sender's timeout).
    delay: float
    #: Wall-clock time it arrived (``time.time()``), for latency figures.
    received: float = field(default_factory=time.time, compare=False)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Fault:
    status: int
    delay: float
    remaining: int | None = None
    until: float | None = None

    def take(self, now: float) -> bool:
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return self.until is not None and now < self.until


class WebhookReceiver(Inbox[Post]):
    """A threaded HTTP server on 127.0.0.1 keeping every request; answers 200 ``ok`` as Slack does.

    Faults apply in the order they were added, each to the requests it covers: ``fail_next`` and
    ``hang_next`` to a number of requests, ``fail_for`` and ``hang_for`` to a period.
    """

    def __init__(self) -> None:
        super().__init__()
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer((LOCAL_HOST, 0), _handler(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        # A short poll interval lets stop() return at once rather than after serve_forever's 0.5 s default.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"webhook:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; any path is accepted and recorded."""
        return f"http://{LOCAL_HOST}:{self.port}"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status``."""
        self._add(_Fault(status, 0.0, remaining=count))

    def fail_for(self, seconds: float, status: int = 500) -> None:
        """Answer every request with ``status`` for the next ``seconds``."""
        self._add(_Fault(status, 0.0, until=time.monotonic() + seconds))

    def hang_next(self, count: int, seconds: float) -> None:
        """Hold each of the next ``count`` requests ``seconds`` before answering (past the sender's timeout)."""
        self._add(_Fault(200, seconds, remaining=count))

    def hang_for(self, period: float, seconds: float) -> None:
        """Hold every request arriving in the next ``period`` seconds for ``seconds``."""
        self._add(_Fault(200, seconds, until=time.monotonic() + period))

    def reset(self) -> None:
        """Forget every request and fault."""
        with self._lock:
            self._faults.clear()
        self.clear()

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def answer(self) -> tuple[int, float]:
        """The status and delay for a request arriving now."""
        now = time.monotonic()
        with self._lock:
            for fault in self._faults:
                if fault.take(now):
                    return fault.status, fault.delay
        return 200, 0.0

    def hold(self, seconds: float) -> None:
        """Sleep for a hang, cut short when the receiver stops."""
        self._closing.wait(seconds)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _record(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, delay = receiver.answer()
            receiver.add(Post(self.command, self.path, dict(self.headers.items()), body, status, delay))
            if delay:
                receiver.hold(delay)
            reply = b"ok" if status < 300 else b"stand-in failure"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the sender gave up during a hang: that is the point of the hang

        do_POST = do_PUT = do_GET = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
