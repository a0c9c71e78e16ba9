"""The signed-in portal through Flask's test client: every service on real RabbitMQ, the
emails delivered by the worker's real task to a real SMTP server. What a person does —
ask for a link, type the code, open the link, sign out — and what they must never get:
a sign-in from a GET, a session after their access was removed, money as a member."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts.clock import utcnow
from tests.gateway.test_portal_answers import PNG
from tests.grants import session
from tests.mail import Worker
from tests.running_stack import csrf
from tests.staff import StaffApi

CUSTOMER = "Northwind Facilities"


def people(staff: StaffApi, worker: Worker | None = None, role: str = "owner",
           email: str = "frances@northwind.example") -> dict[str, Any]:
    """A customer and its contact, whom staff invited when given the ``worker`` (only an
    invited contact may ask for codes). The invitation's email is taken off the queue, not
    delivered: the tests count the emails that follow."""
    customer = staff.created("/customers", {"name": CUSTOMER, "email": "office@northwind.example"})
    if role != "owner":  # the customer's first contact is its owner, whatever role is sent
        staff.created(f"/customers/{customer['id']}/contacts",
                      {"name": "Olive Owner", "email": "olive@northwind.example"})
    contact = staff.created(f"/customers/{customer['id']}/contacts",
                            {"name": "Frances Marsh", "email": email, "role": role})
    if worker is not None:
        assert staff.post(f"/customers/{customer['id']}/contacts/{contact['id']}/invite").status_code == 200
        worker.queued(1)
    return {"customer": customer, "contact": contact}


MEMBER_EMAIL = "sam@northwind.example"


def owner_and_member_with_an_estimate(staff: StaffApi, worker: Worker, lines: list[dict[str, Any]]) -> str:
    """Frances (the owner, invited), an estimate sent to her company titled "Gutter guards",
    and Sam (a member, invited); every email so far taken off the queue, not delivered.
    Returns the customer's id."""
    customer_id = people(staff, worker)["customer"]["id"]
    staff.sent_estimate(lines, title="Gutter guards", customer_id=customer_id)
    worker.queued(1)
    sam = staff.created(f"/customers/{customer_id}/contacts",
                        {"name": "Sam Lee", "email": MEMBER_EMAIL, "role": "member"})
    assert staff.post(f"/customers/{customer_id}/contacts/{sam['id']}/invite").status_code == 200
    worker.queued(1)
    return customer_id


def emailed(worker: Worker, mail_server: Any, count: int) -> tuple[str, str]:
    worker.run_queued(1)
    text = mail_server.wait_for(count)[-1].get_body(preferencelist=("plain",)).get_content()
    [token] = re.findall(r"/portal/sign-in/(psi_[0-9a-f]{40})", text)
    [code] = re.findall(r"^(\d{6})\s*$", text, re.MULTILINE)
    return token, code


def sign_in_by_code(portal: Any, worker: Worker, mail_server: Any, email: str, count: int = 1) -> Any:
    form = portal.get("/portal/sign-in")
    sent = portal.post("/portal/sign-in", data={"csrf_token": csrf(form.text), "email": email})
    assert sent.status_code == 200 and "Check your email" in sent.text
    _, code = emailed(worker, mail_server, count)
    return portal.post("/portal/sign-in/code", data={"csrf_token": csrf(sent.text), "email": email,
                                                     "code": code})


def test_a_contact_signs_in_with_the_emailed_code_and_sees_their_dashboard(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    customer_id = made["customer"]["id"]
    wo = staff.work_order(customer_id=customer_id, title="Roof drains")
    other = staff.created("/customers", {"name": "Someone Else", "email": "else@example.org"})
    staff.work_order(customer_id=other["id"], title="Not theirs")
    estimate = staff.created("/estimates", {
        "title": "Gutter guards", "customer_id": customer_id,
        "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Guards", "quantity": 1, "unit_price": "310.00"}]})
    staff.post(f"/estimates/{estimate['id']}/send", {"notify_customer": False})

    assert portal.get("/portal").headers["Location"].endswith("/portal/sign-in")
    signed = sign_in_by_code(portal, worker, mail_server, "Frances@Northwind.example")
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/portal")
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith("porchlight_session=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Secure" not in cookie  # plain HTTP

    page = portal.get("/portal")
    assert page.status_code == 200
    assert f"Welcome, Frances &mdash; {CUSTOMER}" in page.text
    assert "Roof drains" in page.text and "Not theirs" not in page.text
    assert "Gutter guards" in page.text and "310.00" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert re.search(r'<span class="count">1</span> estimate awaits your answer', page.text)
    detail = portal.get(f"/portal/work-orders/{wo['id']}")
    assert detail.status_code == 200 and "Roof drains" in detail.text
    others = staff.get("/work-orders").json["work_orders"]
    theirs = next(w for w in others if w["title"] == "Not theirs")
    assert portal.get(f"/portal/work-orders/{theirs['id']}").status_code == 404


def test_the_link_page_changes_nothing_until_the_button_is_pressed(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff)
    contact_path = f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}"
    staff.post(contact_path + "/invite")
    token, _ = emailed(worker, mail_server, 1)
    for _ in range(2):
        page = portal.get(f"/portal/sign-in/{token}")
        assert page.status_code == 200 and "Welcome, Frances" in page.text
        assert "Set-Cookie" not in page.headers or "porchlight_session" not in page.headers["Set-Cookie"]
    assert staff.get(contact_path).json["invitation_status"] == "invited"
    pressed = portal.post(f"/portal/sign-in/{token}", data={"csrf_token": csrf(page.text)})
    assert pressed.status_code == 303 and "porchlight_session=" in pressed.headers["Set-Cookie"]
    assert staff.get(contact_path).json["invitation_status"] == "accepted"
    assert portal.get("/portal").status_code == 200
    # (Signing in gave a new form token: the page's old one would be refused.)
    again = portal.post(f"/portal/sign-in/{token}",
                        data={"csrf_token": csrf(portal.get("/portal/profile").text)})
    assert again.status_code == 410 and "no longer valid" in again.text


def test_an_unknown_address_gets_the_same_page_and_no_email(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker)
    form = portal.get("/portal/sign-in")
    pages = [portal.post("/portal/sign-in", data={"csrf_token": csrf(form.text), "email": address})
             for address in ("frances@northwind.example", "stranger@example.org")]
    assert [p.status_code for p in pages] == [200, 200]
    strip = [re.sub(r'value="[^"]*"|<strong>[^<]*</strong>', "", p.text) for p in pages]
    assert strip[0] == strip[1]
    worker.run_queued(1)
    assert [m["To"] for m in mail_server.wait_for(1)] == ["Frances Marsh <frances@northwind.example>"]


def test_removed_access_and_sign_out_end_the_session_at_the_next_request(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    assert portal.get("/portal").status_code == 200
    staff.post(f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}/remove-access")
    refused = portal.get("/portal")
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/portal/sign-in")
    assert "porchlight_session=;" in refused.headers["Set-Cookie"]  # the dead cookie is removed


def test_sign_out_ends_the_session(staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker)
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    page = portal.get("/portal")
    cookie = portal.get_cookie("porchlight_session").value
    out = portal.post("/portal/sign-out", data={"csrf_token": csrf(page.text)})
    assert out.status_code == 303 and "porchlight_session=;" in out.headers["Set-Cookie"]
    portal.set_cookie("porchlight_session", cookie)  # the old id, kept by someone: refused
    assert portal.get("/portal").status_code == 303


def test_a_wrong_code_is_refused_with_a_message_and_forms_need_their_csrf_token(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker)
    form = portal.get("/portal/sign-in")
    assert portal.post("/portal/sign-in", data={"email": "frances@northwind.example"}).status_code == 400
    bad = portal.post("/portal/sign-in", data={"csrf_token": csrf(form.text), "email": "not-an-address"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    sent = portal.post("/portal/sign-in", data={"csrf_token": csrf(form.text),
                                                "email": "frances@northwind.example"})
    wrong = portal.post("/portal/sign-in/code", data={"csrf_token": csrf(sent.text),
                                                      "email": "frances@northwind.example", "code": "000000"})
    assert wrong.status_code in (401, 200) and "not right" in wrong.text
    short = portal.post("/portal/sign-in/code", data={"csrf_token": csrf(sent.text),
                                                      "email": "frances@northwind.example", "code": "12"})
    assert short.status_code == 422 and "6 digits" in short.text


def test_a_member_sees_no_estimates_and_no_money(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, rpc: Any) -> None:
    made = people(staff, worker, role="member")
    customer_id = made["customer"]["id"]
    staff.work_order(customer_id=customer_id, title="Boiler check")
    estimate = staff.created("/estimates", {
        "title": "New boiler", "customer_id": customer_id,
        "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Boiler", "quantity": 1, "unit_price": "2400.00"}]})
    staff.post(f"/estimates/{estimate['id']}/send", {"notify_customer": False})
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    page = portal.get("/portal")
    assert "Boiler check" in page.text
    assert "New boiler" not in page.text and "2,400" not in page.text and "Estimates" not in page.text
    # Enforced by the service's answer, not by the page:
    records = rpc.call("documents", "customer_records", session(staff.workspace_id, customer_id, "member"))
    assert "estimates" not in records


def test_on_https_the_cookie_is_host_prefixed_and_secure(
        services: dict[str, Any], staff: StaffApi, worker: Worker, mail_server: Any) -> None:
    from gateway.portal.app import create_app
    from tests.conftest import _gateway_config

    app = create_app({**_gateway_config(services), "PORTAL_BASE_URL": "https://portal.example"})
    try:
        people(staff, worker)
        client = app.test_client()
        signed = sign_in_by_code(client, worker, mail_server, "frances@northwind.example")
        cookies = signed.headers.getlist("Set-Cookie")
        [cookie] = [c for c in cookies if c.startswith("__Host-porchlight_session=")]
        assert "Secure" in cookie and "Domain" not in cookie and "Path=/" in cookie
        # The cookie with the form token is __Host- prefixed too, and served pages say HTTPS only.
        first = app.test_client().get("/portal/sign-in")
        assert first.headers["Strict-Transport-Security"].startswith("max-age=63072000")
        [form_cookie] = [c for c in first.headers.getlist("Set-Cookie") if "porchlight_portal=" in c]
        assert form_cookie.startswith("__Host-porchlight_portal=") and "Secure" in form_cookie
    finally:
        if "porchlight_amqp" in app.extensions:
            app.extensions["porchlight_amqp"].close()


def sent_estimate(staff: StaffApi, customer_id: str, title: str = "Gutter guards") -> dict[str, Any]:
    estimate = staff.created("/estimates", {
        "title": title, "customer_id": customer_id,
        "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Guards", "quantity": 1, "unit_price": "310.00"}]})
    staff.post(f"/estimates/{estimate['id']}/send", {"notify_customer": False})
    return estimate


def test_an_owner_accepts_an_estimate_inside_the_portal_with_the_same_evidence_as_by_link(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    estimate = sent_estimate(staff, made["customer"]["id"])
    elsewhere = staff.created("/customers", {"name": "Someone Else", "email": "else@example.org"})
    not_theirs = sent_estimate(staff, elsewhere["id"], "Not theirs")
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    dashboard = portal.get("/portal")
    assert f'href="/portal/estimates/{estimate["id"]}"' in dashboard.text
    page = portal.get(f"/portal/estimates/{estimate['id']}")
    assert page.status_code == 200 and "310.00" in page.text and "Sign out" in page.text
    assert portal.get(f"/portal/estimates/{not_theirs['id']}").status_code == 404
    assert portal.post(f"/portal/estimates/{not_theirs['id']}",
                       data={"csrf_token": csrf(page.text), "response": "accept", "revision": "1",
                             "signer_name": "Frances Marsh"}).status_code == 404

    accepted = portal.post(f"/portal/estimates/{estimate['id']}", data={
        "csrf_token": csrf(page.text), "response": "accept", "revision": "1",
        "signer_name": "Frances Marsh"})
    assert accepted.status_code == 303
    assert accepted.headers["Location"].endswith(f"/portal/estimates/{estimate['id']}")
    after = staff.get(f"/estimates/{estimate['id']}").json
    assert after["status"] == "approved" and after["outcome"]["signer_name"] == "Frances Marsh"
    evidence = staff.get(f"/evidence/{after['outcome']['certificate_id']}").json
    assert evidence["signer_name"] == "Frances Marsh"
    assert evidence["snapshot_sha256"] == after["outcome"]["snapshot_sha256"]
    # Who answered: the signed-in contact, in their session (no link was used).
    assert evidence["contact_id"] == made["contact"]["id"] and evidence["share_token_id"] is None
    assert evidence["session_id"] and len(evidence["session_id"]) == 24
    again = portal.post(f"/portal/estimates/{estimate['id']}", data={
        "csrf_token": csrf(page.text), "response": "decline", "revision": "1"})
    assert again.status_code == 303  # the page shows what stands
    assert staff.get(f"/estimates/{estimate['id']}").json["status"] == "approved"


def test_a_member_cannot_open_or_answer_an_estimate_but_signs_a_report(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker, role="member")
    customer_id = made["customer"]["id"]
    estimate = sent_estimate(staff, customer_id)
    wo = staff.work_order(customer_id=customer_id, title="Pump")
    report = staff.created("/service-reports", {"work_order_id": wo["id"], "narrative": "New pump fitted."})
    staff.post(f"/service-reports/{report['id']}/complete", {"notify_customer": False})
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    dashboard = portal.get("/portal")
    assert portal.get(f"/portal/estimates/{estimate['id']}").status_code == 404
    refused = portal.post(f"/portal/estimates/{estimate['id']}", data={
        "csrf_token": csrf(dashboard.text), "response": "accept", "revision": "1", "signer_name": "Frances"})
    assert refused.status_code == 404
    assert staff.get(f"/estimates/{estimate['id']}").json["status"] == "sent"

    page = portal.get(f"/portal/service-reports/{report['id']}")
    assert page.status_code == 200 and "New pump fitted." in page.text
    signed = portal.post(f"/portal/service-reports/{report['id']}", data={
        "csrf_token": csrf(page.text), "signer_name": "Frances Marsh",
        "signature_path": "M20 30 L60 90 L120 40"})
    assert signed.status_code == 303
    assert staff.get(f"/service-reports/{report['id']}").json["signed_by"] == "Frances Marsh"


def test_a_reports_files_open_for_the_signed_in_contact_and_not_after_sign_out(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    wo = staff.work_order(customer_id=made["customer"]["id"])
    report = staff.created("/service-reports", {"work_order_id": wo["id"], "narrative": "Photo attached."})
    png = PNG
    assert staff.upload(f"/service-reports/{report['id']}/attachments", "file",
                        ("pump.png", png, "image/png")).status_code == 201
    staff.post(f"/service-reports/{report['id']}/complete", {"notify_customer": False})
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    page = portal.get(f"/portal/service-reports/{report['id']}")
    [file_url] = re.findall(r'(/portal/files/[^"]+)"', page.text)[:1]
    fetched = portal.get(file_url)
    assert fetched.status_code == 200 and fetched.data == png
    portal.post("/portal/sign-out", data={"csrf_token": csrf(page.text)})
    assert portal.get(file_url).status_code == 404


def test_plain_http_for_localhost_sends_no_hsts(portal_app: Any) -> None:
    assert "Strict-Transport-Security" not in portal_app.test_client().get("/portal/sign-in").headers


def test_signing_in_gives_a_new_form_token(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    """A token planted before sign-in (a shared computer, a fixation) is worth nothing after."""
    people(staff, worker)
    before = csrf(portal.get("/portal/sign-in").text)
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    after = csrf(portal.get("/portal/profile").text)
    assert after != before
    refused = portal.post("/portal/sign-out", data={"csrf_token": before})
    assert refused.status_code == 400  # the old token no longer passes


@pytest.mark.parametrize("headers", [
    {"Origin": "https://attacker.example"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site for a form
    {"Sec-Fetch-Site": "same-origin", "Origin": "https://attacker.example"},
])
def test_a_form_posted_from_another_site_is_refused_before_anything_runs(
        portal: Any, headers: dict[str, str], caplog: Any) -> None:
    form = portal.get("/portal/sign-in")
    refused = portal.post("/portal/sign-in", headers=headers,
                          data={"csrf_token": csrf(form.text), "email": "frances@northwind.example"})
    assert refused.status_code == 403 and "only accepts forms sent from its own pages" in refused.text
    assert "from another site was refused" in caplog.text


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "none"},  # typed or bookmarked
    # What Chromium sends for our own forms: no-referrer makes the Origin "null".
    {"Sec-Fetch-Site": "same-origin", "Origin": "null"},
    {"Origin": "http://portal.test"},  # the configured address
    {},  # curl and the like: left to the CSRF token
])
def test_a_form_from_the_portal_itself_goes_through(portal: Any, headers: dict[str, str]) -> None:
    form = portal.get("/portal/sign-in")
    answered = portal.post("/portal/sign-in", headers=headers,
                           data={"csrf_token": csrf(form.text), "email": "nobody@example.org"})
    assert answered.status_code == 200
