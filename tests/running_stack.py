"""The running stack the end-to-end and browser tests drive: every service, the worker and
both gateways as real processes on a RabbitMQ virtual host of their own, started once per
test run (the root conftest exposes the ``stack`` and ``office`` fixtures)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.broker import IsolatedVhost, ensure_broker
from devtools.stack import ROOT, Stack
from porchlight.clock import utcnow
from porchlight.settings import get_settings

# Above the documents service's 4 s wait on signatures, so a slow evidence record comes
# back as the service's own answer, not as the gateway's timeout.
RPC_TIMEOUT = 6.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    ensure_broker(get_settings().amqp_uri)
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        running = Stack(
            amqp_uri=uri, portal_port=free_port(), admin_port=free_port(),
            log_dir=ROOT / "tests" / "output" / "e2e-logs", gateway_workers=1,
            rpc_timeout=RPC_TIMEOUT,
        )
        running.start(timeout=90)
        try:
            yield running
        finally:
            running.stop()


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "porchlight"), *args],
        env={**os.environ, "PORCHLIGHT_AMQP_URI": stack.amqp_uri}, capture_output=True, text=True, timeout=60,
    )


class Office:
    """A workspace's staff over HTTP, with the key the CLI printed."""

    def __init__(self, stack: Stack, name: str) -> None:
        result = cli(stack, "workspace", "create", "--name", name)
        assert result.returncode == 0, result.stderr
        created = json.loads(result.stdout)
        self.workspace_id = created["workspace_id"]
        self.api_key = created["api_key"]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {created['api_key']}"
        self.base = stack.admin_url + "/api/v1"

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.http.post(self.base + path, json=body if body is not None else {}, timeout=10)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=10)

    def work_order(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/work-orders", {"title": "Annual boiler service", **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def share(self, wo_id: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/share-tokens", {"entity": {"type": "work_order", "id": wo_id}, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def tokens(self, wo_id: str) -> list[dict[str, Any]]:
        return self.get(f"/share-tokens?entity_type=work_order&entity_id={wo_id}").json()["share_tokens"]

    def created(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        return response.json()

    def report_awaiting_signature(self, narrative: str = "Replaced the circulation pump.") -> dict[str, Any]:
        """A completed service report: ``{"service_report", "url", ...}`` with a sign link."""
        wo = self.created("/work-orders", {"title": "Boiler repair", "location": "12 Orchard Lane"})
        report = self.created("/service-reports", {"work_order_id": wo["id"], "narrative": narrative})
        return self.created(f"/service-reports/{report['id']}/complete")

    def sent_estimate(self, line_items: list[dict[str, Any]]) -> dict[str, Any]:
        """A sent estimate: ``{"estimate", "url", ...}`` with a link that can answer."""
        estimate = self.created("/estimates", {
            "title": "Boiler repair", "line_items": line_items,
            "valid_until": (utcnow() + timedelta(days=14)).date().isoformat(),
        })
        return self.created(f"/estimates/{estimate['id']}/send")


@pytest.fixture(scope="session")
def office(stack: Stack) -> Office:
    return Office(stack, "Brightwater Plumbing")


