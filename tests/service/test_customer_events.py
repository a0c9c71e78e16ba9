"""A subscriber to exactly ``CUSTOMER_VISIBLE`` — what the portal's read model does — hears
the changes customers see, over real RabbitMQ."""

from __future__ import annotations

from typing import Any

from nameko.events import event_handler
from nameko.testing.services import entrypoint_waiter

from porchlight.contracts.events import CUSTOMER_VISIBLE


def _handler(source: str, event_type: str) -> Any:
    @event_handler(source, event_type)
    def handle(self: Any, payload: dict) -> None:
        self.heard.append((event_type, payload))

    return handle


ReadModel = type("ReadModel", (), {
    "name": "read_model_under_test",
    "heard": [],
    **{f"on_{source}_{event}": _handler(source, event)
       for source, events in CUSTOMER_VISIBLE.items() for event in events},
})


def test_a_subscriber_to_the_customer_visible_events_hears_branding_and_revocations(
        container_factory, service_config, rpc):
    ReadModel.heard = []
    listener = container_factory(ReadModel, service_config)
    listener.start()
    ws = rpc.call("identity", "create_workspace", {"name": "Acme"}, "test")["workspace"]["id"]
    with entrypoint_waiter(listener, "on_documents_work_order_created"):  # it joins a customer's list
        wo = rpc.call("documents", "create_work_order", ws, "staff:1", {"title": "Boiler"})
    minted = rpc.call("sharing", "mint_token", ws, "staff:1", {
        "entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]})
    with entrypoint_waiter(listener, "on_identity_workspace_updated"):
        rpc.call("identity", "update_workspace", ws, "staff:1", {"brand_colour": "#112233"})
    with entrypoint_waiter(listener, "on_documents_work_order_status_changed"):
        rpc.call("documents", "update_work_order", ws, "staff:1", wo["id"], {"status": "scheduled"})
    with entrypoint_waiter(listener, "on_sharing_share_token_revoked"):
        rpc.call("sharing", "revoke_token", ws, "staff:1", minted["share_token"]["id"])
    # Minting is not customer-visible: nothing else was heard.
    assert [name for name, _ in ReadModel.heard] == [
        "work_order_created", "workspace_updated", "work_order_status_changed", "share_token_revoked"]
    created, updated, moved, revoked = (payload for _, payload in ReadModel.heard)
    assert created["work_order_id"] == wo["id"] and created.get("customer_id") is None  # no customer
    assert updated["workspace_id"] == ws and updated["fields"] == ["brand_colour"]
    assert moved["work_order_id"] == wo["id"] and moved["to_status"] == "scheduled"
    assert revoked["share_token_id"] == minted["share_token"]["id"]
    assert minted["token"] not in str(ReadModel.heard)
