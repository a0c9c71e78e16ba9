"""End to end: a customer answers an estimate and signs a report over HTTP, the worker
renders the signed PDF, staff download it, and anyone can verify it byte for byte."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
import requests
from pypdf import PdfReader

from porchlight.contracts.clock import utcnow
from tests.running_stack import SIGNATURE_PATH, csrf, eventually
from tests.staff import Reply

pytestmark = pytest.mark.e2e


def wait_for_pdf(office, report_id: str, seconds: float = 30.0) -> Reply:
    deadline = time.monotonic() + seconds
    while True:
        response = office.get(f"/service-reports/{report_id}/pdf")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        assert response.status_code == 409 and "not ready" in response.json["error"]["message"]
        time.sleep(0.2)


def test_a_signed_report_becomes_a_verifiable_pdf(stack, office):
    wo = office.work_order(title="Replace circulation pump", location="12 Orchard Lane")
    report = office.post("/service-reports", {"work_order_id": wo["id"],
                                              "narrative": "Pump replaced.\nSystem bled and tested."}).json
    done = office.post(f"/service-reports/{report['id']}/complete").json
    customer = requests.Session()
    page = customer.get(done["url"], timeout=10)
    assert page.status_code == 200 and "Submit signature" in page.text
    started = time.monotonic()
    signed = customer.post(done["url"], data={"csrf_token": csrf(page.text), "signer_name": "Alex Morgan",
                                              "signature_path": SIGNATURE_PATH},
                           timeout=10, allow_redirects=False)
    answered_in = time.monotonic() - started
    assert signed.status_code == 303
    assert answered_in < 2.0  # the customer is answered at once; the PDF comes later
    assert "Signed by Alex Morgan" in customer.get(done["url"], timeout=10).text

    pdf = wait_for_pdf(office, report["id"])
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    details = office.get(f"/service-reports/{report['id']}").json
    for expected in (report["number"], "Alex Morgan", details["certificate_id"], details["snapshot_sha256"],
                     "127.0.0.1", "Pump replaced."):
        assert expected in text.replace("\n", " ") or expected in text, expected
    assert pdf.headers["X-Content-SHA256"] == details["pdf"]["sha256"]

    form = customer.get(stack.portal_url + "/verify", timeout=10).text
    match = customer.post(stack.portal_url + "/verify", data={"csrf_token": csrf(form)},
                          files={"document": ("report.pdf", pdf.content, "application/pdf")}, timeout=10)
    assert match.status_code == 200 and "Match." in match.text and details["certificate_id"] in match.text
    altered = bytearray(pdf.content)
    altered[len(altered) // 2] ^= 0x01
    no_match = customer.post(
        stack.portal_url + "/verify", data={"csrf_token": csrf(form)},
        files={"document": ("report.pdf", bytes(altered), "application/pdf")}, timeout=10)
    assert "No match" in no_match.text


def test_an_estimate_is_accepted_and_converted(office):
    created = office.post("/estimates", {
        "title": "Bathroom extractor fan", "valid_until": (utcnow() + timedelta(days=10)).date().isoformat(),
        "line_items": [
            {"description": "Fan and ducting", "quantity": 1, "unit_price": "189.00", "tax_rate": "20"},
            {"description": "Humidity sensor", "quantity": 1, "unit_price": "35.00", "tax_rate": "20",
             "optional": True},
        ],
    })
    assert created.status_code == 201, created.text
    sent = office.post(f"/estimates/{created.json['id']}/send").json
    customer = requests.Session()
    page = customer.get(sent["url"] + "?include=l2", timeout=10)
    assert "GBP" not in page.text and "268.80" in page.text  # (189 + 35) × 1.2
    answer = customer.post(sent["url"], data={
        "csrf_token": csrf(page.text), "response": "accept", "revision": "1",
        "signer_name": "Alex Morgan", "include": "l2"}, timeout=10)
    assert answer.status_code == 200 and "you accepted this estimate" in answer.text
    estimate = office.get(f"/estimates/{created.json['id']}").json
    assert estimate["status"] == "approved" and estimate["outcome"]["total"] == "268.80"
    converted = office.post(f"/estimates/{estimate['id']}/convert").json
    assert converted["work_order"]["estimate_id"] == estimate["id"]


def test_the_customer_answers_from_the_email_and_the_office_hears_by_email_and_inbox(office, stack):
    """Through the running stack and its worker: the customer's email carries the link they
    answer with, and their acceptance reaches the office's address and its inbox."""
    desk = f"desk-{office.workspace_id}@acme.example"
    assert office.patch("/workspace", {"notification_addresses": [desk]}).status_code == 200
    alex = office.post("/customers", {"name": "Alex Morgan",
                                      "email": f"alex-{office.workspace_id}@example.org"}).json
    created = office.post("/estimates", {
        "title": "Outside tap", "valid_until": (utcnow() + timedelta(days=10)).date().isoformat(),
        "customer_id": alex["id"],
        "line_items": [{"description": "Tap and fittings", "quantity": 1, "unit_price": "60.00"}],
    }).json
    sent = office.post(f"/estimates/{created['id']}/send").json
    assert sent["customer_email"]["status"] == "queued"

    def mail_to(address: str) -> list:
        return [m for m in stack.mail.messages if address in m["To"]]

    [invitation] = eventually(lambda: mail_to(alex["email"]), within=20)
    text = invitation.get_body(preferencelist=("plain",)).get_content()
    [link] = [line for line in text.splitlines() if line.startswith(stack.portal_url)]
    assert link == sent["url"]

    customer = requests.Session()
    page = customer.get(link, timeout=10)
    customer.post(link, data={"csrf_token": csrf(page.text), "response": "accept",
                              "revision": "1", "signer_name": "Alex Morgan"}, timeout=10)
    # The notifications service hears estimate_approved, asks documents for the details,
    # makes the inbox item and queues the office's email; the worker sends it.
    [told] = eventually(lambda: mail_to(desk), within=20)
    assert told["Subject"].strip() == f"Estimate {created['number']} accepted — Brightwater Plumbing"
    assert "Alex Morgan" in told.get_body(preferencelist=("plain",)).get_content()
    items = office.get("/notifications/inbox?unread=true").json["items"]
    mine = [i for i in items if i["entity"]["id"] == created["id"]]
    assert len(mine) == 1, items
    assert mine[0]["kind"] == "estimate_accepted" and mine[0]["details"]["signer_name"] == "Alex Morgan"
    assert office.post(f"/notifications/inbox/{mine[0]['id']}/read").status_code == 200
    assert all(i["id"] != mine[0]["id"] for i in office.get("/notifications/inbox?unread=true").json["items"])
    outbox = office.get("/notifications/emails?limit=100").json["emails"]
    assert sorted((e["template"], e["status"]) for e in outbox if e["entity"]["id"] == created["id"]) == [
        ("estimate_ready", "sent"), ("office_estimate_accepted", "sent")]
    # The link went from the admin gateway to notifications to the worker to the mail
    # server, and into no process's log on the way.
    token = sent["token"]
    for log in stack.log_dir.glob("*.log"):
        assert token not in log.read_text(errors="replace"), log.name
