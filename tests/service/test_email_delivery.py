"""Emails, end to end below the gateway's HTTP: staff on the admin app (Flask's test
client), every service on real RabbitMQ, the worker's real tasks taken off the real queue,
and a real SMTP server in the test process (``devtools.mail_server``).

Each test says what the recipient sees: how many messages, to whom, with what — and what
the outbox remembers (never the link).
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from nameko.standalone.events import event_dispatcher
from pypdf import PdfReader

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.runtime.mail_secrets import LINK_PLACEHOLDER
from tests import grants
from tests.mail import Worker
from tests.staff import StaffApi
from workers import tasks

DELIVER = "porchlight.deliver_email"
LINES = [{"description": "Replace the pump", "quantity": 1, "unit_price": "240.00"}]


def customer(staff: StaffApi, email: str | None = "dana@example.org", **fields: Any) -> dict[str, Any]:
    contact = {"email": email} if email else {"phone": "+44 20 7946 0000"}
    return staff.created("/customers", {"name": "Dana Fix", **contact, **fields})


def sent(staff: StaffApi, customer_id: str, body: Any = None, days: int = 14) -> dict[str, Any]:
    estimate = staff.created("/estimates", {
        "title": "Boiler repair", "customer_id": customer_id, "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=days)).date().isoformat()})
    return staff.created(f"/estimates/{estimate['id']}/send", body)


def email(staff: StaffApi, email_id: str) -> dict[str, Any]:
    reply = staff.get(f"/notifications/emails/{email_id}")
    assert reply.status_code == 200, reply.text
    return reply.json


def parts(message: Any) -> tuple[str, str]:
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


@pytest.fixture
def acme(make_staff: Any) -> StaffApi:
    staff = make_staff("Acme Heating", brand_colour="#0f766e")
    assert staff.patch("/workspace", {"sender_name": "Acme Heating Office",
                                      "reply_to": "desk@acme.example",
                                      "notification_addresses": ["desk@acme.example",
                                                                 "boss@acme.example"]}).status_code == 200
    return staff


def test_a_sent_estimate_reaches_its_customer_once_with_its_link_and_the_outbox_keeps_no_link(
        acme: StaffApi, worker: Worker, mail_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dana = customer(acme)
    reply = sent(acme, dana["id"])
    assert reply["customer_email"]["status"] == "queued"
    queued = reply["customer_email"]["email"]
    assert (queued["to"], queued["template"], queued["status"]) == (
        "dana@example.org", "estimate_ready", "queued")

    [(name, args)] = worker.run_queued(1)
    assert name == DELIVER
    [message] = mail_server.wait_for(1)
    assert message["To"] == "Dana Fix <dana@example.org>"
    assert message["From"] == "Acme Heating Office <office@porchlight.test>"
    assert message["Reply-To"] == "desk@acme.example"
    assert message["Subject"] == f"Estimate {reply['estimate']['number']} from Acme Heating: Boiler repair"
    text, html = parts(message)
    assert reply["url"] in text and f'href="{reply["url"]}"' in html
    assert "240.00" in text and "#0f766e" in html and "Acme Heating" in html
    assert mail_server.envelopes == [("office@porchlight.test", ["dana@example.org"])]

    stored = email(acme, queued["id"])
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 1, None)
    assert stored["has_link"] is True
    token = reply["token"]
    for body in (stored["text_body"], stored["html_body"]):
        assert token not in body and LINK_PLACEHOLDER in body
    assert token not in caplog.text, "the raw link reached a log line"

    # The same task again (a redelivery after a lost ack): the email is not waiting, nothing is sent.
    worker.run(name, args)
    assert len(mail_server.messages) == 1 and mail_server.attempts == 1


def test_notify_customer_false_or_no_address_sends_nothing_and_says_why(
        acme: StaffApi, worker: Worker) -> None:
    dana = customer(acme)
    no_mail = sent(acme, dana["id"], {"notify_customer": False})["customer_email"]
    assert no_mail == {"status": "skipped", "reason": "Not asked to email the customer.", "email": None,
                       "emails": []}
    phone_only = customer(acme, email=None)
    asked = sent(acme, phone_only["id"], {"notify_customer": True})["customer_email"]
    assert asked["status"] == "skipped" and asked["reason"] == (
        "The customer has no email address and no portal contact who may read this record.")
    assert acme.get("/notifications/emails").json["emails"] == []


def test_a_bad_notify_customer_is_a_422_and_sends_nothing(acme: StaffApi, worker: Worker) -> None:
    dana = customer(acme)
    estimate = acme.created("/estimates", {
        "title": "Boiler", "customer_id": dana["id"], "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=3)).date().isoformat()})
    for body in ({"notify_customer": "yes"}, {"notify_customer": 1}, {"notify": True}):
        reply = acme.post(f"/estimates/{estimate['id']}/send", body)
        assert reply.status_code == 422, (body, reply.text)
    assert acme.get(f"/estimates/{estimate['id']}").json["status"] == "draft"
    assert acme.get("/notifications/emails").json["emails"] == []


def test_451_twice_then_accepted_is_one_message_after_three_attempts(
        acme: StaffApi, worker: Worker, mail_server: Any) -> None:
    mail_server.refuse_next("451 4.3.0 Mailbox busy, try later", "451 4.3.0 Mailbox busy, try later")
    reply = sent(acme, customer(acme)["id"])
    [(name, args)] = worker.queued(1)
    worker.run(name, args)
    assert len(mail_server.wait_for(1)) == 1 and mail_server.attempts == 3
    stored = email(acme, reply["customer_email"]["email"]["id"])
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 3, None)


def test_a_550_fails_at_once_with_the_reply_and_a_resend_goes_out_with_a_new_link(
        acme: StaffApi, worker: Worker, mail_server: Any) -> None:
    mail_server.refuse_all("550 5.1.1 No such user here")
    reply = sent(acme, customer(acme)["id"])
    email_id = reply["customer_email"]["email"]["id"]
    [(name, args)] = worker.queued(1)
    worker.run(name, args)
    assert mail_server.attempts == 1 and mail_server.messages == []  # no retry storm
    stored = email(acme, email_id)
    assert stored["status"] == "failed" and stored["last_error"] == "550 5.1.1 No such user here"
    assert acme.get("/notifications/emails?status=failed").json["emails"][0]["id"] == email_id

    mail_server.refuse_all(None)
    resent = acme.post(f"/notifications/emails/{email_id}/resend")
    assert resent.status_code == 200 and resent.json["status"] == "queued"
    worker.run_queued(1)
    [message] = mail_server.wait_for(1)
    text, _ = parts(message)
    assert reply["url"] not in text  # the first link was never kept; a new one replaced it
    links = acme.tokens(reply["estimate"]["id"], "estimate")
    assert [t["revoked_at"] is None for t in links] == [True, False]
    assert "/portal/fsm/estimate/est_" in text
    stored = email(acme, email_id)
    assert (stored["status"], stored["attempts"], stored["resends"]) == ("sent", 2, 1)

    again = acme.post(f"/notifications/emails/{email_id}/resend")
    assert again.status_code == 409 and "failed" in again.json["error"]["message"]
    assert acme.post("/notifications/emails/" + "0" * 24 + "/resend").status_code == 404


def test_a_server_that_never_recovers_fails_after_the_last_attempt(
        acme: StaffApi, worker: Worker, mail_server: Any) -> None:
    mail_server.refuse_all("421 4.7.0 Too busy")
    reply = sent(acme, customer(acme)["id"])
    [(name, args)] = worker.queued(1)
    worker.run(name, args)
    assert mail_server.attempts == tasks.EMAIL_ATTEMPTS
    stored = email(acme, reply["customer_email"]["email"]["id"])
    assert (stored["status"], stored["attempts"]) == ("failed", tasks.EMAIL_ATTEMPTS)
    assert stored["last_error"] == "421 4.7.0 Too busy"


class Killed(BaseException):
    """The worker process dying right after the mail server accepted the message."""


def test_a_worker_killed_after_sending_never_sends_a_second_copy(
        acme: StaffApi, worker: Worker, mail_server: Any, rpc: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reply = sent(acme, customer(acme)["id"])
    email_id = reply["customer_email"]["email"]["id"]
    [(name, args)] = worker.queued(1)

    class DiesBeforeRecording:
        def call(self, service: str, method: str, *call_args: Any) -> Any:
            if method == "record_delivery":
                raise Killed()
            return rpc.call(service, method, *call_args)

    monkeypatch.setattr(tasks, "amqp_client", lambda: DiesBeforeRecording())
    with pytest.raises(Killed):
        tasks.deliver_email.apply(args=args, throw=True)
    assert len(mail_server.wait_for(1)) == 1

    monkeypatch.setattr(tasks, "amqp_client", lambda: rpc)
    worker.run(name, args)  # the broker hands the unacknowledged task to another worker
    assert len(mail_server.messages) == 1 and mail_server.attempts == 1
    assert email(acme, email_id)["status"] == "sending"

    # Nobody will record it now: after a while the sweep says so, for staff to decide.
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        assert rpc.call("notifications", "sweep_emails") == {"interrupted": 1, "never_delivered": 0,
                                                               "bodies_removed": 0, "digests_sent": 0}
    stored = email(acme, email_id)
    assert stored["status"] == "failed" and "may or may not" in stored["last_error"]


def test_an_answer_delivered_twice_emails_each_office_address_once(
        acme: StaffApi, worker: Worker, mail_server: Any, rpc: Any, services: dict[str, Any]) -> None:
    reply = sent(acme, customer(acme)["id"], {"notify_customer": False})
    estimate = reply["estimate"]
    capability = grants.link(acme.workspace_id, "estimate", estimate["id"])
    rpc.call("documents", "respond_to_estimate", capability, estimate["id"], {
        "response": "decline", "revision": 1, "signer_name": "Dana Fix", "reason": "Too dear",
        "ip": "192.0.2.10"})
    worker.run_queued(2)
    # The same fact once more, as a redelivery would bring it.
    staff = rpc.call("documents", "get_estimate", acme.workspace_id, estimate["id"])
    outcome = staff["outcome"]
    dispatch = event_dispatcher(services)
    dispatch("documents", "estimate_rejected", {
        "workspace_id": acme.workspace_id, "estimate_id": estimate["id"], "revision": 1,
        "actor": "customer", "occurred_at": isoformat(utcnow()),
        "certificate_id": outcome["certificate_id"], "number": staff["number"], "title": staff["title"],
        "signer_name": outcome["signer_name"], "reason": outcome["reason"], "total": outcome["total"]})
    inbox = acme.get("/notifications/inbox").json
    assert len(inbox["items"]) == 1

    messages = mail_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["boss@acme.example", "desk@acme.example"]
    subject = messages[0]["Subject"]
    assert subject == f"Estimate {estimate['number']} declined — Acme Heating"
    text, html = parts(messages[0])
    assert "Too dear" in text and "Too dear" in html and "Dana Fix" in text
    listed = acme.get("/notifications/emails").json["emails"]
    assert sorted((e["to"], e["audience"]) for e in listed) == [
        ("boss@acme.example", "office"), ("desk@acme.example", "office")]


def test_the_customer_gets_the_signed_report_with_its_pdf(
        acme: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    dana = customer(acme)
    wo = acme.work_order(customer_id=dana["id"])
    report = acme.created("/service-reports", {"work_order_id": wo["id"], "narrative": "New pump."})
    completed = acme.created(f"/service-reports/{report['id']}/complete")
    assert completed["customer_email"]["email"]["template"] == "service_report_ready"
    worker.run_queued(1)
    [ready] = mail_server.wait_for(1)
    assert ready["Subject"].startswith(f"Please sign service report {report['number']}")
    assert completed["url"] in parts(ready)[0]

    capability = grants.link(acme.workspace_id, "service_report", report["id"])
    rpc.call("documents", "sign_service_report", capability, report["id"], {
        "signer_name": "Dana Fix", "signature_path": "M10 10 L100 60", "ip": "192.0.2.10"})
    # The worker renders the PDF (and the office hears of the signature, at two
    # addresses); the PDF's fact makes notifications queue the signed copy.
    assert sorted(name for name, _ in worker.run_queued(3)) == [
        DELIVER, DELIVER, "porchlight.render_signed_pdf"]
    [(name, args)] = worker.queued(1)
    assert name == DELIVER
    worker.run(name, args)
    [signed] = [m for m in mail_server.wait_for(4) if m["To"] == "Dana Fix <dana@example.org>"][1:]
    assert signed["Subject"] == f"Your signed service report {report['number']} from Acme Heating"
    [pdf] = list(signed.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{report['number']}-signed.pdf"
    content = pdf.get_content()
    assert PdfReader(io.BytesIO(content)).pages
    stored = acme.get(f"/service-reports/{report['id']}").json["pdf"]
    assert hashlib.sha256(content).hexdigest() == stored["sha256"]
    assert "Dana Fix" in parts(signed)[0]


def test_one_reminder_48_hours_before_the_end_and_none_once_answered(
        acme: StaffApi, worker: Worker, mail_server: Any, rpc: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dana = customer(acme)
    waiting = sent(acme, dana["id"], days=5)
    answered = sent(acme, dana["id"], days=5)
    silent = sent(acme, dana["id"], {"notify_customer": False}, days=5)
    worker.run_queued(2)
    answered_id = answered["estimate"]["id"]
    capability = grants.link(acme.workspace_id, "estimate", answered_id)
    rpc.call("documents", "respond_to_estimate", capability, answered_id, {
        "response": "accept", "revision": 1, "signer_name": "Dana Fix", "ip": "192.0.2.10"})
    worker.run_queued(2)  # the acceptance, to the office's two addresses
    remind = ("documents", "send_due_emails")

    def reminders() -> int:
        return rpc.call(*remind)["reminders"]

    assert reminders() == 0  # five days out
    ends = datetime.fromisoformat(waiting["estimate"]["expires_at"].replace("Z", "+00:00"))
    with time_machine.travel(ends - timedelta(hours=49)):
        assert reminders() == 0
    with time_machine.travel(ends - timedelta(hours=47)):
        assert reminders() == 1
        assert reminders() == 0
    with time_machine.travel(ends - timedelta(hours=2)):
        assert reminders() == 0
    [(name, args)] = worker.queued(1)
    worker.run(name, args)
    [reminder] = [m for m in mail_server.wait_for(5) if m["Subject"].strip().startswith("Reminder")]
    assert waiting["estimate"]["number"] in reminder["Subject"]
    assert reminder["Auto-Submitted"] == "auto-generated"
    text, _ = parts(reminder)
    [link] = [line for line in text.splitlines() if "/portal/fsm/estimate/" in line]
    assert link != waiting["url"]  # a link of its own: the first was never kept
    token = link.rsplit("/", 1)[1]
    opened = rpc.call("sharing", "resolve_token", token, "estimate", "respond")
    assert (opened["entity_id"], opened["permissions"]) == (waiting["estimate"]["id"], ["view", "respond"])
    assert token not in caplog.text
    reminders = acme.get("/notifications/emails").json["emails"]
    assert [e["entity"]["id"] for e in reminders if e["template"] == "estimate_reminder"] == [
        waiting["estimate"]["id"]]
    assert silent["estimate"]["id"] not in {e["entity"]["id"] for e in reminders}
