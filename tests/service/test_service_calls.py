"""``TimedRpcProxy`` and ``RpcHandover`` over real RabbitMQ: a neighbour that never answers
costs its caller the bound and no more, a request nobody picked up in time is never run,
and a hand-over returns before the work is done.

The services here borrow real names (``documents`` waits on ``signatures``, ``identity`` hands
over to ``notifications``) because the providers refuse an edge the call graph does not
declare; each test's stand-ins are the only consumers of those queues while it runs.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
import pytest
from eventlet.event import Event
from nameko.rpc import rpc

from porchlight.client import AmqpClient
from porchlight.contracts.errors import Unavailable
from porchlight.kit.request_tracing import RequestTracing
from porchlight.kit.service_calls import RpcHandover, TimedRpcProxy, UndeclaredCall
from porchlight.runtime import request_context

BOUND = 0.5
SETTLE = 0.5  # far longer than the next call takes to be made and answered
REFUSAL = "The neighbour did not answer; nothing was changed."


class Neighbour:
    """A stand-in for signatures: one worker, a method that blocks until released."""

    name = "signatures"
    release = Event()
    ran: list[str] = []
    hanging = False

    @rpc
    def hang(self) -> str:
        Neighbour.hanging = True
        Neighbour.release.wait()
        return "late"

    @rpc
    def note(self, word: str) -> str:
        Neighbour.ran.append(word)
        return word

    @rpc
    def keys(self) -> str | None:
        return request_context.command_key()


class Caller:
    name = "documents"
    tracing = RequestTracing()
    signatures = TimedRpcProxy("signatures", timeout=BOUND, refusal=REFUSAL)

    @rpc
    def ask(self, method: str, *args: Any) -> Any:
        return getattr(self.signatures, method)(*args)

    @rpc
    def own_and_next_key(self) -> list[str | None]:
        return [request_context.command_key(), self.signatures.keys()]

    @rpc
    def own_deadline(self) -> float | None:
        return request_context.deadline()


class Sender:
    name = "identity"
    notifications = RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL)

    @rpc
    def send(self, word: str) -> str:
        self.notifications.note(word)
        return "handed over"


class HoldingSender:
    """Hands over both ways: ``now`` at once, ``later`` once its answer has been sent."""

    name = "identity"
    now = RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL)
    later = RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL, after_answer=True)
    release = Event()
    waiting = False

    @rpc
    def send_after(self, word: str, marker: str) -> str:
        self.later.note(word)
        self.now.note(marker)
        HoldingSender.waiting = True
        HoldingSender.release.wait()
        return "answered"

    @rpc
    def send_unpublishable(self) -> str:
        self.later.note(object())  # the publish after the answer fails: no serializer takes it
        return "answered"

    @rpc
    def send_then_fail(self, word: str) -> None:
        self.later.note(word)
        raise RuntimeError("the command failed after handing over")


class SettlingSender:
    """Hands a command over a while after its answer, and another at once on request."""

    name = "identity"
    now = RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL)
    later = RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL, after_answer=True, settle=SETTLE)

    @rpc
    def send_settled(self, word: str) -> str:
        self.later.note(word)
        return "answered"

    @rpc
    def send_now(self, word: str) -> str:
        self.now.note(word)
        return "answered"


class Receiver(Neighbour):
    name = "notifications"


@pytest.fixture(autouse=True)
def fresh_neighbour() -> Any:
    Neighbour.release = Event()
    Neighbour.ran = []
    Neighbour.hanging = False
    HoldingSender.release = Event()
    HoldingSender.waiting = False
    yield
    if not HoldingSender.release.ready():
        HoldingSender.release.send(None)
    if not Neighbour.release.ready():
        Neighbour.release.send(None)  # let a blocked worker finish so its container stops


@pytest.fixture
def rpc_client(service_config: dict[str, Any]) -> Any:
    client = AmqpClient(service_config["AMQP_URI"], timeout=5, name="tests")
    yield client
    client.close()


def wait_for(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the expected effect never came"
        eventlet.sleep(0.01)


def start(container_factory: Any, config: dict[str, Any], cls: type, workers: int = 10) -> Any:
    container = container_factory(cls, {**config, "max_workers": workers})
    container.start()
    return container


def test_a_neighbour_that_never_answers_costs_the_bound_and_the_caller_recovers(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    start(container_factory, service_config, Neighbour)
    start(container_factory, service_config, Caller)
    started = time.monotonic()
    with pytest.raises(Unavailable) as refused:
        rpc_client.call("documents", "ask", "hang")
    elapsed = time.monotonic() - started
    assert refused.value.message == REFUSAL
    assert BOUND <= elapsed < BOUND + 2.0, elapsed
    # The caller's worker is free again, and the same neighbour answers what it can.
    assert rpc_client.call("documents", "ask", "note", "after") == "after"


def test_a_request_nobody_picked_up_within_the_bound_is_never_run(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    start(container_factory, service_config, Neighbour, workers=1)
    start(container_factory, service_config, Caller)
    blocked = eventlet.spawn(rpc_client.call, "documents", "ask", "hang")  # takes the one worker
    wait_for(lambda: blocked.dead)  # refused after the bound; the neighbour still blocks
    with pytest.raises(Unavailable):
        rpc_client.call("documents", "ask", "note", "expired")  # queued behind the blocked worker
    Neighbour.release.send(None)
    assert rpc_client.call("documents", "ask", "note", "fresh") == "fresh"
    # Messages are taken in order, so "expired" was dropped before "fresh" ran.
    assert Neighbour.ran == ["fresh"]


def test_a_handover_returns_at_once_and_the_command_runs_when_the_neighbour_is_free(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    start(container_factory, service_config, Receiver, workers=1)
    start(container_factory, service_config, Sender)
    busy = eventlet.spawn(rpc_client.call, "notifications", "hang")
    wait_for(lambda: Neighbour.hanging)  # the receiver's one worker is taken
    assert rpc_client.call("identity", "send", "queued") == "handed over"
    assert Neighbour.ran == []  # not run yet: nobody waited for it
    Neighbour.release.send(None)
    busy.wait()
    wait_for(lambda: Neighbour.ran == ["queued"])


def test_a_handover_after_the_answer_goes_only_once_the_worker_has_answered(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    """The receiver has one worker, so it runs its commands in the order they were
    published: had "held" gone when it was handed over, it would run before "marker"."""
    start(container_factory, service_config, Receiver, workers=1)
    start(container_factory, service_config, HoldingSender)
    answer = eventlet.spawn(rpc_client.call, "identity", "send_after", "held", "marker")
    wait_for(lambda: HoldingSender.waiting)
    wait_for(lambda: Neighbour.ran == ["marker"])  # "held" was not published first
    assert not answer.dead
    HoldingSender.release.send(None)
    assert answer.wait() == "answered"
    wait_for(lambda: Neighbour.ran == ["marker", "held"])


def test_a_handover_after_the_answer_is_dropped_when_the_worker_fails(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    start(container_factory, service_config, Receiver, workers=1)
    start(container_factory, service_config, HoldingSender)
    with pytest.raises(Exception, match="failed after handing over"):
        rpc_client.call("identity", "send_then_fail", "dropped")
    HoldingSender.release.send(None)  # the next command answers at once
    assert rpc_client.call("identity", "send_after", "held", "marker") == "answered"
    # In order on the receiver's queue: "dropped", had it gone, would have run first.
    wait_for(lambda: Neighbour.ran == ["marker", "held"])


def test_a_handover_that_fails_after_the_answer_does_not_stop_the_service(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    """After the answer nothing can tell the caller; an error raised there would end the
    container (the broker gone for a moment once stopped identity this way)."""
    start(container_factory, service_config, Receiver, workers=1)
    sender = start(container_factory, service_config, HoldingSender)
    assert rpc_client.call("identity", "send_unpublishable") == "answered"
    HoldingSender.release.send(None)
    assert rpc_client.call("identity", "send_after", "held", "marker") == "answered"
    wait_for(lambda: Neighbour.ran == ["marker", "held"])
    assert not sender._died.ready()


def test_a_settled_handover_goes_a_while_after_the_answer_and_before_the_service_stops(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    """The receiver runs commands in the order they were published (one worker): "settled",
    answered first, is published after "at once", asked for after that answer."""
    start(container_factory, service_config, Receiver, workers=1)
    sender = start(container_factory, service_config, SettlingSender)
    assert rpc_client.call("identity", "send_settled", "settled") == "answered"
    assert rpc_client.call("identity", "send_now", "at once") == "answered"
    wait_for(lambda: Neighbour.ran == ["at once", "settled"])
    # Stopping waits for what is still settling: the promise is kept.
    assert rpc_client.call("identity", "send_settled", "kept") == "answered"
    sender.stop()
    wait_for(lambda: Neighbour.ran == ["at once", "settled", "kept"])


def test_only_a_handover_after_the_answer_can_settle() -> None:
    with pytest.raises(ValueError, match="after the answer"):
        RpcHandover("notifications", timeout=BOUND, refusal=REFUSAL, settle=0.1)


def test_an_edge_the_call_graph_does_not_declare_refuses_to_start(
        container_factory: Any, service_config: dict[str, Any]) -> None:
    class Stray:
        name = "signatures"  # waits on no one, by the graph
        identity = TimedRpcProxy("identity", timeout=BOUND, refusal=REFUSAL)

        @rpc
        def anything(self) -> None:
            return None

    container = container_factory(Stray, service_config)
    with pytest.raises(UndeclaredCall, match="signatures waits on identity"):
        container.start()


def test_a_call_tells_the_service_when_its_caller_stops_waiting(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    start(container_factory, service_config, Caller)
    before = time.time()
    seen = rpc_client.call("documents", "own_deadline", timeout=3)
    assert before + 3 <= seen + 0.01 and seen <= time.time() + 3


def test_a_staff_commands_key_stops_at_the_service_it_was_sent_to(
        container_factory: Any, service_config: dict[str, Any], rpc_client: Any) -> None:
    """An idempotency key names one command: were it passed on, the next service would
    take its own command for a retry of the first."""
    start(container_factory, service_config, Neighbour)
    start(container_factory, service_config, Caller)
    with request_context.command("create-7"):
        assert rpc_client.call("documents", "own_and_next_key") == ["create-7", None]
    assert rpc_client.call("documents", "own_and_next_key") == [None, None]
