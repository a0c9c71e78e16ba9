"""Batched view counts (``sharing.record_views``) over real RabbitMQ: what the portal's
readers send for the views they served from their own copy of a link's grant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from porchlight.client import AmqpClient
from porchlight.contracts.clock import isoformat, parse_iso, utcnow
from porchlight.contracts.errors import InvalidInput


def links(rpc: AmqpClient, ws: str, entity_type: str, entity_id: str) -> list:
    """The record's links, as staff list them (their first page)."""
    query = {"entity_type": entity_type, "entity_id": entity_id}
    return rpc.call("sharing", "list_tokens", ws, query)["share_tokens"]


def a_link(rpc: AmqpClient) -> tuple[str, str, dict]:
    ws = rpc.call("identity", "create_workspace", {"name": "Acme"}, "test")["workspace"]["id"]
    wo = rpc.call("documents", "create_work_order", ws, "t", {"title": "Boiler"})
    minted = rpc.call("sharing", "mint_token", ws, "t", {
        "entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]})
    return ws, wo["id"], minted


def test_batches_from_two_readers_add_up_on_the_same_link(rpc):
    ws, wo, minted = a_link(rpc)
    grant = rpc.call("sharing", "resolve_token", minted["token"], "work_order", "view")
    assert grant["share_token_id"] == minted["share_token"]["id"]
    assert grant["expires_at"] == minted["share_token"]["expires_at"]
    [resolved] = links(rpc, ws, "work_order", wo)
    first, second = utcnow() - timedelta(minutes=2), utcnow() - timedelta(minutes=1)
    link = grant["share_token_id"]
    assert rpc.call("sharing", "record_views", {"views": [
        {"share_token_id": link, "count": 4, "last_accessed_at": isoformat(second)}]}) == {"updated": 1}
    assert rpc.call("sharing", "record_views", {"views": [
        {"share_token_id": link, "count": 3, "last_accessed_at": isoformat(first)},
        {"share_token_id": "f" * 24, "count": 9, "last_accessed_at": isoformat(first)}]}) == {"updated": 1}
    [listed] = links(rpc, ws, "work_order", wo)
    assert listed["access_count"] == 4 + 3  # both batches; the resolve counts nothing
    # An older batch never moves the time back; one from a reader whose clock runs
    # ahead moves it to sharing's now, not to the reader's future.
    assert resolved["last_accessed_at"] is None and listed["last_accessed_at"] == isoformat(second)
    rpc.call("sharing", "record_views", {"views": [
        {"share_token_id": link, "count": 1, "last_accessed_at": isoformat(utcnow() + timedelta(hours=1))}]})
    [listed] = links(rpc, ws, "work_order", wo)
    assert second < parse_iso(listed["last_accessed_at"]) <= utcnow()


def test_a_bad_batch_is_refused_with_each_field_named_and_counts_nothing(rpc):
    ws, wo, minted = a_link(rpc)
    link = minted["share_token"]["id"]
    with pytest.raises(InvalidInput) as info:
        rpc.call("sharing", "record_views", {"views": [
            {"share_token_id": link, "count": 2, "last_accessed_at": isoformat(utcnow())},
            {"share_token_id": link, "count": -1, "last_accessed_at": "yesterday"}]})
    assert set(info.value.fields) == {"views[1].count", "views[1].last_accessed_at"}
    assert links(rpc, ws, "work_order", wo)[0]["access_count"] == 0
