"""The worker's part, run in the test process: the tasks the services queued on the test
broker are taken off the real queue and run by the real task code, eagerly — a retry's
wait is skipped (the broker would hold the message that long), nothing else is.

``mail_server`` is a real SMTP server (``devtools.mail_server``); ``worker`` points the
tasks at it and at the test broker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kombu import Connection

from devtools.mail_server import MailServer
from workers import tasks
from workers.celery_app import celery


@dataclass
class Worker:
    amqp_uri: str

    def purge(self) -> None:
        """Drop what earlier tests left on the queue: this test runs only its own tasks."""
        with Connection(self.amqp_uri) as conn:
            queue = conn.SimpleQueue("celery")
            try:
                queue.clear()
            finally:
                queue.close()

    def queued(self, count: int, timeout: float = 10.0) -> list[tuple[str, list[Any]]]:
        """Take ``count`` task messages off the queue (waiting for them to arrive)."""
        found: list[tuple[str, list[Any]]] = []
        deadline = time.monotonic() + timeout
        with Connection(self.amqp_uri) as conn:
            queue = conn.SimpleQueue("celery")
            try:
                while len(found) < count and time.monotonic() < deadline:
                    try:
                        message = queue.get(block=True, timeout=0.2)
                    except queue.Empty:
                        continue
                    found.append((message.headers["task"], list(message.payload[0])))
                    message.ack()
            finally:
                queue.close()
        assert len(found) == count, f"expected {count} queued tasks, found {found}"
        return found

    def run(self, name: str, args: list[Any]) -> None:
        """Run one task as the worker would. Run eagerly, Celery runs a retry at once,
        in this call — the wait it asked for is the only thing skipped."""
        result = celery.tasks[name].apply(args=args)
        if result.state == "FAILURE":
            raise result.result

    def run_queued(self, count: int) -> list[tuple[str, list[Any]]]:
        """Take ``count`` tasks off the queue and run each."""
        found = self.queued(count)
        for name, args in found:
            self.run(name, args)
        return found


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def worker(services: dict[str, Any], rpc: Any, mail_server: MailServer, settings_env: Any,
           monkeypatch: pytest.MonkeyPatch) -> Worker:
    settings_env(smtp_url=mail_server.url, mail_from="office@porchlight.test")
    monkeypatch.setattr(tasks, "amqp_client", lambda: rpc)
    worker = Worker(services["AMQP_URI"])
    worker.purge()
    return worker
