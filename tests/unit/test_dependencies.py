"""What the code imports and reads agrees with what the project declares.

- deptry: every package any module imports (runtime, tests, benchmark, developer tools)
  is declared in pyproject.toml, not only reached through another package.
- Runtime code (what the image runs) never imports the developer tools or the tests, and
  reads the environment only through ``porchlight.runtime.settings``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("porchlight", "services", "gateway", "workers")


def runtime_modules() -> list[Path]:
    return sorted(p for package in RUNTIME_PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_import_is_a_declared_dependency():
    result = subprocess.run(
        [sys.executable, "-m", "deptry", "."], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The tests are scanned too (deptry skips a folder named tests unless told otherwise).
    scanned = int(output.split("Scanning ", 1)[1].split(" files", 1)[0])
    assert scanned > len(list((ROOT / "tests").rglob("*.py"))) + len(runtime_modules())


def imported_modules(tree: ast.AST) -> list[tuple[str, ast.AST, bool]]:
    """(module, node, at the top level?) for every import in a module."""
    top_level = {id(node) for node in getattr(tree, "body", [])}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, node, id(node) in top_level))
    return found


@pytest.mark.parametrize("path", runtime_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_runtime_code_does_not_depend_on_developer_tools_or_tests(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for module, node, _top_level in imported_modules(tree):
        root = module.split(".")[0]
        assert root != "tests", f"{path.name}:{node.lineno} imports {module}"
        assert root != "devtools", f"{path.name}:{node.lineno} imports {module}"


@pytest.mark.parametrize("path", runtime_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_runtime_code_reads_the_environment_only_through_settings(path):
    if path == ROOT / "porchlight" / "runtime" / "settings.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "from_prefixed_env"):
            pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} reads the environment; "
                        "add a field to porchlight.runtime.settings.Settings instead")
