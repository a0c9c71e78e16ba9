"""The layers import downwards only, as the contracts in pyproject.toml state — checked
by import-linter, which reads every import of the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_imports_point_downwards_only():
    run = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout
