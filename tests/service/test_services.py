"""The services over real RabbitMQ: typed errors, events, concurrency, and the
processes' AMQP client when a service is missing or comes back."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import eventlet
import pytest
from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter

from porchlight.client import AmqpClient, ServiceUnavailable
from porchlight.contracts.clock import isoformat, parse_iso, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from services.sharing.service import SharingService


class AuditTrail:
    """A stand-in subscriber: what an audit or notification service would hear."""

    name = "audit_trail"
    heard: list[tuple[str, dict]] = []

    @event_handler("documents", "work_order_created")
    def work_order_created(self, payload: dict) -> None:
        self.heard.append(("work_order_created", payload))

    @event_handler("sharing", "share_token_minted")
    def share_token_minted(self, payload: dict) -> None:
        self.heard.append(("share_token_minted", payload))

    @event_handler("sharing", "share_token_revoked")
    def share_token_revoked(self, payload: dict) -> None:
        self.heard.append(("share_token_revoked", payload))


def links(rpc: AmqpClient, ws: str, entity_type: str, entity_id: str) -> list:
    """The record's links, as staff list them (their first page)."""
    query = {"entity_type": entity_type, "entity_id": entity_id}
    return rpc.call("sharing", "list_tokens", ws, query)["share_tokens"]


def workspace(rpc: AmqpClient) -> str:
    return rpc.call("identity", "create_workspace", {"name": "Acme"}, "test")["workspace"]["id"]


def test_errors_cross_the_broker_with_their_types(rpc):
    with pytest.raises(NotFound):
        rpc.call("documents", "get_work_order", "a" * 24, "b" * 24)
    with pytest.raises(InvalidInput) as info:
        rpc.call("identity", "create_workspace", {"name": "", "currency": "x"}, "test")
    assert set(info.value.fields) == {"name", "currency"}
    ws = workspace(rpc)
    rpc.call("documents", "create_work_order", ws, "t", {"title": "A", "number": "N-1"})
    with pytest.raises(Conflict):
        rpc.call("documents", "create_work_order", ws, "t", {"title": "B", "number": "N-1"})


def test_state_changes_are_announced_as_past_tense_facts(container_factory, service_config, rpc):
    AuditTrail.heard = []
    listener = container_factory(AuditTrail, service_config)
    listener.start()
    ws = workspace(rpc)
    with entrypoint_waiter(listener, "work_order_created"):
        wo = rpc.call("documents", "create_work_order", ws, "staff:1", {"title": "Boiler"})
    with entrypoint_waiter(listener, "share_token_minted"):
        minted = rpc.call("sharing", "mint_token", ws, "staff:1", {
            "entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]})
    with entrypoint_waiter(listener, "share_token_revoked"):
        rpc.call("sharing", "revoke_token", ws, "staff:1", minted["share_token"]["id"])
    names = [name for name, _ in AuditTrail.heard]
    assert names == ["work_order_created", "share_token_minted", "share_token_revoked"]
    for _, payload in AuditTrail.heard:
        assert payload["workspace_id"] == ws and payload["actor"] == "staff:1"
        assert payload["occurred_at"].endswith("Z")
        assert minted["token"] not in str(payload)  # facts carry ids, never secrets


def test_concurrent_view_batches_are_each_counted_exactly_once_and_resolving_counts_none(rpc, services):
    ws = workspace(rpc)
    wo = rpc.call("documents", "create_work_order", ws, "t", {"title": "Boiler"})
    minted = rpc.call("sharing", "mint_token", ws, "t", {
        "entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]})
    batch = {"views": [{"share_token_id": minted["share_token"]["id"], "count": 1,
                        "last_accessed_at": isoformat(utcnow())}]}
    pile = eventlet.GreenPile(10)
    for _ in range(30):
        pile.spawn(rpc.call, "sharing", "resolve_token", minted["token"], "work_order", "view")
        pile.spawn(rpc.call, "sharing", "record_views", batch)
    assert len(list(pile)) == 60
    listed = links(rpc, ws, "work_order", wo["id"])
    assert listed[0]["access_count"] == 30


def test_a_missing_service_fails_fast_and_a_returning_one_is_used(container_factory, service_config):
    client = AmqpClient(service_config["AMQP_URI"], timeout=1.5, name="tests")
    try:
        # Never started on this broker: it returns the request at once.
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            client.call("never_started", "anything")
        assert time.monotonic() - started < 1.0
        container = container_factory(SharingService, service_config)
        container.start()
        assert client.call("sharing", "check_token", "a" * 24, "b" * 24) is False
        container.stop()
        # Stopped, its queue still bound: the call times out instead of hanging.
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            client.call("sharing", "check_token", "a" * 24, "b" * 24)
        assert time.monotonic() - started < 1.5 + 1.0
        container = container_factory(SharingService, service_config)
        container.start()
        # The same client, its reply queue untouched, is answered again.
        assert client.call("sharing", "check_token", "a" * 24, "b" * 24) is False
    finally:
        client.close()


def test_threads_share_one_client_and_each_gets_its_own_answer(rpc, services):
    ws = workspace(rpc)
    with ThreadPoolExecutor(6) as executor:
        results = list(executor.map(
            lambda i: rpc.call("identity", "create_customer", ws, "t",
                               {"name": f"C{i}", "phone": f"+44 20 7946 {i:04d}"}),
            range(12),
        ))
    assert [r["name"] for r in results] == [f"C{i}" for i in range(12)]


def test_documents_checks_the_record_before_sharing_mints_its_link(rpc):
    ws, other = workspace(rpc), workspace(rpc)
    estimate = rpc.call("documents", "create_estimate", ws, "t", {
        "title": "Boiler", "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}],
    })
    request = {"entity": {"type": "estimate", "id": estimate["id"]}, "permissions": ["view"]}
    minted = rpc.call("documents", "share_record", ws, "t", request)
    # The estimate's own end (the end of its valid-until day there) plus 30 days.
    assert (parse_iso(minted["share_token"]["expires_at"])
            == parse_iso(estimate["expires_at"]) + timedelta(days=30))
    for workspace_id, entity in ((other, estimate["id"]), (ws, "f" * 24)):
        with pytest.raises(InvalidInput) as info:
            rpc.call("documents", "share_record", workspace_id, "t",
                     {**request, "entity": {"type": "estimate", "id": entity}})
        assert info.value.fields == {"entity.id": "No such record in this workspace."}
    # sharing's own checks still answer through documents, as field errors.
    with pytest.raises(InvalidInput) as info:
        rpc.call("documents", "share_record", ws, "t", {**request, "permissions": ["sign"]})
    assert "permissions" in info.value.fields
    assert len(links(rpc, ws, "estimate", estimate["id"])) == 1


def test_replacing_a_link_announces_the_new_one_and_each_it_revoked(container_factory, service_config, rpc):
    AuditTrail.heard = []
    listener = container_factory(AuditTrail, service_config)
    listener.start()
    ws = workspace(rpc)
    with entrypoint_waiter(listener, "work_order_created"):
        wo = rpc.call("documents", "create_work_order", ws, "staff:1", {"title": "Boiler"})
    request = {"entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]}
    with entrypoint_waiter(listener, "share_token_minted"):
        first = rpc.call("sharing", "mint_token", ws, "staff:1", request)
    AuditTrail.heard = []
    with entrypoint_waiter(listener, "share_token_revoked"):
        second = rpc.call("sharing", "replace_token", ws, "staff:1", request)
    assert sorted((name, p["share_token_id"]) for name, p in AuditTrail.heard) == sorted([
        ("share_token_minted", second["share_token"]["id"]),
        ("share_token_revoked", first["share_token"]["id"]),
    ])
    with pytest.raises(NotFound):
        rpc.call("sharing", "resolve_token", first["token"], "work_order", "view")


def test_a_refused_link_is_one_quiet_log_line_not_an_error(rpc, caplog):
    """nameko logs an entrypoint's exception at ERROR with its traceback, or at WARNING
    with it when the entrypoint expects it; a bad link is neither."""
    with caplog.at_level(logging.INFO, logger="nameko.containers"):
        with pytest.raises(NotFound):
            rpc.call("sharing", "resolve_token", "wo_" + "0" * 40, "work_order", "view")
        with pytest.raises(InvalidInput):
            rpc.call("identity", "create_workspace", {"name": ""}, "test")
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]
    quiet = [r.getMessage() for r in caplog.records if r.name == "nameko.containers"]
    assert any("sharing.resolve_token" in m and "Unknown link." in m for m in quiet), quiet
    assert any("identity.create_workspace" in m for m in quiet), quiet
