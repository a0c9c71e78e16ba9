"""The request id across real service containers on real RabbitMQ: sent by the AmqpClient,
current in the service's worker (its log lines carry it), passed on by nameko to the calls
and events that worker makes, and put on the Celery tasks it queues."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter
from prometheus_client import REGISTRY

from porchlight.client import AmqpClient
from porchlight.kit.request_tracing import RequestTracing
from porchlight.kit.task_queue import TaskQueue
from porchlight.runtime import logs, request_context

UUID_HEX = re.compile(r"[0-9a-f]{32}")


class Listener:
    """Another service, hearing identity's event with its own RequestTracing."""

    name = "trace_listener"
    tracing = RequestTracing()
    heard: list[tuple[str, str | None]] = []

    @event_handler("identity", "workspace_created")
    def on_workspace_created(self, payload: dict[str, Any]) -> None:
        Listener.heard.append((payload["workspace_id"], request_context.current()))


class Queuer:
    name = "trace_queuer"
    tracing = RequestTracing()
    tasks = TaskQueue()

    @rpc
    def queue_nothing(self) -> bool:
        return self.tasks.enqueue("porchlight.tests.nothing", 1)


class Captured(logging.Handler):
    """Log lines as a real handler sees them: stamped by ``RequestIdFilter`` in the
    greenthread that logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(logs.RequestIdFilter())
        self.lines: list[tuple[str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.getMessage(), record.request_id))

    def ids_of(self, prefix: str, within: float = 5.0) -> list[str | None]:
        """The ids of the lines starting with ``prefix``, waiting for at least one: a worker
        writes its line after its reply is sent, so the caller can be answered first."""
        deadline = time.monotonic() + within
        while True:
            found = [request_id for message, request_id in list(self.lines) if message.startswith(prefix)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.01)


@pytest.fixture
def worker_lines() -> Iterator[Captured]:
    """What the services' ``RequestTracing`` writes: one line per call handled."""
    logger = logging.getLogger("porchlight.worker")
    captured = Captured()
    logger.addHandler(captured)
    logger.setLevel(logging.INFO)
    yield captured
    logger.removeHandler(captured)
    logger.setLevel(logging.NOTSET)
    request_context.clear()


@pytest.fixture
def listener(container_factory: Any, services: dict[str, Any]) -> Any:
    Listener.heard = []
    container = container_factory(Listener, services)
    container.start()
    return container


def test_the_id_sent_with_a_call_is_in_the_service_log_and_on_its_events(rpc, listener, worker_lines):
    with request_context.bound("trace-svc-0001"), entrypoint_waiter(listener, "on_workspace_created"):
        created = rpc.call("identity", "create_workspace", {"name": "Acme Traced"}, "test")
    assert worker_lines.ids_of("identity.create_workspace ok ") == ["trace-svc-0001"]
    assert Listener.heard == [(created["workspace"]["id"], "trace-svc-0001")]
    assert worker_lines.ids_of("trace_listener.on_workspace_created ok ") == ["trace-svc-0001"]


def test_each_event_sent_is_counted_once_under_its_service_and_type(rpc, listener):
    """``porchlight_events_dispatched``: what the replica test sets against the events handled."""
    labels = {"service": "identity", "event_type": "workspace_created"}
    before = REGISTRY.get_sample_value("porchlight_events_dispatched_total", labels) or 0.0
    with entrypoint_waiter(listener, "on_workspace_created"):
        rpc.call("identity", "create_workspace", {"name": "Acme Counted"}, "test")
    assert REGISTRY.get_sample_value("porchlight_events_dispatched_total", labels) == before + 1


def test_a_call_without_an_id_gets_one_that_its_events_carry(rpc, listener, worker_lines):
    """The CLI's calls come without an id: identity makes one, and the event it dispatches
    in that same call carries it (nameko's own EventDispatcher would have sent none)."""
    request_context.clear()
    with entrypoint_waiter(listener, "on_workspace_created"):
        rpc.call("identity", "create_workspace", {"name": "Acme Untraced"}, "test")
    [made] = worker_lines.ids_of("identity.create_workspace ok ")
    assert made is not None and UUID_HEX.fullmatch(made)
    assert [request_id for _, request_id in Listener.heard] == [made]


def test_a_forged_id_on_the_wire_is_replaced_not_passed_on(services, listener, worker_lines):
    """An id that is not sane never reaches a log line or a neighbour, whoever sent it (here
    nameko's own client, which sends any context data it is given)."""
    forged = {"request_id": "forged\n2026-01-01 ERROR fake line"}
    with ClusterRpcProxy(services, context_data=forged) as proxy, \
            entrypoint_waiter(listener, "on_workspace_created"):
        proxy.identity.create_workspace({"name": "Acme Forged"}, "test")
    [made] = worker_lines.ids_of("identity.create_workspace ok ")
    assert made is not None and UUID_HEX.fullmatch(made)
    assert [request_id for _, request_id in Listener.heard] == [made]


def test_a_service_calling_another_passes_the_id_on(rpc, worker_lines):
    """documents checks the record, then asks sharing to mint the link."""
    workspace_id = rpc.call("identity", "create_workspace", {"name": "Acme"}, "test")["workspace"]["id"]
    work_order = rpc.call("documents", "create_work_order", workspace_id, "staff:1", {"title": "Boiler"})
    with request_context.bound("trace-svc-0002"):
        rpc.call("documents", "share_record", workspace_id, "staff:1", {
            "entity": {"type": "work_order", "id": work_order["id"]}, "permissions": ["view"]})
    assert worker_lines.ids_of("documents.share_record ok ") == ["trace-svc-0002"]
    # sharing answered documents (its line may follow its reply by a moment), with the same id.
    assert worker_lines.ids_of("sharing.mint_token ok ") == ["trace-svc-0002"]


def test_a_task_a_service_queues_carries_the_id(container_factory, services, rpc):
    uri = services["AMQP_URI"]
    with Connection(uri) as conn:
        conn.SimpleQueue("celery").clear()
    container = container_factory(Queuer, services)
    container.start()
    with request_context.bound("trace-svc-0003"):
        assert rpc.call("trace_queuer", "queue_nothing") is True
    request_context.clear()
    headers = None
    deadline = time.monotonic() + 10
    with Connection(uri) as conn:
        queue = conn.SimpleQueue("celery")
        try:
            while headers is None and time.monotonic() < deadline:
                try:
                    message = queue.get(block=True, timeout=0.2)
                except queue.Empty:
                    continue
                if message.headers.get("task") == "porchlight.tests.nothing":
                    headers = message.headers
                message.ack()
        finally:
            queue.close()
    assert headers is not None and headers["request_id"] == "trace-svc-0003"


def test_the_gateways_event_consumer_hears_the_id_of_the_request_behind_an_event(rpc, services):
    """The portal's read model hears events through the AmqpClient: while its handler runs,
    the id of the request that caused the event is current (and on its log lines)."""
    heard: list[tuple[str, str | None]] = []
    ready = threading.Event()
    consumer = AmqpClient(services["AMQP_URI"], timeout=5, name="tests-trace-consumer")
    try:
        def on_event(_service: str, _event_type: str, payload: dict[str, Any]) -> None:
            heard.append((payload["workspace_id"], request_context.current()))

        consumer.subscribe([("identity", "workspace_created")], on_event, on_ready=ready.set)
        assert ready.wait(10)
        with request_context.bound("trace-svc-0004"):
            created = rpc.call("identity", "create_workspace", {"name": "Acme Heard"}, "test")
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard == [(created["workspace"]["id"], "trace-svc-0004")]
    finally:
        consumer.close()
