"""Sending a record to its customer, as documents does it (``services.documents.customer_mail``):
one command that changes the record, asks sharing for a link and notifications for the
email; a refusal half-way that the same command finishes; the reminder and the signed
copy, each once. sharing and notifications are the fakes of ``tests/unit/conftest.py``."""

import base64
import hashlib
from datetime import timedelta

import pytest

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, Unavailable
from services.documents.customer_mail import REMINDER_BEFORE, SHARING_UNAVAILABLE
from services.documents.estimates.models import Estimate
from services.documents.service_reports.models import ServiceReport
from tests.grants import link
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
PDF = b"%PDF-1.7\n" + b"x" * 64


def estimate(documents, days=20, **fields):
    return documents.create_estimate(WS, "staff", {
        "title": "Boiler repair", "customer_id": CUSTOMER,
        "valid_until": (utcnow() + timedelta(days=days)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 2, "unit_price": "80"}], **fields})


def report(documents):
    wo = documents.create_work_order(WS, "staff", {"title": "Boiler service", "customer_id": CUSTOMER})
    return documents.create_service_report(WS, "staff", {"work_order_id": wo["id"], "narrative": "Done."})


def sign(documents, report_id):
    return documents.sign_service_report(link(WS, "service_report", report_id), report_id, {
        "signer_name": "Alex Morgan", "signature_path": "M10 20 L30 40", "ip": "198.51.100.4",
        "user_agent": "phone"})


def store_pdf(documents, report_id):
    return documents.store_signed_pdf(WS, report_id, {
        "content_b64": base64.b64encode(PDF).decode(), "sha256": hashlib.sha256(PDF).hexdigest()})


# -- sending -----------------------------------------------------------------------------
def test_sending_marks_it_sent_mints_a_replacing_link_and_emails_it_in_one_command(documents):
    est = estimate(documents)
    reply = documents.send_estimate(WS, "staff", est["id"], {})
    assert reply["estimate"]["status"] == "sent" and dispatched(documents)[-1] == "estimate_sent"
    [link] = documents.links
    assert reply["token"] == link["token"] and reply["share_token"] == link["share_token"]
    documents.sharing.replace_token.assert_called_once()
    workspace_id, actor, request, ends_at, customer_id = documents.sharing.replace_token.call_args.args
    assert request == {"entity": {"type": "estimate", "id": est["id"]}, "permissions": ["view", "respond"]}
    assert customer_id == Estimate.objects.get(id=est["id"]).customer_id
    assert ends_at == isoformat(Estimate.objects.get(id=est["id"]).expires_at)
    [command] = documents.emails
    assert command["template"] == "estimate_ready"
    assert command["readers"] == ["owner"]  # money: of the customer's contacts, owners only
    assert command["cause"] == f"estimate_shared:{est['id']}:{link['share_token']['id']}"
    assert command["url"] == link["url"] and command["url"].endswith("/portal/fsm/estimate/" + link["token"])
    assert command["share_token_id"] == link["share_token"]["id"]
    # Everything the email shows comes with it: notifications never asks documents.
    assert {k: command["record"][k] for k in ("type", "id", "number", "title", "total_minor", "currency",
                                              "customer_id")} == {
        "type": "estimate", "id": est["id"], "number": est["number"], "title": "Boiler repair",
        "total_minor": est["total_minor"], "currency": est["currency"], "customer_id": CUSTOMER}
    assert reply["customer_email"]["status"] == "queued"
    assert Estimate.objects.get(id=est["id"]).emails_customer is True


def test_sending_again_changes_nothing_but_the_link_and_the_email(documents):
    est = estimate(documents)
    first = documents.send_estimate(WS, "staff", est["id"])
    again = documents.send_estimate(WS, "staff", est["id"])
    assert again["estimate"]["sent_at"] == first["estimate"]["sent_at"]
    assert dispatched(documents).count("estimate_sent") == 1
    assert again["token"] != first["token"] and len(documents.emails) == 2


def test_staff_may_choose_not_to_email_and_then_no_reminder_follows(documents):
    est = estimate(documents, days=1)
    reply = documents.send_estimate(WS, "staff", est["id"], {"notify_customer": False})
    assert reply["customer_email"]["status"] == "skipped" and documents.emails[0]["notify"] is False
    assert Estimate.objects.get(id=est["id"]).emails_customer is False
    assert documents.send_due_emails() == {"reminders": 0, "signed_copies": 0}


@pytest.mark.parametrize("body", [{"notify_customer": "yes"}, {"notify": True}, {"notify_customer": 1}])
def test_a_bad_body_is_refused_before_anything_changes(documents, body):
    est = estimate(documents)
    with pytest.raises(InvalidInput):
        documents.send_estimate(WS, "staff", est["id"], body)
    assert Estimate.objects.get(id=est["id"]).status == "draft"
    assert documents.links == [] and documents.emails == []


def test_an_estimate_that_cannot_be_sent_asks_nobody(documents):
    est = estimate(documents)
    documents.send_estimate(WS, "staff", est["id"])
    documents.respond_to_estimate(link(WS, "estimate", est["id"]), est["id"],
                                  {"response": "decline", "revision": 1, "ip": "203.0.113.9"})
    links, emails = len(documents.links), len(documents.emails)
    with pytest.raises(Conflict):
        documents.send_estimate(WS, "staff", est["id"])
    assert (len(documents.links), len(documents.emails)) == (links, emails)


def test_a_send_refused_half_way_is_finished_by_the_same_command(documents):
    est = estimate(documents)
    documents.sharing.replace_token.side_effect = Unavailable(SHARING_UNAVAILABLE)
    with pytest.raises(Unavailable):
        documents.send_estimate(WS, "staff", est["id"])
    # Sent, without a link and without an email: the state the retry starts from.
    assert Estimate.objects.get(id=est["id"]).status == "sent" and documents.emails == []

    documents.sharing.replace_token.side_effect = lambda *args: documents.links.append(
        {"token": "est_" + "2" * 40, "url": "http://portal.test/portal/fsm/estimate/est_" + "2" * 40,
         "share_token": {"id": "9" * 24}}) or documents.links[-1]
    reply = documents.send_estimate(WS, "staff", est["id"])
    assert reply["token"] == "est_" + "2" * 40 and reply["customer_email"]["status"] == "queued"
    assert len(documents.emails) == 1 and dispatched(documents).count("estimate_sent") == 1


def test_notifications_not_answering_leaves_the_record_sent_with_its_link(documents):
    est = estimate(documents)
    documents.notifications.email_customer.side_effect = Unavailable("no answer")
    reply = documents.send_estimate(WS, "staff", est["id"])
    assert reply["estimate"]["status"] == "sent" and reply["token"] == documents.links[-1]["token"]
    assert reply["customer_email"] == {
        "status": "unavailable", "email": None, "emails": [],
        "reason": "The notifications service did not answer; send again to email the customer."}
    assert Estimate.objects.get(id=est["id"]).emails_customer is False


def test_completing_a_report_links_and_emails_it_with_its_work_order(documents):
    rep = report(documents)
    reply = documents.complete_service_report(WS, "staff", rep["id"])
    assert reply["service_report"]["status"] == "awaiting_signature"
    _, _, request, ends_at, customer_id = documents.sharing.replace_token.call_args.args
    assert request["permissions"] == ["view", "sign"] and ends_at is None and customer_id == CUSTOMER
    [command] = documents.emails
    assert command["template"] == "service_report_ready" and command["record"]["customer_id"] == CUSTOMER
    assert command["readers"] == ["owner", "member"]  # no money: everyone with access
    assert command["record"]["work_order_title"] == "Boiler service"
    assert ServiceReport.objects.get(id=rep["id"]).emails_customer is True
    sign(documents, rep["id"])
    with pytest.raises(Conflict):
        documents.complete_service_report(WS, "staff", rep["id"])
    assert len(documents.links) == 1


# -- reminders ---------------------------------------------------------------------------
def test_one_reminder_per_revision_with_a_link_of_its_own(documents):
    soon = estimate(documents, days=1)
    later = estimate(documents, days=20)
    for est in (soon, later):
        documents.send_estimate(WS, "staff", est["id"])
    assert documents.send_due_emails() == {"reminders": 1, "signed_copies": 0}
    reminder = documents.emails[-1]
    assert reminder["template"] == "estimate_reminder" and reminder["record"]["id"] == soon["id"]
    assert reminder["cause"] == f"estimate_reminder:{soon['id']}:1"
    documents.sharing.mint_token.assert_called_once()  # not a replacement: the sent link stays
    assert documents.send_due_emails()["reminders"] == 0  # once

    documents.update_estimate(WS, "staff", soon["id"], {"title": "Boiler repair, revised"})
    assert documents.send_due_emails()["reminders"] == 1
    assert documents.emails[-1]["cause"] == f"estimate_reminder:{soon['id']}:2"


def test_a_reminder_nobody_took_is_due_again(documents):
    est = estimate(documents, days=1)
    documents.send_estimate(WS, "staff", est["id"])
    documents.sharing.mint_token.side_effect = Unavailable(SHARING_UNAVAILABLE)
    assert documents.send_due_emails()["reminders"] == 0
    assert Estimate.objects.get(id=est["id"]).reminded_revision is None
    documents.sharing.mint_token.side_effect = None
    documents.sharing.mint_token.return_value = {
        "token": "est_" + "3" * 40, "url": "http://portal.test/portal/fsm/estimate/est_" + "3" * 40,
        "share_token": {"id": "8" * 24}}
    assert documents.send_due_emails()["reminders"] == 1


def test_answered_estimates_and_those_ending_later_get_no_reminder(documents):
    answered = estimate(documents, days=1)
    documents.send_estimate(WS, "staff", answered["id"])
    documents.respond_to_estimate(link(WS, "estimate", answered["id"]), answered["id"],
                                  {"response": "decline", "revision": 1, "ip": "203.0.113.9"})
    far = estimate(documents, days=int(REMINDER_BEFORE.days) + 5)
    documents.send_estimate(WS, "staff", far["id"])
    assert documents.send_due_emails()["reminders"] == 0


# -- the signed copy ---------------------------------------------------------------------
def test_the_signed_copy_goes_once_with_the_pdf_kept(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    sign(documents, rep["id"])
    store_pdf(documents, rep["id"])
    copy = documents.emails[-1]
    assert copy["template"] == "service_report_signed_copy" and "url" not in copy
    assert copy["cause"] == f"service_report_signed_copy:{rep['id']}"
    assert copy["record"]["signed_by"] == "Alex Morgan" and copy["record"]["certificate_id"]
    store_pdf(documents, rep["id"])  # a retried render
    assert documents.send_due_emails()["signed_copies"] == 0
    assert [e["template"] for e in documents.emails].count("service_report_signed_copy") == 1


def test_a_signed_copy_notifications_did_not_take_is_sent_by_the_sweep(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    sign(documents, rep["id"])
    documents.notifications.email_customer.side_effect = Unavailable("no answer")
    stored = store_pdf(documents, rep["id"])
    assert stored["file_id"]  # the PDF is kept whatever happened to the email
    documents.notifications.email_customer.side_effect = lambda *args: documents.emails.append(
        args[2]) or {"status": "queued", "reason": None, "email": None}
    assert documents.send_due_emails()["signed_copies"] == 1
    assert documents.send_due_emails()["signed_copies"] == 0


def test_no_signed_copy_for_a_customer_staff_chose_not_to_email(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"], {"notify_customer": False})
    sign(documents, rep["id"])
    store_pdf(documents, rep["id"])
    assert [e["template"] for e in documents.emails] == ["service_report_ready"]


def test_of_two_sweeps_racing_for_one_reminder_one_takes_it(documents):
    est = estimate(documents, days=1)
    documents.send_estimate(WS, "staff", est["id"])
    [due] = documents.repo.estimates.due_reminders(utcnow(), utcnow() + REMINDER_BEFORE)
    # Both sweeps listed it before either claimed it.
    first = documents.repo.estimates.claim_reminder(WS, est["id"], due.revision)
    second = documents.repo.estimates.claim_reminder(WS, est["id"], due.revision)
    assert first is not None and second is None
