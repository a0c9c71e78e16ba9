"""Fixtures for the browser tests: ``browser``, which runs a scenario in headless Chromium
in a separate, unpatched interpreter (``tests/browser/__init__.py`` says why). The stack
and the ``office`` driving the admin API come from ``tests/running_stack.py``, shared with
the end-to-end tests."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.stack import ROOT
from tests.browser import CHROMIUM

OUTPUT = ROOT / "tests" / "output"
SCREENSHOTS = OUTPUT / "screenshots"
SCENARIO_TIMEOUT = 180


def require_browser() -> None:
    """Without Chromium or Playwright the browser tests fail, loudly: they never skip."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing: the browser tests need {CHROMIUM} (Debian package "
                    "'chromium': apt-get install chromium). CI installs it.", pytrace=False)
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("The Python package 'playwright' is missing: run `make setup` "
                    "(pip install -e '.[test]').", pytrace=False)


class Browser:
    """Runs browser scenarios for one test; screenshots go to
    ``tests/output/screenshots/<test name>/``."""

    def __init__(self, test_name: str) -> None:
        self.screenshots = SCREENSHOTS / test_name
        shutil.rmtree(self.screenshots, ignore_errors=True)

    def run(self, scenario: Callable[..., Any], *, context: dict[str, Any] | None = None,
            **params: Any) -> dict[str, Any]:
        """Run ``scenario(page, shots, **params)`` in Chromium, in a fresh interpreter
        without eventlet, and return what it returned. ``context`` holds Playwright
        context options (viewport, is_mobile, has_touch, ...)."""
        require_browser()
        with tempfile.TemporaryDirectory(prefix="porchlight-scenario-") as tmp:
            result = Path(tmp) / "result.json"
            spec = {
                "scenario": f"{scenario.__module__}:{scenario.__qualname__}",
                "params": params, "context": context or {},
                "screenshots": str(self.screenshots), "result": str(result),
            }
            # Its own session, so a hung run can be stopped with Chromium and the driver.
            child = subprocess.Popen(
                [sys.executable, "-c", "from tests.browser import main; main()", json.dumps(spec)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,
            )
            try:
                _, stderr = child.communicate(timeout=SCENARIO_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                _, stderr = child.communicate()
                pytest.fail(f"{spec['scenario']} did not finish within {SCENARIO_TIMEOUT}s "
                            f"(screenshots in {self.screenshots}):\n{stderr[-8000:]}", pytrace=False)
            if child.returncode != 0 or not result.exists():
                pytest.fail(f"{spec['scenario']} failed in the browser (exit {child.returncode}; "
                            f"screenshots in {self.screenshots}):\n{stderr[-8000:]}", pytrace=False)
            return json.loads(result.read_text())


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Browser:
    return Browser(request.node.name)
