"""build.sh's exit codes and output: an unavailable server stops `make testbed`, never a silent skip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.binaries import REPO

BUILD = REPO / "testbed" / "build.sh"


#: Every server of `build.sh all`, in order.
SERVERS = ("prometheus", "alertmanager", "victorialogs", "thanos")
#: PATH without Go (builds one at a time, as for Debian's packages) and with it (builds side by side).
PATHS = ["/usr/bin:/bin", f"{Path(shutil.which('go') or '/usr/local/go/bin/go').parent}:/usr/bin:/bin"]


def run_main(tmp_path: Path, stubs: dict[str, str], path: str = PATHS[0]) -> subprocess.CompletedProcess[str]:
    """Run build.sh's main with each build_<name> replaced by a stub body (its builds are not under test)."""
    defs = "".join(f"build_{name}() {{ {body}; }}\n" for name, body in stubs.items())
    script = f'source "{BUILD}"\n{defs}qw_main all\n'
    env = {"PATH": path, "HOME": str(tmp_path), "QUANTWATCH_CACHE": str(tmp_path / "cache")}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.parametrize("path", PATHS, ids=["one-by-one", "side-by-side"])
def test_all_ready_exits_0_and_exports_every_bin_dir(tmp_path: Path, path: str) -> None:
    """With every server ready, build.sh exits 0 and prints an eval-able `export NAME_BIN_DIR=DIR` per server, in order."""
    # The first build finishes last: the exports still come in the servers' order.
    stubs = {s: f"{'sleep 0.2; ' * (s == 'prometheus')}qw_report {s} /bin/{s}-dir" for s in SERVERS}
    done = run_main(tmp_path, stubs, path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"export {s.upper()}_BIN_DIR=/bin/{s}-dir" for s in SERVERS]


@pytest.mark.parametrize(
    ("stubs", "code", "message"),
    [
        ({"alertmanager": "qw_report alertmanager /a", "victorialogs": "return 3"}, 3, "UNAVAILABLE on this machine: victorialogs"),
        ({"alertmanager": "return 1", "victorialogs": "return 3"}, 1, "FAILED: alertmanager"),
    ],
)
@pytest.mark.parametrize("path", PATHS, ids=["one-by-one", "side-by-side"])
def test_a_missing_server_fails_the_build(tmp_path: Path, stubs: dict[str, str], code: int, message: str, path: str) -> None:
    """An unavailable server (no Go, no package) exits 3 and a failed build exits 1, so `make test` stops before pytest."""
    done = run_main(tmp_path, {"prometheus": "qw_report prometheus /p", "thanos": "qw_report thanos /t"} | stubs, path)
    assert done.returncode == code
    assert message in done.stderr
    assert "export PROMETHEUS_BIN_DIR=/p" in done.stdout.splitlines()


def test_too_old_a_go_stops_before_any_build(tmp_path: Path) -> None:
    """A Go older than the pins need is one clear message and exit 1 before any server build starts."""
    fake = tmp_path / "old-go"
    fake.mkdir()
    (fake / "go").write_text("#!/bin/sh\necho go1.22.0\n")
    (fake / "go").chmod(0o755)
    done = run_main(tmp_path, {s: f"echo built {s} >&2" for s in SERVERS}, f"{fake}:/usr/bin:/bin")
    assert done.returncode == 1
    assert "Go 1.22.0 is too old: the pinned servers need Go 1.26.7 or newer" in done.stderr
    assert "built" not in done.stderr
