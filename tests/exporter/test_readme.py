"""The README's library example runs as written, and every test it names exists."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
NAMED = sorted(set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", README)))


def test_readme_example_runs() -> None:
    """The one python block of the README runs to completion and logs, as JSON on stderr, the bad event it shows."""
    (example,) = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    result = subprocess.run(
        [sys.executable, "-c", example], env={"PYTHONPATH": str(ROOT / "exporter")}, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert '"invalid":["unknown_value:side","non_finite:quantity"]' in result.stderr


@pytest.mark.parametrize(("path", "name"), NAMED, ids=[f"{path}::{name}" for path, name in NAMED])
def test_named_test_exists(path: str, name: str) -> None:
    """A test the README cites to back a claim is a test function of that file."""
    tree = ast.parse((ROOT / path).read_text())
    assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
