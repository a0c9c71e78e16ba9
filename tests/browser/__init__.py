"""Browser tests: the customer portal in headless Chromium, driven by Playwright.

Why the browser runs in a process of its own: ``python -m tests`` applies eventlet's
monkey-patch before anything else (nameko needs it), and Playwright's sync API does not
work under it — ``sync_playwright()`` starts, but launching Chromium and shutting the
driver down never return (tried with eventlet 0.41 and Playwright 1.65, also from a real,
unpatched OS thread). So a test prepares its records through the admin API in the
pytest process, then ``Browser.run`` (see ``conftest.py``) starts a fresh, unpatched
interpreter that runs :func:`main` here: it launches Chromium, runs one *scenario* — a
plain function ``scenario(page, shots, **params)`` that drives the page and may use
``playwright.sync_api.expect`` — and writes the dict the scenario returns as JSON for
the test to check. A failing scenario saves a screenshot and exits non-zero; the test
then fails with the scenario's traceback.

The portal itself is served over real HTTP by the whole stack (``devtools.stack``)
on a RabbitMQ virtual host of its own: separate processes, so nothing here shares an
event loop with eventlet.

This module is imported by the child interpreter: it must stay cheap to import (the
standard library only; Playwright is imported inside :func:`main`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

# Debian's chromium package; CI installs it. Never a browser downloaded by Playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 15_000


# What axe-core checks on every page a scenario photographs: WCAG 2.1 A and AA.
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_script() -> str:
    """axe-core itself (MPL-2.0), as shipped inside the ``axe-playwright-python`` wheel:
    the one place on PyPI that carries the browser script, so no npm step is needed."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or spec.origin is None:
        raise RuntimeError("axe-core is missing: run `make setup` (pip install -e '.[test]').")
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any, script: str) -> list[str]:
    """axe-core's WCAG 2.1 AA violations on the page as it is now, one line each: the
    rule, its impact and the elements it found."""
    page.evaluate(script)  # through the DevTools protocol, so the page's CSP does not apply
    result = page.evaluate("options => axe.run(document, options)",
                           {"runOnly": {"type": "tag", "values": AXE_RULES}, "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in result["violations"]]


class Shots:
    """Numbered full-page screenshots of the key steps, in one folder per test. Each step
    photographed is also checked by axe-core; what it finds fails the scenario at the end."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.axe = axe_script()
        self.violations: dict[str, list[str]] = {}
        self.checked: list[str] = []

    def __call__(self, step: str, *, check: bool = True) -> Path:
        self.count += 1
        name = f"{self.count:02d}-{step}"
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if check:
            self.checked.append(name)
            if found := axe_violations(self.page, self.axe):
                self.violations[f"{name} ({self.page.url})"] = found
        return path


def main() -> None:
    """Run one scenario; the spec is the JSON in ``sys.argv[1]`` (written by conftest)."""
    spec = json.loads(sys.argv[1])
    module_name, _, function_name = spec["scenario"].partition(":")
    scenario = getattr(importlib.import_module(module_name), function_name)
    shots_dir = Path(spec["screenshots"])
    shots_dir.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    # Exits in reverse order: Chromium and the driver stop before the profile is removed.
    with tempfile.TemporaryDirectory(prefix="porchlight-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **spec["context"],
        )
        try:
            context.set_default_timeout(TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            page_errors: list[str] = []
            csp_violations: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("console", lambda msg: csp_violations.append(msg.text)
                    if "Content Security Policy" in msg.text else None)
            shots = Shots(page, shots_dir)
            try:
                result = scenario(page, shots, **spec["params"]) or {}
                # The portal's scripts must run cleanly under its own CSP.
                assert not page_errors, f"JavaScript errors on the page: {page_errors}"
                assert not csp_violations, f"CSP violations: {csp_violations}"
                assert not shots.violations, f"axe-core found accessibility violations: {shots.violations}"
                result = {**result, "axe_checked": shots.checked}
            except BaseException:
                with contextlib.suppress(Exception):  # the original error matters more
                    shots("failure", check=False)
                raise
        finally:
            context.close()
    Path(spec["result"]).write_text(json.dumps(result))
