"""build.sh's exit codes and output: an unavailable server stops `make testbed`, never a silent skip."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testbed.binaries import REPO

BUILD = REPO / "testbed" / "build.sh"


def run_main(tmp_path: Path, stubs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run build.sh's main with each build_<name> replaced by a stub body (its builds are not under test)."""
    defs = "".join(f"build_{name}() {{ {body}; }}\n" for name, body in stubs.items())
    script = f'source "{BUILD}"\n{defs}qw_main all\n'
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QUANTWATCH_CACHE": str(tmp_path / "cache")}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_all_ready_exits_0_and_exports_every_bin_dir(tmp_path: Path) -> None:
    """With every server ready, build.sh exits 0 and prints an eval-able `export NAME_BIN_DIR=DIR` per server."""
    done = run_main(tmp_path, {s: f"qw_report {s} /bin/{s}-dir" for s in ("prometheus", "alertmanager", "victorialogs")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"export {s.upper()}_BIN_DIR=/bin/{s}-dir" for s in ("prometheus", "alertmanager", "victorialogs")]


@pytest.mark.parametrize(
    ("victorialogs", "alertmanager", "code", "message"),
    [("return 3", "qw_report alertmanager /a", 3, "UNAVAILABLE on this machine: victorialogs"), ("return 3", "return 1", 1, "FAILED: alertmanager")],
)
def test_a_missing_server_fails_the_build(tmp_path: Path, victorialogs: str, alertmanager: str, code: int, message: str) -> None:
    """An unavailable server (no Go, no package) exits 3 and a failed build exits 1, so `make test` stops before pytest."""
    done = run_main(tmp_path, {"prometheus": "qw_report prometheus /p", "alertmanager": alertmanager, "victorialogs": victorialogs})
    assert done.returncode == code
    assert message in done.stderr
    assert "export PROMETHEUS_BIN_DIR=/p" in done.stdout.splitlines()
