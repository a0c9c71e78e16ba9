"""The staff inbox and the workspace's mail settings through the admin API, end to end
over RabbitMQ: a customer's answer becomes an item staff list, page and mark read."""

from __future__ import annotations

import time

import eventlet
import pytest

from tests.gateway.test_admin_api import error_of
from tests.grants import link

LINES = [{"description": "Labour", "quantity": 2, "unit_price": "80.00"}]


def answered(staff, rpc, response: str = "accept", reason: str | None = None) -> dict:
    estimate = staff.sent_estimate(LINES)["estimate"]
    capability = link(staff.workspace_id, "estimate", estimate["id"])
    rpc.call("documents", "respond_to_estimate", capability, estimate["id"], {
        "response": response, "revision": 1, "signer_name": "Alex Morgan", "reason": reason,
        "ip": "192.0.2.10"})
    return estimate


def inbox_of(staff, count: int, query: str = "", seconds: float = 10.0) -> dict:
    """The inbox once it holds ``count`` items: the items arrive by event, so poll."""
    deadline = time.monotonic() + seconds
    while True:
        reply = staff.get("/notifications/inbox" + query)
        assert reply.status_code == 200, reply.text
        if len(reply.json["items"]) >= count or time.monotonic() > deadline:
            return reply.json
        eventlet.sleep(0.05)


def test_answers_reach_the_inbox_and_staff_mark_them_read(make_staff, rpc):
    staff, other = make_staff("Acme Heating"), make_staff("Other Co")
    first = answered(staff, rpc)
    second = answered(staff, rpc, "decline", reason="Too dear")
    page = inbox_of(staff, 2)
    assert [i["entity"]["id"] for i in page["items"]] == [second["id"], first["id"]]
    declined, accepted = page["items"]
    assert declined["kind"] == "estimate_declined" and declined["details"]["reason"] == "Too dear"
    assert accepted["title"] == f"Estimate {first['number']} accepted"
    assert page["unread_count"] == 2 and page["next_cursor"] is None

    one = staff.get("/notifications/inbox?limit=1")
    assert [i["id"] for i in one.json["items"]] == [declined["id"]]
    rest = staff.get(f"/notifications/inbox?limit=1&cursor={one.json['next_cursor']}")
    assert [i["id"] for i in rest.json["items"]] == [accepted["id"]]

    error_of(other.post(f"/notifications/inbox/{declined['id']}/read"), 404)
    read = staff.post(f"/notifications/inbox/{declined['id']}/read")
    assert read.status_code == 200, read.text
    assert read.json["read_at"] and read.json["read_by"].startswith("api_key:")
    assert staff.post(f"/notifications/inbox/{declined['id']}/read").json == read.json
    unread = staff.get("/notifications/inbox?unread=true").json
    assert [i["id"] for i in unread["items"]] == [accepted["id"]] and unread["unread_count"] == 1

    assert staff.post("/notifications/inbox/read-all").json == {"marked": 1}
    assert staff.post("/notifications/inbox/read-all").json == {"marked": 0}
    assert staff.get("/notifications/inbox?unread=true").json["items"] == []
    assert other.get("/notifications/inbox").json == {"items": [], "unread_count": 0, "next_cursor": None}


@pytest.mark.parametrize(("query", "field"), [
    ("unread=yes", "unread"), ("limit=0", "limit"), ("limit=1000", "limit"), ("limit=x", "limit"),
    ("cursor=abc", "cursor"), ("cursor=" + "f" * 24, "cursor"),
])
def test_a_bad_inbox_query_names_its_parameter(staff, query, field):
    assert set(error_of(staff.get(f"/notifications/inbox?{query}"), 422)["fields"]) == {field}


def test_the_inbox_needs_a_key_and_a_real_item(admin_app, staff):
    error_of(admin_app.test_client().get("/api/v1/notifications/inbox"), 401)
    error_of(admin_app.test_client().post("/api/v1/notifications/inbox/read-all"), 401)
    error_of(staff.post("/notifications/inbox/not-an-id/read"), 404)
    error_of(staff.post("/notifications/inbox/" + "f" * 24 + "/read"), 404)


def test_the_mail_settings_are_set_shown_and_cleared(staff):
    changed = staff.patch("/workspace", {
        "notification_addresses": ["office@Acme.Example", "boss@acme.example", "office@acme.example"],
        "sender_name": "  Acme Heating Office ", "reply_to": "replies@acme.example"})
    assert changed.status_code == 200, changed.text
    assert changed.json["notification_addresses"] == ["office@acme.example", "boss@acme.example"]
    assert changed.json["sender_name"] == "Acme Heating Office"
    assert changed.json["reply_to"] == "replies@acme.example"
    assert staff.workspace() == changed.json
    cleared = staff.patch("/workspace", {"notification_addresses": [], "sender_name": "", "reply_to": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json["notification_addresses"], cleared.json["sender_name"],
            cleared.json["reply_to"]) == ([], None, None)


@pytest.mark.parametrize(("body", "field"), [
    ({"notification_addresses": ["ok@acme.example", "not an email"]}, "notification_addresses[1]"),
    ({"notification_addresses": [f"p{n}@acme.example" for n in range(11)]}, "notification_addresses"),
    ({"notification_addresses": "office@acme.example"}, "notification_addresses"),
    ({"notification_addresses": None}, "notification_addresses"),
    ({"sender_name": "x" * 81}, "sender_name"),
    ({"sender_name": "Acme\u202eOffice"}, "sender_name"),
    ({"reply_to": "replies@"}, "reply_to"),
    ({"reply_to": 7}, "reply_to"),
])
def test_a_bad_mail_setting_is_named_and_changes_nothing(staff, body, field):
    before = staff.workspace()
    response = staff.patch("/workspace", {"sender_name": "Changed", "reply_to": "a@b.example", **body})
    assert set(error_of(response, 422)["fields"]) == {field}
    assert staff.workspace() == before
