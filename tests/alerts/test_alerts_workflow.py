"""The README's threshold workflow, proved in a copy of the tree: edit the spec, regenerate, and the suite's static checks pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alert_helpers import REPO, edited_spec, threshold_edit

#: What the generator and the alert tests read: the spec and its generator, what it renders into, the library (whose
#: health score shares two thresholds), the dashboards' query readers, the test bed's fixtures with the compose files
#: they describe, and the Kubernetes renderer the server checks import.
NEEDED = (
    "pyproject.toml",
    "alerts",
    "alertmanager",
    "provisioning",
    "docs",
    "exporter",
    "dashboards",
    "testbed",
    "compose",
    "deploy",
    "tests/conftest.py",
    "tests/alerts",
    "tests/exporter/test_health.py",
)
#: The static checks on generated files: the alert tests that need no server, and the health score's anchors.
CHECKS = ("tests/alerts", "tests/exporter/test_health.py")


def copy_tree(root: Path) -> Path:
    """The files under NEEDED that git does not ignore, as they are in the working tree, copied under ``root``; the installed grammars linked."""
    listed = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *NEEDED]
    for name in filter(None, subprocess.run(listed, cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\0")):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    (root / "dashboards" / "grammar" / "node_modules").symlink_to(REPO / "dashboards" / "grammar" / "node_modules")
    return root


def test_threshold_edit_regenerate_and_the_static_checks_pass(tmp_path: Path) -> None:
    """Raise the error-rate threshold in a copy's spec, run `python -m alerts.generate --out` there: its alert tests and health anchors pass on the result."""
    tree = copy_tree(tmp_path / "tree")
    edit, new = threshold_edit("QuantwatchErrorRateHigh", 1.5)
    edited_spec(tree / "alerts", *edit)
    # The copy's own packages: `python -m` puts the working directory first; PYTHONPATH puts its library before the installed one.
    env = dict(os.environ, PYTHONPATH=str(tree / "exporter"))
    subprocess.run([sys.executable, "-m", "alerts.generate", "--out", str(tree)], cwd=tree, env=env, check=True, timeout=120)
    assert f"ERROR_RATE_HIGH = {new!r}" in (tree / "exporter" / "quantwatch" / "thresholds.py").read_text()
    checks = [sys.executable, "-m", "pytest", *CHECKS, "-m", "not servers", "-q", "-p", "no:cacheprovider", f"--ignore={Path(__file__).relative_to(REPO)}"]
    done = subprocess.run(checks, cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout.splitlines()[-1]
