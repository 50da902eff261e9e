"""/metrics over TLS and behind basic auth, as a bot scraped across hosts serves it (Config metrics_tls_* and metrics_username/password_file)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import trustme

from quantwatch import ConfigError
from quantwatch.testing import capture


@pytest.fixture
def tls(tmp_path: Path) -> dict[str, str]:
    """A CA, a certificate for 127.0.0.1 and a password file, as files."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    files = {"ca": tmp_path / "ca.crt", "cert": tmp_path / "bot.crt", "key": tmp_path / "bot.key", "password": tmp_path / "password"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    cert.private_key_pem.write_to_path(str(files["key"]))
    files["password"].write_text("s3cret\n")
    return {name: str(path) for name, path in files.items()}


def _session(ca: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test's CA
    session.verify = ca
    return session


def test_metrics_need_tls_and_the_password(tls: dict[str, str]) -> None:
    """401 without or with a wrong password, the metrics with it; plain HTTP gets no answer."""
    secured = {"metrics_tls_cert_file": tls["cert"], "metrics_tls_key_file": tls["key"]}
    with capture(**secured, metrics_username="prometheus", metrics_password_file=tls["password"]) as cap:
        port = cap.monitor.serve(port=0)
        url = f"https://127.0.0.1:{port}/metrics"
        session = _session(tls["ca"])
        refused = session.get(url, timeout=5)
        assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, 'Basic realm="quantwatch"')
        assert session.get(url, auth=("prometheus", "wrong"), timeout=5).status_code == 401
        answer = session.get(url, auth=("prometheus", "s3cret"), timeout=5)
        assert answer.status_code == 200
        assert "trading_health_score" in answer.text
        with pytest.raises(requests.ConnectionError):
            _session(tls["ca"]).get(url.replace("https", "http"), auth=("prometheus", "s3cret"), timeout=5)
        assert session.get(url, auth=("prometheus", "s3cret"), timeout=5).status_code == 200, "a plain-HTTP client does not stop the server"
        cap.monitor.close()


def test_tls_alone_serves_without_credentials(tls: dict[str, str]) -> None:
    """TLS without basic auth: encrypted, open to any client that trusts the CA."""
    with capture(metrics_tls_cert_file=tls["cert"], metrics_tls_key_file=tls["key"]) as cap:
        port = cap.monitor.serve(port=0)
        assert _session(tls["ca"]).get(f"https://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
        cap.monitor.close()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"metrics_tls_cert_file": "CERT"}, "metrics_tls_cert_file .* needs metrics_tls_key_file"),
        ({"metrics_password_file": "PASSWORD"}, "metrics_password_file .* needs metrics_username"),
        ({"metrics_username": "prometheus"}, "metrics_username .* needs metrics_password_file"),
    ],
)
def test_half_a_pair_is_refused_at_start(tls: dict[str, str], options: dict[str, str], problem: str) -> None:
    """A certificate without its key, or a user without a password file, is a ConfigError naming both settings."""
    given = {key: tls["cert"] if value == "CERT" else tls["password"] if value == "PASSWORD" else value for key, value in options.items()}
    with pytest.raises(ConfigError, match=problem), capture(**given):
        pass
