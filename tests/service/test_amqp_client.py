"""The process's AMQP client (``porchlight.client``) against real RabbitMQ and a real nameko
service: nameko's wire protocol both ways, timeouts and late replies, unknown services,
events to every replica, and recovery after the broker closes the connection."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import eventlet
import pytest
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from nameko.standalone.events import event_dispatcher

from porchlight.client import AmqpClient, ServiceUnavailable, typed
from porchlight.contracts.errors import InvalidInput, NotFound

WAIT = 15.0  # seconds a test waits for something that should happen much sooner

# What the test holds the service's ``wait`` method on, by key, and how it knows it got there.
gates: dict[str, threading.Event] = {}
entered: dict[str, threading.Event] = {}


def gate_for(key: str) -> tuple[threading.Event, threading.Event]:
    gates[key], entered[key] = threading.Event(), threading.Event()
    return gates[key], entered[key]


class Gate:
    name = "amqp_gate"

    @rpc
    def add(self, a: int, b: int = 0) -> int:
        return a + b

    @rpc
    def echo(self, value: Any, delay: float = 0.0) -> Any:
        eventlet.sleep(delay)  # lets the test make replies arrive out of order
        return value

    @rpc
    def missing(self) -> None:
        raise NotFound("No such thing.")

    @rpc
    def invalid(self) -> None:
        raise InvalidInput("Check the fields.", {"name": "Required."})

    @rpc
    def broken(self) -> None:
        raise KeyError("oops")

    @rpc
    def wait(self, key: str) -> str:
        entered[key].set()
        gates[key].wait(WAIT)
        return f"late {key}"


@pytest.fixture
def gate(container_factory: Any, service_config: dict[str, Any]) -> dict[str, Any]:
    from porchlight.runtime.logs import install_expected_error_filter

    install_expected_error_filter()
    container_factory(Gate, service_config).start()
    # Its event exchange, made as broker-users makes a service's: clients only look for it.
    with Connection(service_config["AMQP_URI"], connect_timeout=5) as conn:
        conn.channel().exchange_declare("amqp_gate.events", "topic", durable=True, auto_delete=False)
    return service_config


@pytest.fixture
def make_client(service_config: dict[str, Any]) -> Any:
    made: list[AmqpClient] = []

    def make(timeout: float = 5.0) -> AmqpClient:
        client = AmqpClient(service_config["AMQP_URI"], timeout=timeout, name=f"t-{uuid.uuid4().hex[:12]}")
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def dispatch(config: dict[str, Any], event_type: str, payload: dict) -> None:
    event_dispatcher({"AMQP_URI": config["AMQP_URI"], "serializer": "json"})("amqp_gate", event_type, payload)


class Heard:
    """What a subscription heard, with a way to wait for the next thing."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict]] = []
        self.ready, self.lost = threading.Event(), threading.Event()
        self.ready_count = 0
        self._arrived = threading.Condition()

    def on_event(self, service: str, event_type: str, payload: dict) -> None:
        with self._arrived:
            self.events.append((service, event_type, payload))
            self._arrived.notify_all()

    def on_ready(self) -> None:
        self.ready_count += 1
        self.ready.set()

    def on_lost(self) -> None:
        self.lost.set()

    def wait_for(self, count: int) -> list[tuple[str, str, dict]]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.events) >= count, WAIT), self.events
        return list(self.events)


class GateCalls(Protocol):
    def echo(self, value: Any, delay: float = 0.0) -> Any: ...


class GateServices(Protocol):
    amqp_gate: GateCalls


def test_a_result_comes_back_and_errors_keep_their_types(gate, make_client):
    client = make_client()
    assert client.call("amqp_gate", "add", 2, b=3) == 5
    services = typed(client, GateServices)  # as a process calls: through its declaration
    assert services.amqp_gate.echo({"nested": [1, "two"]}) == {"nested": [1, "two"]}
    with pytest.raises(NotFound):
        client.call("amqp_gate", "missing")
    with pytest.raises(InvalidInput) as info:
        client.call("amqp_gate", "invalid")
    assert info.value.fields == {"name": "Required."}
    with pytest.raises(RemoteError) as remote:
        client.call("amqp_gate", "broken")
    assert remote.value.exc_type == "KeyError"
    assert client.connected


def test_an_unknown_service_fails_at_once(gate, make_client):
    client = make_client(timeout=5.0)
    client.call("amqp_gate", "add", 1)  # connected: what follows measures the call only
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="never_started"):
        client.call("never_started", "anything")
    assert time.monotonic() - started < 1.0  # the broker returned it; nobody waited 5 s


def test_a_timeout_fails_the_call_and_its_late_reply_is_discarded(gate, make_client, caplog):
    client = make_client()
    key = uuid.uuid4().hex
    release, _ = gate_for(key)
    discarded = threading.Event()

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("discarding a reply"):
                discarded.set()

    spy = Spy(level=logging.DEBUG)
    logger = logging.getLogger("porchlight.client")
    logger.addHandler(spy)
    logger.setLevel(logging.DEBUG)
    try:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="did not answer"):
            client.call("amqp_gate", "wait", key, timeout=0.5)
        assert 0.5 <= time.monotonic() - started < 2.0
        release.set()  # the service answers now, too late
        assert discarded.wait(WAIT)
    finally:
        logger.removeHandler(spy)
        logger.setLevel(logging.NOTSET)
    # The late "late <key>" did not end up as anybody's answer.
    assert client.call("amqp_gate", "echo", "fresh") == "fresh"
    assert not any(key in r.getMessage() for r in caplog.records)


def test_concurrent_calls_from_threads_each_get_their_own_answer(gate, make_client):
    client = make_client(timeout=10)
    count = 40
    with ThreadPoolExecutor(16) as pool:
        # Later calls answer sooner: replies arrive out of order.
        results = list(pool.map(lambda i: client.call("amqp_gate", "echo", i, (count - i) * 0.003),
                                range(count)))
    assert results == list(range(count))


def test_subscribers_hear_matching_events_and_every_replica_hears_each(gate, make_client):
    first, second = Heard(), Heard()
    make_client().subscribe([("amqp_gate", "thing_done")], first.on_event, on_ready=first.on_ready)
    make_client().subscribe([("amqp_gate", "#")], second.on_event, on_ready=second.on_ready)
    assert first.ready.wait(WAIT) and second.ready.wait(WAIT)

    dispatch(gate, "other_thing_done", {"n": 1})  # not bound by the first: never delivered
    dispatch(gate, "thing_done", {"n": 2, "workspace_id": "w1"})

    assert first.wait_for(1) == [("amqp_gate", "thing_done", {"n": 2, "workspace_id": "w1"})]
    assert second.wait_for(2) == [
        ("amqp_gate", "other_thing_done", {"n": 1}),
        ("amqp_gate", "thing_done", {"n": 2, "workspace_id": "w1"}),
    ]
    assert first.events == [("amqp_gate", "thing_done", {"n": 2, "workspace_id": "w1"})]


def _close_from_the_broker(connection_name: str) -> None:
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    pids = [line.split("\t", 1)[0] for line in listed.splitlines() if f'"{connection_name}"' in line]
    assert len(pids) == 1, listed
    subprocess.run(["rabbitmqctl", "-q", "close_connection", pids[0], "test: connection lost"],
                   capture_output=True, check=True, timeout=60)


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on this machine")
def test_after_the_broker_closes_the_connection_everything_comes_back(gate, make_client):
    client = make_client(timeout=WAIT)
    heard = Heard()
    client.subscribe([("amqp_gate", "thing_done")], heard.on_event,
                     on_ready=heard.on_ready, on_lost=heard.on_lost)
    assert heard.ready.wait(WAIT) and heard.ready_count == 1
    heard.ready.clear()

    key = uuid.uuid4().hex
    release, arrived = gate_for(key)
    outcome: list[BaseException | str] = []
    in_flight = threading.Thread(target=lambda: outcome.append(_call_or_error(client, key)))
    in_flight.start()
    assert arrived.wait(WAIT)  # the request is with the service when the connection goes

    _close_from_the_broker(f"{client.name} pid {os.getpid()}")

    in_flight.join(WAIT)
    assert len(outcome) == 1 and isinstance(outcome[0], ServiceUnavailable), outcome
    assert heard.lost.is_set()
    assert heard.ready.wait(WAIT) and heard.ready_count == 2
    release.set()

    dispatch(gate, "thing_done", {"after": "reconnect"})
    assert heard.wait_for(1) == [("amqp_gate", "thing_done", {"after": "reconnect"})]
    assert client.call("amqp_gate", "add", 40, 2) == 42
    assert client.connected


def test_close_fails_waiting_calls_and_is_idempotent(gate, make_client):
    client = make_client(timeout=WAIT)
    key = uuid.uuid4().hex
    release, arrived = gate_for(key)
    outcome: list[BaseException | str] = []
    waiting = threading.Thread(target=lambda: outcome.append(_call_or_error(client, key)))
    waiting.start()
    assert arrived.wait(WAIT)
    client.close()
    client.close()
    waiting.join(WAIT)
    release.set()
    assert len(outcome) == 1 and isinstance(outcome[0], ServiceUnavailable), outcome
    with pytest.raises(ServiceUnavailable):
        client.call("amqp_gate", "add", 1)


def test_an_unreachable_broker_fails_the_call_quickly():
    client = AmqpClient("amqp://guest:guest@127.0.0.1:1/", timeout=5.0, name="unreachable")
    try:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="unreachable"):
            client.call("amqp_gate", "add", 1)
        assert time.monotonic() - started < 2.0
        assert not client.connected
    finally:
        client.close()


def _call_or_error(client: AmqpClient, key: str) -> BaseException | str:
    try:
        return client.call("amqp_gate", "wait", key)
    except Exception as exc:  # noqa: BLE001 - the test looks at what came back
        return exc

