"""The outbox on the admin API (Flask's test client, real services on RabbitMQ): listing
with filters and pages, one email, resend's refusals, and every bad query answered 422
with the parameter named. Delivery itself is ``tests/service/test_email_delivery.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts.clock import utcnow
from tests.staff import StaffApi

LINES = [{"description": "Labour", "quantity": 1, "unit_price": "80"}]


def emailed(staff: StaffApi, address: str) -> dict[str, Any]:
    customer = staff.created("/customers", {"name": "Dana", "email": address})
    estimate = staff.created("/estimates", {
        "title": "Boiler", "customer_id": customer["id"], "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=3)).date().isoformat()})
    reply = staff.created(f"/estimates/{estimate['id']}/send")
    return {"customer": customer, **reply["customer_email"]["email"]}


def test_emails_page_newest_first_and_filter_by_recipient_customer_and_status(staff: StaffApi) -> None:
    made = [emailed(staff, f"c{i}@example.org") for i in range(3)]
    first = staff.get("/notifications/emails?limit=2")
    assert first.status_code == 200
    assert [e["id"] for e in first.json["emails"]] == [made[2]["id"], made[1]["id"]]
    rest = staff.get(f"/notifications/emails?limit=2&cursor={first.json['next_cursor']}").json
    assert [e["id"] for e in rest["emails"]] == [made[0]["id"]] and rest["next_cursor"] is None

    by_address = staff.get("/notifications/emails?recipient=c1@example.org").json["emails"]
    assert [e["id"] for e in by_address] == [made[1]["id"]]
    by_customer = staff.get(f"/notifications/emails?customer_id={made[0]['customer']['id']}").json
    assert [e["id"] for e in by_customer["emails"]] == [made[0]["id"]]
    assert staff.get("/notifications/emails?status=sent").json["emails"] == []


def test_one_email_shows_both_parts_without_the_link(staff: StaffApi) -> None:
    made = emailed(staff, "dana@example.org")
    detail = staff.get(f"/notifications/emails/{made['id']}").json
    assert detail["template"] == "estimate_ready" and detail["has_link"] is True
    assert "est_" not in detail["text_body"] and "est_" not in detail["html_body"]
    assert detail["sender_name"] == "Acme Heating" and detail["attachments"] == []


@pytest.mark.parametrize("query,parameter", [
    ("status=bounced", "status"), ("limit=0", "limit"), ("limit=101", "limit"),
    ("limit=ten", "limit"), ("recipient=not-an-address", "recipient"),
    ("customer_id=xyz", "customer_id"), ("cursor=" + "0" * 24, "cursor"),
])
def test_a_bad_query_is_422_naming_the_parameter(staff: StaffApi, query: str, parameter: str) -> None:
    reply = staff.get(f"/notifications/emails?{query}")
    assert reply.status_code == 422, reply.text
    assert parameter in reply.json["error"]["fields"]


def test_another_workspaces_email_is_not_found_and_cannot_be_resent(
        staff: StaffApi, make_staff: Any) -> None:
    made = emailed(staff, "dana@example.org")
    other = make_staff("Other Co")
    assert other.get(f"/notifications/emails/{made['id']}").status_code == 404
    assert other.post(f"/notifications/emails/{made['id']}/resend").status_code == 404
    assert other.get("/notifications/emails").json["emails"] == []


def test_an_email_that_has_not_failed_is_not_resent(staff: StaffApi) -> None:
    made = emailed(staff, "dana@example.org")
    reply = staff.post(f"/notifications/emails/{made['id']}/resend")
    assert reply.status_code == 409
    assert reply.json["error"]["message"] == "Only a failed email can be resent; this one is queued."


def test_send_takes_no_body_an_empty_one_or_options_and_refuses_a_body_that_is_not_json(
        staff: StaffApi) -> None:
    estimate = staff.created("/estimates", {
        "title": "Boiler", "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=3)).date().isoformat()})
    path = f"/estimates/{estimate['id']}/send"
    assert staff.post_raw(path, "not json", "application/json").status_code == 400
    for body in (None, {}, {"notify_customer": None}):
        reply = staff.post(path, body)
        assert reply.status_code == 201, reply.text
        # No customer on this estimate: nobody to email, and the reply says so.
        assert reply.json["customer_email"] == {
            "status": "skipped", "reason": "The record has no customer to email.", "email": None,
            "emails": []}
