"""The staff inbox over real RabbitMQ: a customer's answer through the real documents
service becomes an inbox item, and two replicas of notifications share the facts — each
handled by one of them, once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import eventlet
import pytest
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import event_dispatcher

from porchlight.client import AmqpClient
from porchlight.contracts.clock import isoformat, utcnow
from services.documents.service import DocumentsService
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from services.sharing.service import SharingService
from services.signatures.service import SignaturesService
from tests.grants import link


def wait_for(predicate: Any, seconds: float = 10.0) -> Any:
    """Poll another process's effect until it shows, or fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        eventlet.sleep(0.05)


def accepted_estimate(rpc: Any) -> tuple[str, dict]:
    ws = rpc.call("identity", "create_workspace", {"name": "Acme"}, "t")["workspace"]["id"]
    est = rpc.call("documents", "create_estimate", ws, "t", {
        "title": "Boiler", "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}],
    })
    rpc.call("documents", "send_estimate", ws, "t", est["id"])
    rpc.call("documents", "respond_to_estimate", link(ws, "estimate", est["id"]), est["id"], {
        "response": "accept", "revision": 1, "signer_name": "Dana Fix", "ip": "192.0.2.10"})
    return ws, est


def test_an_accepted_estimate_reaches_the_staff_inbox(rpc):
    ws, est = accepted_estimate(rpc)
    items = wait_for(lambda: rpc.call("notifications", "list_inbox", ws, {})["items"])
    assert [i["entity"] for i in items] == [{"type": "estimate", "id": est["id"], "number": est["number"]}]
    [item] = items
    assert item["kind"] == "estimate_accepted" and item["details"]["signer_name"] == "Dana Fix"
    assert item["details"]["certificate_id"].startswith("cert_")
    # What documents put in the fact: the number, the title and the total of the answer.
    assert item["title"] == f"Estimate {est['number']} accepted"
    assert item["summary"].startswith(
        f"Dana Fix accepted estimate {est['number']} “Boiler” (revision 1), total ")


HANDLED: Counter = Counter()  # (replica, handler) → calls


class HandlerCalls(DependencyProvider):
    """Counts each worker an entrypoint starts, per container: what each replica handled."""

    def worker_setup(self, worker_ctx: Any) -> None:
        if isinstance(worker_ctx.entrypoint, EventHandler):  # not the test's list_inbox calls
            HANDLED[(id(self.container), worker_ctx.entrypoint.method_name)] += 1


class CountedNotifications(NotificationsService):
    handler_calls = HandlerCalls()


@pytest.fixture
def rpc_pool(service_config: dict[str, Any]) -> Any:
    """A client without the ``services`` fixture, whose runner has a notifications replica
    of its own."""
    client = AmqpClient(service_config["AMQP_URI"], timeout=5, name="tests")
    yield client
    client.close()


def test_two_replicas_handle_each_fact_once(runner_factory, container_factory, service_config, rpc_pool):
    HANDLED.clear()
    runner_factory(service_config, IdentityService, DocumentsService, SignaturesService,
                   SharingService).start()
    # One worker each, so the broker hands the facts out in turn rather than in batches.
    # Both open the one "notifications" database; neither drops it on stop, as the other
    # may still be using it (the prefix is this test's own).
    replicas = [container_factory(CountedNotifications, {**service_config, "max_workers": 1,
                                                         "MONGODB_DROP_ON_STOP": False})
                for _ in range(2)]
    for replica in replicas:
        replica.start()

    ws, est = accepted_estimate(rpc_pool)  # one real fact, from documents
    assert wait_for(lambda: rpc_pool.call("notifications", "list_inbox", ws, {})["items"])
    rpc_pool.call("identity", "update_workspace", ws, "t", {"notification_addresses": ["desk@acme.example"]})
    dispatch = event_dispatcher(service_config)
    facts = [{"workspace_id": ws, "actor": "customer", "occurred_at": isoformat(utcnow()),
              "estimate_id": f"{n:024x}", "revision": 1, "certificate_id": "cert_" + "2" * 32,
              "number": f"EST-9{n:03}", "title": "Boiler", "signer_name": "Dana Fix", "reason": None,
              "total": "€80.00"}
             for n in range(9)]
    for payload in facts:
        dispatch("documents", "estimate_approved", payload)
    dispatch("documents", "estimate_approved", facts[0])  # delivered again

    def listed() -> list[dict]:
        return rpc_pool.call("notifications", "list_inbox", ws, {"limit": "100"})["items"]

    assert wait_for(lambda: len(listed()) == 10 and sum(HANDLED.values()) >= 11), (listed(), HANDLED)
    calls = {key[1] for key in HANDLED}
    assert calls == {"on_estimate_approved"}
    assert sum(HANDLED.values()) == 11  # ten facts and one redelivery, each handled once
    assert len({key[0] for key in HANDLED}) == len(replicas), HANDLED  # both took a share
    expected = [est["id"], *(f["estimate_id"] for f in facts)]
    assert sorted(i["entity"]["id"] for i in listed()) == sorted(expected)
    # And one email to the office per fact that came after the address was set: never two.
    emailed = rpc_pool.call("notifications", "list_emails", ws, {"limit": "100"})["emails"]
    assert sorted(e["entity"]["id"] for e in emailed) == sorted(f["estimate_id"] for f in facts)
