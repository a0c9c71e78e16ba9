"""Racing answers over real RabbitMQ: however many arrive at once, exactly one outcome,
one event and one evidence record."""

from __future__ import annotations

import time
from datetime import timedelta

import eventlet
import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher

from porchlight.client import AmqpClient
from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict
from tests.grants import link

# Dispatched by the test after a race, on each outcome's queue. A queue is first in, first
# out, and the listener takes one message at a time: once it has heard the barrier, it has
# heard every outcome the race dispatched.
BARRIER = {"barrier": True}


class Outcomes:
    name = "outcome_listener"
    heard: list[str] = []
    barriers: list[str] = []

    def hear(self, event: str, payload: dict) -> None:
        (self.barriers if payload == BARRIER else self.heard).append(event)

    @event_handler("documents", "estimate_approved")
    def approved(self, payload: dict) -> None:
        self.hear("estimate_approved", payload)

    @event_handler("documents", "estimate_rejected")
    def rejected(self, payload: dict) -> None:
        self.hear("estimate_rejected", payload)

    @event_handler("documents", "service_report_signed")
    def signed(self, payload: dict) -> None:
        self.hear("service_report_signed", payload)


@pytest.fixture
def listener(container_factory, services):
    Outcomes.heard = []
    Outcomes.barriers = []
    # One worker: each message is handled, and acknowledged, before the next is delivered.
    container = container_factory(Outcomes, {**services, "max_workers": 1})
    container.start()
    return Outcomes


@pytest.fixture
def hear_all(services, listener):
    """``hear_all(*events)`` returns once the listener has handled every event dispatched
    so far on those queues. The racing calls have all returned, and documents dispatches
    before it replies, so the race's outcomes are ahead of the barrier."""
    dispatch = event_dispatcher(services)

    def wait(*events: str) -> None:
        for event in events:
            dispatch("documents", event, BARRIER)
        assert wait_for(lambda: sorted(listener.barriers) == sorted(events)), listener.barriers

    return wait


@pytest.fixture
def racer(services):
    """A client of its own with a longer timeout: twenty calls wait on one another."""
    client = AmqpClient(services["AMQP_URI"], timeout=20, name="racer")
    yield client
    client.close()


def workspace(rpc) -> str:
    return rpc.call("identity", "create_workspace", {"name": "Acme"}, "t")["workspace"]["id"]


def estimate(rpc, ws) -> dict:
    return rpc.call("documents", "create_estimate", ws, "t", {
        "title": "Boiler", "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}],
    })


def race(pool, calls):
    """Start every call at once; return (successes, conflicts)."""
    pile = eventlet.GreenPile(len(calls))

    def attempt(args):
        try:
            return ("ok", pool.call(*args))
        except Conflict:
            return ("conflict", None)

    for args in calls:
        pile.spawn(attempt, args)
    results = list(pile)
    return [r for kind, r in results if kind == "ok"], sum(kind == "conflict" for kind, _ in results)


def wait_for(predicate, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        eventlet.sleep(0.05)
    return True


def answer(ws, est_id, response, name):
    return ("documents", "respond_to_estimate", link(ws, "estimate", est_id), est_id, {
        "response": response, "revision": 1, "signer_name": name, "ip": "192.0.2.10"})


def test_twenty_simultaneous_accepts_make_one_outcome(rpc, racer, listener, hear_all):
    ws = workspace(rpc)
    est = estimate(rpc, ws)
    wins, conflicts = race(racer, [answer(ws, est["id"], "accept", f"Signer {i}") for i in range(20)])
    assert len(wins) == 1 and conflicts == 19
    stored = rpc.call("documents", "get_estimate", ws, est["id"])
    assert stored["status"] == "approved"
    assert len(rpc.call("signatures", "list_evidence", ws, "estimate", est["id"])) == 1
    hear_all("estimate_approved")
    assert listener.heard == ["estimate_approved"]


def test_an_accept_racing_a_decline_makes_one_outcome(rpc, racer, listener, hear_all):
    ws = workspace(rpc)
    est = estimate(rpc, ws)
    calls = [answer(ws, est["id"], "accept" if i % 2 else "decline", f"Signer {i}") for i in range(10)]
    wins, conflicts = race(racer, calls)
    assert len(wins) == 1 and conflicts == 9
    evidence = rpc.call("signatures", "list_evidence", ws, "estimate", est["id"])
    assert len(evidence) == 1
    status = rpc.call("documents", "get_estimate", ws, est["id"])["status"]
    assert {"approved": "acceptance", "rejected": "decline"}[status] == evidence[0]["kind"]
    hear_all("estimate_approved", "estimate_rejected")
    assert len(listener.heard) == 1


def test_twenty_simultaneous_signatures_make_one_signature(rpc, racer, listener, hear_all):
    ws = workspace(rpc)
    wo = rpc.call("documents", "create_work_order", ws, "t", {"title": "Pump"})
    report = rpc.call("documents", "create_service_report", ws, "t", {"work_order_id": wo["id"]})
    rpc.call("documents", "complete_service_report", ws, "t", report["id"])
    capability = link(ws, "service_report", report["id"])
    calls = [("documents", "sign_service_report", capability, report["id"], {
        "signer_name": f"Signer {i}", "signature_path": f"M1 1 L{i + 2} {i + 2}", "ip": "192.0.2.1"})
        for i in range(20)]
    wins, conflicts = race(racer, calls)
    assert len(wins) == 1 and conflicts == 19
    [evidence] = rpc.call("signatures", "list_evidence", ws, "service_report", report["id"])
    signed = rpc.call("documents", "get_service_report", ws, report["id"])
    assert evidence["signer_name"] == signed["signed_by"]
    hear_all("service_report_signed")
    assert listener.heard == ["service_report_signed"]
