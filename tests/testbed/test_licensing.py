"""Nothing that builds or runs the test bed may fetch an AGPL Go module (Loki, Grafana, Tempo, k6)."""

from __future__ import annotations

import re
import subprocess

from testbed.binaries import REPO

#: Go modules the machines' package lists mark not-to-use (AGPL): never downloaded, never built.
NOT_TO_USE = re.compile(r"github\.com/grafana/(loki|grafana|tempo)\b|go\.k6\.io/k6")


def test_no_script_makefile_or_fixture_names_an_agpl_module() -> None:
    """Every tracked build script, Makefile, CI script and Python module is free of the not-to-use module paths."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    code = [p for p in tracked if p.endswith((".sh", ".py", ".env", ".yaml", ".yml", ".json", ".toml")) or p in ("Makefile", ".ci/run")]
    named = [f"{path}:{n}: {line.strip()}" for path in code for n, line in enumerate((REPO / path).read_text().splitlines(), 1) if NOT_TO_USE.search(line)]
    assert named == [], "\n".join(named)
    assert code, "no files were checked"


def test_the_pattern_catches_each_module() -> None:
    """The check is not vacuous: each forbidden module path, as a go command would name it, is caught."""
    # Assembled from parts, so that this file does not name them itself.
    for module in (
        "github.com/grafana/" + "loki/v3@v3.7.8",
        "github.com/grafana/" + "grafana/pkg/apimachinery",
        "github.com/grafana/" + "tempo",
        "go.k6" + ".io/k6",
    ):
        assert NOT_TO_USE.search(f"go mod download {module}"), module
