"""The running stack the end-to-end and browser tests drive: every service, the worker and
both gateways as real processes on a RabbitMQ virtual host of their own, and a local mail
server in this process (``stack.mail``), started once per test run (the root conftest
exposes the ``stack`` and ``office`` fixtures)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.broker import IsolatedVhost, ensure_broker
from devtools.stack import ROOT, Stack, free_port
from porchlight.runtime.settings import get_settings
from tests.staff import OverHttp, StaffApi

# Above the documents service's 4 s wait on signatures, so a slow evidence record comes
# back as the service's own answer, not as the gateway's timeout.
RPC_TIMEOUT = 6.0
# A signature as the signing page posts it: two strokes of an SVG path.
SIGNATURE_PATH = "M20 80 L60 40 L100 90 L140 30 M200 100 L260 60"


def csrf(html: str) -> str:
    """The CSRF token of the first form on a portal page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# The form a link page's script (seen.js) posts once the page is shown to a person.
SEEN_FORM = re.compile(r'<form id="seen" method="post" action="([^"]+)" hidden>'
                       r'<input type="hidden" name="ticket" value="([^"]+)"></form>')


def seen_form(html: str) -> tuple[str, dict[str, str]]:
    """Where a link page's script reports it shown, and what it posts."""
    action, ticket = SEEN_FORM.search(html).groups()
    return action, {"ticket": ticket}


def viewed(client: Any, url: str) -> Any:
    """Open a link's page as a person's browser does — fetch it, then post what its script
    posts once the page is visible — with a Flask test client or a ``requests.Session``
    (``url`` absolute then); the page."""
    page = client.get(url)
    assert page.status_code == 200, url
    action, form = seen_form(page.text)
    seen = client.post(url[:url.index("/portal/")] + action, data=form)
    assert seen.status_code == 204, seen.text
    return page


def ops_metrics(stack: Stack, name: str) -> str:
    """Process ``name``'s ``/metrics`` (Prometheus text) from its ops endpoint."""
    response = requests.get(stack.ops_url(name) + "/metrics", timeout=10)
    assert response.status_code == 200, name
    return response.text


def json_lines(log: Path) -> list[dict[str, Any]]:
    """The log file's JSON lines (a line a process printed before its logging was set up,
    like a library's import-time warning, is skipped here and counted by the caller)."""
    entries = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries




@contextmanager
def own_stack(logs: str, *, timeout: float = 90, **options: Any) -> Iterator[Stack]:
    """A whole stack on a RabbitMQ virtual host of its own, started and, after, stopped:
    never a real mail server (the worker sends to ``stack.mail``), JSON log lines as in
    the images, this run's logs only in ``tests/output/<logs>/``. ``options`` are the
    ``Stack``'s own (``replicas``, ``gateway_workers``, …)."""
    ensure_broker(get_settings().amqp_uri)
    log_dir = ROOT / "tests" / "output" / logs
    for old in log_dir.glob("*.log"):  # the tests read this run's logs only
        old.unlink()
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        running = Stack(amqp_uri=uri, portal_port=free_port(), admin_port=free_port(), log_dir=log_dir,
                        rpc_timeout=RPC_TIMEOUT, local_mail=True, log_format="json", **options)
        running.start(timeout=timeout)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # Every message the worker sends is in ``stack.mail.messages`` and tests/output/mail/;
    # tests/e2e/test_request_id.py reads the JSON log lines. The services keep their data
    # in the local store (unless PORCHLIGHT_MONGODB_URI names a MongoDB): one process
    # beside them that they reach with pymongo over the wire, every document encoded as
    # BSON, as in production.
    # Loopback is a trusted proxy, and a gateway serves 40 requests at once: tests/faults
    # bring three times a service's workers to it at once, as many clients (X-Forwarded-For;
    # a request without one is still 127.0.0.1's).
    with own_stack("e2e-logs", gateway_workers=1, gateway_threads=40, shared_store=True,
                   trusted_proxies="127.0.0.1") as running:
        yield running


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "porchlight"), *args],
        env={**os.environ, "PORCHLIGHT_AMQP_URI": stack.amqp_uri}, capture_output=True, text=True, timeout=60,
    )


def office_of(stack: Stack, name: str) -> StaffApi:
    """A new workspace's staff over HTTP, with the key the CLI printed."""
    result = cli(stack, "workspace", "create", "--name", name)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    return StaffApi(OverHttp(stack.admin_url), created["workspace_id"], created["api_key"])


@pytest.fixture(scope="session")
def office(stack: Stack) -> StaffApi:
    return office_of(stack, "Brightwater Plumbing")


def eventually(check, within: float = 5.0):
    """``check()``'s first true answer, asked until ``within`` seconds pass: for what
    reaches the portal by an event or a batch (in milliseconds, or one flush interval), or
    what the worker does next."""
    deadline = time.monotonic() + within
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return answer
