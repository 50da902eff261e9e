"""The HA profile's secrets: written once and kept, the web config's bcrypt hashes match the password files, the certificates name every endpoint."""

from __future__ import annotations

import stat
from pathlib import Path

import bcrypt
import yaml
from cryptography import x509

from scaleout.pki import BOT_PASSWORD_FILE, SERVER_NAMES, USERS, generate


def test_generate_writes_once_and_keeps_what_is_there(tmp_path: Path) -> None:
    """A second run writes nothing, so deployed passwords and certificates never change under a running stack."""
    folder = tmp_path / "ha"
    first = generate(folder)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    tls = {"ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"}
    assert set(first) == set(before) == {*tls, "web.yml", *USERS.values(), BOT_PASSWORD_FILE}
    assert generate(folder) == []
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600


def test_web_config_hashes_each_users_password(tmp_path: Path) -> None:
    """web.yml holds a bcrypt hash per user that matches its password file, and TLS with the server certificate."""
    generate(tmp_path, secrets_path="/run/secrets")
    web = yaml.safe_load((tmp_path / "web.yml").read_text())
    assert web["tls_server_config"]["cert_file"] == "/run/secrets/server.crt"
    for user, file in USERS.items():
        assert bcrypt.checkpw((tmp_path / file).read_bytes().strip(), web["basic_auth_users"][user].encode())


def test_a_new_password_is_hashed_again(tmp_path: Path) -> None:
    """Removing a password file makes a new one and a web.yml that matches it."""
    generate(tmp_path)
    (tmp_path / "grafana_password").unlink()
    assert set(generate(tmp_path)) == {"grafana_password", "web.yml"}
    web = yaml.safe_load((tmp_path / "web.yml").read_text())
    assert bcrypt.checkpw((tmp_path / "grafana_password").read_bytes(), web["basic_auth_users"]["grafana"].encode())


def test_certificates_name_every_endpoint_and_chain_to_the_ca(tmp_path: Path) -> None:
    """The server certificate is valid for every service name of the profile and 127.0.0.1, and the CA signed it."""
    generate(tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "server.crt").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == set(SERVER_NAMES)
    server.verify_directly_issued_by(ca)
