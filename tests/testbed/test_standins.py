"""The SMTP and webhook stand-ins keep what they receive and fail on demand."""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import requests

from testbed.poll import wait_until
from testbed.standins import SmtpStandIn, WebhookReceiver


@pytest.fixture
def smtp_server() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def test_smtp_keeps_each_message_parsed(smtp_server: SmtpStandIn) -> None:
    """A message sent over SMTP is kept with its envelope, subject and text and HTML bodies."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "am@quantwatch.test", "ops@quantwatch.test", "[FIRING:1] TradingBotDown"
    msg.set_content("plain body")
    msg.add_alternative("<p>html body</p>", subtype="html")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(msg)
    [mail] = smtp_server.wait_for(lambda m: "TradingBotDown" in m.subject, timeout=10)
    assert (mail.mail_from, mail.rcpt_tos, mail.login) == ("am@quantwatch.test", ("ops@quantwatch.test",), None)
    assert mail.body().strip() == "plain body"
    assert mail.body("html").strip() == "<p>html body</p>"


def test_smtp_login_prompts_are_mailpits(smtp_server: SmtpStandIn) -> None:
    """AUTH LOGIN prompts "Username:" then "Password:", as mailpit does and Alertmanager's email client requires."""
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.ehlo()
        assert client.docmd("AUTH", "LOGIN") == (334, base64.b64encode(b"Username:"))
        assert client.docmd(base64.b64encode(b"alertmanager").decode()) == (334, base64.b64encode(b"Password:"))
        assert client.docmd(base64.b64encode(b"secret").decode())[0] == 235


def test_smtp_goes_down_and_comes_back_on_its_port(smtp_server: SmtpStandIn) -> None:
    """After stop() the SMTP port refuses connections; start() serves it again on the same port."""
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)
    smtp_server.start()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.sendmail("am@quantwatch.test", ["ops@quantwatch.test"], "Subject: back\n\nagain")
    assert [m.subject for m in smtp_server.wait_for(timeout=10)] == ["back"]


def test_smtp_accepts_any_login_without_tls(smtp_server: SmtpStandIn) -> None:
    """Like mailpit in compose, the stand-in offers AUTH without TLS, accepts any password and records the user."""
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.login("alertmanager", "whatever")
        client.sendmail("am@quantwatch.test", ["ops@quantwatch.test"], "Subject: hi\r\n\r\nbody\r\n")
    [mail] = smtp_server.wait_for(timeout=10)
    assert (mail.login, mail.subject) == ("alertmanager", "hi")


def test_webhook_keeps_each_post_and_answers_like_slack(receiver: WebhookReceiver) -> None:
    """A POST is kept with path, headers and JSON body and answered 200 "ok", as a Slack incoming webhook does."""
    resp = requests.post(f"{receiver.url}/slack_critical", json={"text": "hello"}, timeout=5)
    assert (resp.status_code, resp.text) == (200, "ok")
    [post] = receiver.wait_for(timeout=5)
    assert (post.method, post.path, post.json(), post.status) == ("POST", "/slack_critical", {"text": "hello"}, 200)
    assert post.headers["Content-Type"] == "application/json"


def test_fail_next_fails_that_many_requests(receiver: WebhookReceiver) -> None:
    """fail_next(2) answers the next two requests with the status asked for, then 200 again."""
    receiver.fail_next(2, status=503)
    codes = [requests.post(receiver.url, json={}, timeout=5).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert [p.status for p in receiver.items()] == codes


def test_fail_for_fails_during_the_period(receiver: WebhookReceiver) -> None:
    """fail_for(period) answers 500 until the period is over, then 200."""
    receiver.fail_for(0.5)
    assert requests.post(receiver.url, json={}, timeout=5).status_code == 500
    wait_until(lambda: requests.post(receiver.url, json={}, timeout=5).status_code == 200, timeout=5, what="200 after the period")


def test_hang_next_holds_a_request_past_the_senders_timeout(receiver: WebhookReceiver) -> None:
    """hang_next(1, s) holds one request for s seconds, so a sender with a shorter timeout gives up; the next is answered without a hold."""
    receiver.hang_next(1, seconds=5)
    with pytest.raises(requests.Timeout):
        requests.post(receiver.url, json={}, timeout=0.3)
    assert requests.post(receiver.url, json={}, timeout=5).status_code == 200
    assert [p.delay for p in receiver.items()] == [5, 0]


def test_reset_forgets_requests_and_faults(receiver: WebhookReceiver) -> None:
    """reset() empties the inbox and cancels pending faults."""
    receiver.fail_next(5)
    requests.post(receiver.url, json={}, timeout=5)
    receiver.reset()
    assert receiver.items() == []
    assert requests.post(receiver.url, json={}, timeout=5).status_code == 200


def test_wait_for_times_out_listing_what_arrived(receiver: WebhookReceiver) -> None:
    """wait_for raises TimeoutError after its deadline, naming what did arrive."""
    requests.post(f"{receiver.url}/other", json={}, timeout=5)
    with pytest.raises(TimeoutError, match="/other"):
        receiver.wait_for(lambda p: p.path == "/wanted", timeout=0.2)
