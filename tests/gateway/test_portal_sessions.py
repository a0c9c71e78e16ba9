"""The signed-in portal from memory: who is signed in is asked of identity once, then
served from the read model until identity announces a change to the contact — a sign-out
anywhere, a password set, a role changed, access removed — after which the very next
request asks again and is refused or shown the change; the customer's lists likewise,
until a listed record changes or one joins them. Each test waits for the event it depends
on (``heard``), never for time; how fast it arrives is measured in make bench.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine

from gateway.portal.reads import reads
from porchlight.contracts.clock import utcnow
from tests.gateway.test_portal_accounts import (
    MEMBER_EMAIL,
    csrf,
    owner_and_member_with_an_estimate,
    people,
    sign_in_by_code,
)
from tests.gateway.test_portal_reads import heard
from tests.mail import Worker
from tests.staff import StaffApi

EMAIL = "frances@northwind.example"


def contact_path(made: dict[str, Any]) -> str:
    return f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}"


def test_a_signed_in_page_asks_identity_once_then_serves_from_memory(
        staff: StaffApi, portal: Any, portal_app: Any, worker: Worker, mail_server: Any,
        calls: list[str], model: Any) -> None:
    people(staff, worker)
    assert sign_in_by_code(portal, worker, mail_server, EMAIL).status_code == 303
    assert portal.get("/portal/profile").status_code == 200
    calls.clear()
    for _ in range(3):
        assert portal.get("/portal/profile").status_code == 200
    assert "identity.resolve_session" not in calls
    # Its uses still reach identity, in a batch: a session in use never ends as idle.
    assert reads(portal_app).session_uses.flush() == 3
    assert calls == ["identity.record_session_use"]
    # The cookie itself is nowhere in memory: entries are keyed by its SHA-256.
    raw = portal.get_cookie("porchlight_session").value
    assert ("session", raw) not in model._entries._items
    assert any(key[0] == "session" and raw not in key[1] for key in model._entries._items)


def test_sign_out_everywhere_on_one_device_ends_the_others_held_in_memory(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    made = people(staff, worker)
    phone, laptop = portal_app.test_client(), portal_app.test_client()
    sign_in_by_code(phone, worker, mail_server, EMAIL, 1)
    sign_in_by_code(laptop, worker, mail_server, EMAIL, 2)
    for device in (phone, laptop):
        assert device.get("/portal/profile").status_code == 200  # each now held in memory
    page = phone.get("/portal/profile")
    with heard(model, "contact", made["contact"]["id"]):
        out = phone.post("/portal/sign-out", data={"csrf_token": csrf(page.text), "everywhere": "yes"})
        assert out.status_code == 303
    refused = laptop.get("/portal/profile")
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/portal/sign-in")


def test_staff_removing_access_or_changing_the_role_reaches_a_session_held_in_memory(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    made = people(staff, worker)
    staff.created(f"/customers/{made['customer']['id']}/contacts",
                  {"name": "Olive Owner", "email": "olive@northwind.example", "role": "owner"})
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    assert "Owner" in portal.get("/portal/profile").text
    with heard(model, "contact", made["contact"]["id"]):
        assert staff.patch(contact_path(made), {"role": "member"}).status_code == 200
    profile = portal.get("/portal/profile")
    assert profile.status_code == 200 and "Member" in profile.text
    assert portal.get("/portal/team").status_code == 403  # an owner's page, no longer theirs
    with heard(model, "contact", made["contact"]["id"]):
        assert staff.post(contact_path(made) + "/remove-access").status_code == 200
    assert portal.get("/portal/profile").status_code == 303


def test_a_temporary_password_given_by_staff_ends_a_session_held_in_memory(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    made = people(staff, worker)
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    assert portal.get("/portal").status_code == 200
    with heard(model, "contact", made["contact"]["id"]):
        assert staff.post(contact_path(made) + "/temporary-password").status_code == 200
    assert portal.get("/portal").status_code == 303  # its sessions ended with the new password


def test_a_session_held_in_memory_is_never_served_past_its_end(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    """Were memory kept for weeks, a session's idle end and its absolute end still hold:
    both are checked against the clock on every request."""
    people(staff, worker)
    model.lifetime = 60 * 24 * 3600.0
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    assert portal.get("/portal/profile").status_code == 200  # now held, for as long as that
    with time_machine.travel(utcnow() + timedelta(days=14, minutes=1)):
        refused = portal.get("/portal/profile")
    assert refused.status_code == 303  # idle for 14 days: not served, and identity says so


def test_a_dropped_event_connection_sends_sessions_back_to_identity(
        staff: StaffApi, portal: Any, portal_app: Any, worker: Worker, mail_server: Any,
        calls: list[str], model: Any) -> None:
    people(staff, worker)
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    portal.get("/portal/profile")
    model.suspend()  # the consumer's connection dropped: events may be missed
    calls.clear()
    assert portal.get("/portal/profile").status_code == 200
    assert portal.get("/portal/profile").status_code == 200
    assert calls.count("identity.resolve_session") == 2  # asked every time until it is back
    model.resume()


LINES = [{"description": "Gutter guards", "quantity": 1, "unit_price": "310.00"}]


def test_the_dashboard_is_served_from_memory_until_a_record_joins_or_changes(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, calls: list[str],
        model: Any) -> None:
    made = people(staff, worker)
    customer_id = made["customer"]["id"]
    wo = staff.work_order(customer_id=customer_id, title="Roof drains")
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    assert "Roof drains" in portal.get("/portal").text
    calls.clear()
    assert "Roof drains" in portal.get("/portal").text
    assert calls == []  # who is signed in and their records: both from memory
    with heard(model, "customer", customer_id):  # a new work order joins their list
        staff.work_order(customer_id=customer_id, title="Gutter clearance")
    assert "Gutter clearance" in portal.get("/portal").text
    with heard(model, "customer", customer_id):  # an estimate sent to them
        staff.sent_estimate(LINES, title="Gutter guards", customer_id=customer_id)
    assert "Gutter guards" in portal.get("/portal").text
    with heard(model, "work_order", wo["id"]):  # a listed record changes
        renamed = staff.patch(f"/work-orders/{wo['id']}", {"title": "Roof drains and gutters"})
        assert renamed.status_code == 200
    assert "Roof drains and gutters" in portal.get("/portal").text
    other = staff.created("/customers", {"name": "Someone Else", "email": "else@example.org"})
    calls.clear()
    staff.work_order(customer_id=other["id"], title="Not theirs")  # another customer's list
    assert "Not theirs" not in portal.get("/portal").text


def test_an_owners_lists_are_never_served_to_a_member_of_the_same_customer(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    owner_and_member_with_an_estimate(staff, worker, LINES)
    owner, member = portal_app.test_client(), portal_app.test_client()
    sign_in_by_code(owner, worker, mail_server, EMAIL, 1)
    assert "Gutter guards" in owner.get("/portal").text  # the owner's lists, now in memory
    sign_in_by_code(member, worker, mail_server, MEMBER_EMAIL, 2)
    page = member.get("/portal").text
    assert "Gutter guards" not in page and "310.00" not in page


def test_an_estimate_leaves_the_awaiting_list_at_its_end_without_an_event(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    made = people(staff, worker)
    staff.sent_estimate(LINES, title="Gutter guards", customer_id=made["customer"]["id"],
                        valid_until=(utcnow() + timedelta(days=1)).date().isoformat())
    worker.queued(1)  # its email to the customer, not delivered: the code's comes next
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    assert '<span class="count">1</span> estimate awaits your answer' in portal.get("/portal").text
    with time_machine.travel(utcnow() + timedelta(days=3)):  # past its end; no sweep has run
        page = portal.get("/portal").text
    assert '<span class="count">0</span> estimates await your answer' in page
