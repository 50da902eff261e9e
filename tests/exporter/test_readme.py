"""The README's library example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_example_runs() -> None:
    """The one python block of the README runs to completion and logs the bad event it shows."""
    (example,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    result = subprocess.run(
        [sys.executable, "-c", example], env={"PYTHONPATH": str(ROOT / "exporter")}, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert '"invalid":["unknown_value:side","non_finite:quantity"]' in result.stderr
