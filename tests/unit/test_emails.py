"""Emails below the broker: the templates (every one exists in both parts, escapes what
customers and staff typed, keeps the subject one line), the link that is never stored,
the notifications worker deciding whom to email (``worker_factory``, fake neighbours), and
the worker's SMTP side against a real server in the process."""

from __future__ import annotations

import re
import smtplib
import socket
import typing
from datetime import timedelta

import pytest

from devtools.mail_server import MailServer
from porchlight.contracts.notifications import Template
from porchlight.runtime import i18n
from porchlight.runtime.mail_secrets import LINK_PLACEHOLDER, with_secrets
from services.notifications import emails, mail
from services.notifications.models import ALIAS, Email
from services.notifications.outbox_rpc import DELIVER
from services.notifications.repository import NotificationsRepository
from services.notifications.service import NotificationsService
from tests import catalogs
from workers import mail as smtp
from workers.tasks import EMAIL_RETRY_SECONDS, retry_delay

WS = "a" * 24
EST = "e" * 24
CUSTOMER = "c" * 24
TOKEN_ID = "f" * 24
URL = "https://portal.example/portal/fsm/estimate/est_" + "1" * 40
WORKSPACE = {"id": WS, "name": "Acme & Sons", "brand_colour": "#0f766e", "logo_url": None,
             "timezone": "Europe/Paris", "sender_name": None, "reply_to": None,
             "notification_addresses": []}
ESTIMATE = {"id": EST, "number": "EST-0001", "title": "Boiler <b>now</b>\nurgent",
            "total_minor": 120000, "currency": "EUR", "valid_until": "2026-12-01",
            "expires_at": "2026-12-01T22:59:59.999Z",
            "customer_id": CUSTOMER, "status": "sent"}
DANA = {"id": CUSTOMER, "name": "Dana", "email": "dana@example.org", "preferred_language": "fr"}
ROBIN = {"id": "e" * 24, "name": "Robin", "email": "robin@example.org", "role": "owner"}
SAM = {"id": "f" * 24, "name": "Sam", "email": "sam@example.org", "role": "owner"}


def context() -> dict[str, typing.Any]:
    return {"workspace": emails.branding(WORKSPACE), "recipient_name": "Dana",
            **emails.record_context("estimate", ESTIMATE)}


def test_every_template_the_contract_names_has_a_subject_a_text_and_an_html_part() -> None:
    for name in typing.get_args(Template):
        for suffix in ("subject", "txt", "html"):
            assert (mail.TEMPLATES / f"{name}.{suffix}").is_file(), (name, suffix)


def test_the_html_part_escapes_what_was_typed_and_the_text_part_keeps_it() -> None:
    rendered = mail.render("estimate_ready", "en", context())
    assert "Boiler &lt;b&gt;now&lt;/b&gt;" in rendered.html and "<b>now</b>" not in rendered.html
    assert "Acme &amp; Sons" in rendered.html and "#0f766e" in rendered.html
    assert 'Boiler <b>now</b>' in rendered.text and "Acme & Sons" in rendered.text
    assert "1 December 2026" in rendered.text and "€1,200.00" in rendered.text


def test_an_email_writes_sums_and_days_in_the_workspaces_locale_in_both_parts() -> None:
    us = {**context(), "workspace": emails.branding({**WORKSPACE, "locale": "en-US"})}
    rendered = mail.render("estimate_ready", "en", us)
    for part in (rendered.text, rendered.html):
        assert "December 1, 2026" in part and "€1,200.00" in part
        assert "1 December 2026" not in part


def test_the_logo_replaces_the_name_at_the_top_of_the_html_part() -> None:
    with_logo = {**context(), "workspace": {**context()["workspace"], "logo_url": "https://acme.example/l.png"}}
    html = mail.render("estimate_ready", "en", with_logo).html
    assert '<img src="https://acme.example/l.png" alt="Acme &amp; Sons"' in html


def test_the_subject_is_one_line_whatever_the_title_holds() -> None:
    subject = mail.render("estimate_ready", "en", context()).subject
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Estimate EST-0001 from Acme & Sons: Boiler <b>now</b> urgent"


def test_the_language_is_the_recipients_else_the_workspaces_else_english() -> None:
    assert mail.render("estimate_ready", "fr", context()).language == "fr"
    assert mail.language_for("nl", "de-DE") == "de"  # not shipped: the workspace's language
    assert mail.language_for(None, "fr-FR") == "fr"
    assert mail.language_for(None, "nl-NL") == "en"
    assert mail.language_for(None) == "en"



# -- the emails' words, in the reader's language -------------------------------------------
GERMAN = {
    "Estimate %(number)s from %(business)s: %(title)s":
        "Kostenvoranschlag %(number)s von %(business)s: %(title)s",
    "Estimate %(number)s": "Kostenvoranschlag %(number)s",
    "Estimate %(number)s, total %(total)s, valid until %(day)s.":
        "Kostenvoranschlag %(number)s über %(total)s, gültig bis %(day)s.",
    "Hello %(name)s,": "Hallo %(name)s,",
    "%(business)s has prepared estimate %(number)s for “%(title)s”.":
        "%(business)s hat den Kostenvoranschlag %(number)s für „%(title)s“ erstellt.",
    '%(business)s has prepared estimate %(number)s for "%(title)s".':
        "%(business)s hat den Kostenvoranschlag %(number)s für „%(title)s“ erstellt.",
    "Total": "Gesamt",
    "Valid until": "Gültig bis",
    "Read it, choose any optional items, and accept or decline it here:":
        "Lesen Sie ihn, wählen Sie optionale Posten und nehmen Sie ihn hier an oder lehnen Sie ihn ab:",
    "View and answer the estimate": "Kostenvoranschlag ansehen und beantworten",
    "If the button does not work, copy this address into your browser:":
        "Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:",
    "This link is yours alone, so please do not forward it.":
        "Dieser Link gehört nur Ihnen; bitte leiten Sie ihn nicht weiter.",
    "This link is yours alone: anyone who has it can open the page, so please do not forward it.":
        "Dieser Link gehört nur Ihnen: Wer ihn hat, kann die Seite öffnen. Bitte nicht weiterleiten.",
    "Sent by %(business)s through its customer portal.": "Gesendet von %(business)s über sein Kundenportal.",
}


def test_an_email_is_written_in_the_readers_language_from_the_catalog(monkeypatch) -> None:
    catalogs.install(monkeypatch, "de", GERMAN)
    rendered = mail.render("estimate_ready", "de", context())
    assert rendered.language == "de"
    assert rendered.subject == "Kostenvoranschlag EST-0001 von Acme & Sons: Boiler <b>now</b> urgent"
    # The text part: each paragraph in German, the breaks between them where they were.
    assert rendered.text == (
        "Hallo Dana,\n\n"
        "Acme & Sons hat den Kostenvoranschlag EST-0001 für „Boiler <b>now</b>\nurgent“ erstellt.\n\n"
        "Gesamt: 1.200,00\xa0€\n"
        "Gültig bis: 1. Dezember 2026\n\n"
        "Lesen Sie ihn, wählen Sie optionale Posten und nehmen Sie ihn hier an oder lehnen Sie ihn ab:\n"
        f"{LINK_PLACEHOLDER}\n\n"
        "Dieser Link gehört nur Ihnen: Wer ihn hat, kann die Seite öffnen. Bitte nicht weiterleiten.\n"
        "--\n"
        "Gesendet von Acme & Sons über sein Kundenportal.\n")
    html = rendered.html
    assert '<html lang="de">' in html
    assert "<title>Kostenvoranschlag EST-0001</title>" in html
    assert "Kostenvoranschlag EST-0001 über 1.200,00\xa0€, gültig bis 1. Dezember 2026." in html
    # The words are the catalog's, what was typed is escaped, the markup is the template's.
    assert ("Acme &amp; Sons hat den Kostenvoranschlag <strong>EST-0001</strong> für "
            "„Boiler &lt;b&gt;now&lt;/b&gt;\nurgent“ erstellt.") in html
    for words in ("Hallo Dana,", ">Gesamt<", ">Gültig bis<", ">Kostenvoranschlag ansehen und beantworten</a>",
                  "Falls die Schaltfläche nicht funktioniert", "Dieser Link gehört nur Ihnen; bitte",
                  "Gesendet von Acme &amp; Sons über sein Kundenportal."):
        assert words in html, words
    assert "Hello" not in html + rendered.text and "estimate" not in rendered.text


ENGLISH_TEXT = f"""Hello Dana,

Acme & Sons has prepared estimate EST-0001 for "Boiler <b>now</b>
urgent".

Total: €1,200.00
Valid until: 1 December 2026

Read it, choose any optional items, and accept or decline it here:
{LINK_PLACEHOLDER}

This link is yours alone: anyone who has it can open the page, so please do not forward it.
--
Sent by Acme & Sons through its customer portal.
"""


def test_an_english_reader_reads_the_words_as_written(monkeypatch) -> None:
    catalogs.install(monkeypatch, "de", GERMAN)  # another language's catalog changes nothing here
    rendered = mail.render("estimate_ready", "en", context())
    assert rendered.subject == "Estimate EST-0001 from Acme & Sons: Boiler <b>now</b> urgent"
    assert rendered.text == ENGLISH_TEXT
    assert '<html lang="en">' in rendered.html
    assert ("Acme &amp; Sons has prepared estimate <strong>EST-0001</strong> for "
            "“Boiler &lt;b&gt;now&lt;/b&gt;\nurgent”.") in rendered.html


# Every email, with what it shows in capitals, so that any lower-case word left in it
# is the template's own: a sentence the catalog does not hold.
CAPITALS = {"id": WS, "name": "ACME", "brand_colour": "#0f766e", "logo_url": None,
            "timezone": "Europe/Paris", "locale": "en-GB"}
SHOWN = {
    "estimate": {"number": "EST-1", "title": "BOILER", "total_minor": 120000, "currency": "EUR",
                 "valid_until": "2026-12-01", "expires_at": "2026-12-01T22:59:59.999Z"},
    "report": {"number": "SR-1", "work_order_number": "WO-1", "work_order_title": "SERVICE",
               "signed_by": "ZOE", "signed_at": "2026-03-01T14:03:07Z", "certificate_id": "CERT-1"},
    "contact": {"first_name": "DANA", "company": "BAKERY", "expires_at": "2026-03-01T14:18:07Z"},
    "verify_url": "HTTPS://PORTAL.TEST/VERIFY/CERT-1",
    "request": {"number": "IR-1", "title": "PERMIT", "project_name": "LOFT"},
}
MOMENTS = ("2026-12-01", "2026-03-01T14:03:07Z", "2026-03-01T14:18:07Z")
CERTIFICATE = "cert_" + "1" * 32  # an answer's certificate, as the events check it


def office_items() -> dict[str, dict[str, typing.Any]]:
    from porchlight.contracts.events import (
        EstimateApproved,
        EstimateRejected,
        ProjectCommentPosted,
        ServiceReportSigned,
    )
    from services.notifications import inbox

    fact = {"workspace_id": WS, "actor": "customer", "occurred_at": "2026-03-01T14:03:07Z",
            "certificate_id": CERTIFICATE}
    answered = {**fact, "estimate_id": EST, "revision": 2, "number": "EST-1", "title": "ROOF",
                "signer_name": None, "total": "EUR 1"}
    events = [EstimateApproved.model_validate({**answered, "reason": None}),
              EstimateRejected.model_validate({**answered, "reason": "TOO DEAR"}),
              ServiceReportSigned.model_validate({**fact, "service_report_id": EST, "number": "SR-1",
                                                  "signer_name": "ZOE", "work_order_number": "WO-1",
                                                  "work_order_title": "SERVICE"}),
              ProjectCommentPosted.model_validate({
                  "workspace_id": WS, "actor": "contact:" + "c" * 24, "occurred_at": fact["occurred_at"],
                  "project_id": EST, "comment_id": CUSTOMER, "customer_id": CUSTOMER,
                  "author_kind": "contact",
                  "author_name": "ZOE", "project_number": "PRJ-1", "project_name": "KITCHEN",
                  "excerpt": "WHEN?"})]

    def item_of(event: typing.Any) -> dict[str, typing.Any]:
        if isinstance(event, EstimateApproved | EstimateRejected):
            return inbox.estimate_item(event)
        if isinstance(event, ProjectCommentPosted):
            return inbox.project_comment_item(event)
        return inbox.service_report_item(event)

    items = [{**item_of(e), **inbox.extra_facts(e)} for e in events]
    return {f"office_{item['kind']}": emails.to_office("o@x.example", item, fact["occurred_at"])["context"]
            for item in items}


def every_email() -> list[tuple[str, dict[str, typing.Any]]]:
    office = office_items()
    found = []
    for name in typing.get_args(Template):
        if name in office:
            found.append((name, office[name]))
        elif name.startswith("contact_"):
            found.append((name, {"contact": SHOWN["contact"]}))
        elif name == "project_digest":
            link = {"link": "HTTPS://PORTAL.TEST/X", "in_account": True}
            found.append((name, {"project": {"number": "PRJ-1", "name": "KITCHEN"}, "recipient_name": "DANA",
                                 "changes": {"comments": 2, "files": ["PLAN.PDF", None], "status": "on_hold"},
                                 **link}))
            found.append((name, {"project": {"number": None, "name": None}, "recipient_name": None,
                                 "changes": {"comments": 1, "files": [], "status": None}, **link}))
        else:
            shown = {key: SHOWN[key] for key in ("estimate", "report", "verify_url", "request")}
            found.append((name, {**shown, "recipient_name": "DANA"}))
            found.append((name, {**shown, "recipient_name": None, "link": "HTTPS://PORTAL.TEST/X",
                                 "in_account": True}))
    return found


def test_every_word_of_every_email_is_in_the_catalog(monkeypatch) -> None:
    """What ``make messages`` finds in the templates and in the inbox's words is all an
    email says: with each sentence translated (here: in capitals), none is left as written."""
    from porchlight.runtime import formatting
    from porchlight.runtime.mail_secrets import PLACEHOLDERS

    found = dict(catalogs.sentences("services/notifications", templates="templates/**"))
    assert "Sent by %(business)s through its customer portal." in found
    assert "%(who)s declined estimate %(number)s “%(title)s” (revision %(revision)s)." in found

    def shout(english: str) -> str:
        return "".join(part if index % 2 else part.upper()
                       for index, part in enumerate(re.split(r"(%\(\w+\)[sd])", english)))

    shouted: dict[typing.Any, typing.Any] = {english: shout(english) for english in found}
    for forms in catalogs.plurals("services/notifications", templates="templates/**"):
        shouted[forms] = tuple(shout(form) for form in forms)
    catalogs.install(monkeypatch, "de", shouted)
    locale = formatting.locale_for("de", CAPITALS["locale"])
    written = [formatting.day(MOMENTS[0], locale), formatting.money(120000, "EUR", locale),
               *(formatting.moment(m, CAPITALS["timezone"], locale) for m in MOMENTS[1:]),
               *PLACEHOLDERS.values(), CERTIFICATE]
    emails_seen = every_email()
    assert {name for name, _ in emails_seen} == set(typing.get_args(Template))
    for name, shown in emails_seen:
        rendered = mail.render(name, "de", {"workspace": emails.branding(CAPITALS), **shown})
        html_words = re.sub(r"<[^>]*>|&[#\w]+;", " ", rendered.html)
        for part, text in (("subject", rendered.subject), ("text", rendered.text), ("html", html_words)):
            for value in written:
                text = text.replace(value, " ")
            left = re.findall(r"[^\W\d_]*[a-z][^\W\d_]*", text)
            assert left == [], (name, part, left)


def test_an_email_to_a_portal_contact_is_in_their_language_else_their_customers() -> None:
    contact = {"email": "robin@example.org", "name": "Robin"}
    estimate = {**ESTIMATE, "customer_id": CUSTOMER}
    assert emails.to_reader("estimate_ready", "estimate", estimate, DANA,
                            {**contact, "language": "de"})["language"] == "de"
    assert emails.to_reader("estimate_ready", "estimate", estimate, DANA, contact)["language"] == "fr"
    assert emails.to_reader("estimate_ready", "estimate", estimate, DANA,
                            {**contact, "language": "nl"})["language"] == "fr"  # not one of ours
    assert emails.to_customer("estimate_ready", "estimate", estimate, DANA)["language"] == "fr"

def test_the_link_is_rendered_as_the_placeholder_and_put_back_only_for_sending() -> None:
    rendered = mail.render("estimate_ready", "en", context())
    assert URL not in rendered.text + rendered.html
    assert rendered.text.count(LINK_PLACEHOLDER) == 1
    text, html = with_secrets(rendered.text, rendered.html, {"link": URL})
    assert LINK_PLACEHOLDER not in text + html
    assert f'href="{URL}"' in html and URL in text
    assert with_secrets("a", "b", None) == ("a", "b")


def test_who_is_emailed_when_a_record_is_shared() -> None:
    assert emails.customer_reason(None, DANA, []) is None
    assert emails.customer_reason(True, DANA, []) is None
    assert emails.customer_reason(False, DANA, []) == "Not asked to email the customer."
    assert emails.customer_reason(False, DANA, [ROBIN]) == "Not asked to email the customer."
    assert emails.customer_reason(None, None, []) == "The record has no customer to email."
    assert emails.customer_reason(True, {**DANA, "email": None}, []) == (
        "The customer has no email address and no portal contact who may read this record.")
    assert emails.customer_reason(True, {**DANA, "email": None}, [ROBIN]) is None  # the contact reads it


@pytest.fixture
def notifications(make_worker: typing.Any) -> typing.Any:
    worker = make_worker(NotificationsService, ALIAS, NotificationsRepository)
    worker.identity.record_readers.return_value = {"customer": DANA, "contacts": []}
    worker.identity.get_workspace.return_value = WORKSPACE
    worker.tasks.enqueue.return_value = True
    return worker


def command(notify: bool | None = None) -> dict[str, typing.Any]:
    """What documents sends when staff send ESTIMATE: the record as the email names it."""
    record = {key: ESTIMATE[key] for key in ("id", "number", "title", "total_minor", "currency",
                                             "valid_until", "expires_at", "customer_id")}
    return {"template": "estimate_ready", "cause": f"estimate_shared:{EST}:{TOKEN_ID}",
            "record": {"type": "estimate", **record}, "url": URL, "share_token_id": TOKEN_ID,
            "notify": notify, "readers": ["owner"]}  # money: documents names owners only


def test_the_link_goes_to_the_delivery_task_only_and_celery_is_shown_a_stand_in(notifications) -> None:
    reply = notifications.email_customer(WS, "api_key:k", command())
    assert reply["status"] == "queued" and reply["email"]["to"] == "dana@example.org"
    [call] = notifications.tasks.enqueue.call_args_list
    email_id = reply["email"]["id"]
    assert call.args == (DELIVER, email_id, {"link": URL})
    assert URL not in call.kwargs["shown"]
    stored = Email.objects.get(id=email_id)
    assert URL not in str(stored.to_mongo())
    assert stored.link.share_token_id == TOKEN_ID and stored.sender_name == "Acme & Sons"


def test_the_same_command_twice_queues_one_email_and_one_task(notifications) -> None:
    first = notifications.email_customer(WS, "api_key:k", command())
    again = notifications.email_customer(WS, "api_key:k", command())
    assert first["email"]["id"] == again["email"]["id"]
    assert notifications.tasks.enqueue.call_count == 1


def test_an_email_the_broker_would_not_take_is_failed_with_the_reason(notifications) -> None:
    notifications.tasks.enqueue.return_value = False
    reply = notifications.email_customer(WS, "api_key:k", command())
    stored = notifications.get_email(WS, reply["email"]["id"])
    assert stored["status"] == "failed" and "could not be queued" in stored["last_error"]


def test_the_email_is_made_from_the_command_alone_without_asking_documents(notifications) -> None:
    reply = notifications.email_customer(WS, "api_key:k", command())
    stored = Email.objects.get(id=reply["email"]["id"])
    assert stored.entity_number == "EST-0001" and "Boiler" in stored.subject
    assert stored.customer_id == CUSTOMER and stored.cause == f"estimate_shared:{EST}:{TOKEN_ID}"
    assert not hasattr(NotificationsService, "documents")  # no way back to documents at all


def test_a_customer_staff_did_not_want_emailed_gets_nothing(notifications) -> None:
    reply = notifications.email_customer(WS, "api_key:k", command(notify=False))
    assert reply == {"status": "skipped", "reason": "Not asked to email the customer.", "email": None,
                     "emails": []}
    assert Email.objects.count() == 0 and notifications.tasks.enqueue.call_count == 0
    notifications.identity.record_readers.assert_not_called()  # nothing to ask: nobody is emailed


def test_a_customer_with_portal_contacts_is_mailed_in_their_accounts_not_by_share_link(notifications) -> None:
    notifications.identity.record_readers.return_value = {"customer": DANA, "contacts": [ROBIN, SAM]}
    reply = notifications.email_customer(WS, "api_key:k", command())
    # Only those who may read it are asked for: an estimate is money, for owners only.
    notifications.identity.record_readers.assert_called_once_with(WS, CUSTOMER, ["owner"])
    assert [e["to"] for e in reply["emails"]] == [ROBIN["email"], SAM["email"]]
    assert reply["email"] == reply["emails"][0]
    for sent in Email.objects.order_by("recipient"):
        assert sent.link is None  # no share link in it, so none for a resend to replace
        assert f"http://portal.test/portal/estimates/{EST}" in sent.text_body + sent.html_body
        # In the customer's language (French): the page is in their account.
        in_account = i18n.translator("fr")("The page is in your %(business)s account: sign in if you are "
                                           "asked to.", business=sent.sender_name)
        assert sent.language == "fr" and "sign in" not in in_account
        assert LINK_PLACEHOLDER not in sent.text_body and in_account in sent.text_body
    assert notifications.tasks.enqueue.call_args_list[0].args[2] is None  # no secrets to carry
    again = notifications.email_customer(WS, "api_key:k", command())
    assert again["emails"] == reply["emails"] and Email.objects.count() == 2  # once per cause and contact


def test_a_record_for_everyone_asks_for_every_role(notifications) -> None:
    report = {"type": "service_report", "id": EST, "number": "SR-0001", "customer_id": CUSTOMER,
              "work_order_title": "Boiler"}
    notifications.email_customer(WS, "api_key:k", {
        **command(), "template": "service_report_ready", "record": report,
        "readers": ["owner", "member"]})
    notifications.identity.record_readers.assert_called_once_with(WS, CUSTOMER, ["owner", "member"])


@pytest.mark.parametrize("change, field", [
    (lambda c: c.pop("url"), None),  # a link without its address
    (lambda c: c.pop("share_token_id"), None),  # an address without its link's id
    (lambda c: c.update(template="service_report_signed_copy"), None),  # a copy carries no link
    (lambda c: c.update(template="estimate_ready", url=None, share_token_id=None), None),
    (lambda c: c.update(template="invoice_ready"), "template"),
    (lambda c: c["record"].update(type="invoice"), "record.type"),
    (lambda c: c["record"].pop("number"), "record.number"),
    (lambda c: c.update(cause="x" * 201), "cause"),
])
def test_a_bad_command_is_refused_before_anything_is_stored(notifications, change, field) -> None:
    from porchlight.contracts.errors import InvalidInput
    bad = command()
    change(bad)
    with pytest.raises(InvalidInput) as refused:
        notifications.email_customer(WS, "api_key:k", bad)
    if field is not None:
        assert field in refused.value.fields
    assert Email.objects.count() == 0 and notifications.tasks.enqueue.call_count == 0


def test_retries_wait_twice_as_long_each_time_with_a_little_jitter() -> None:
    for retries in range(4):
        base = EMAIL_RETRY_SECONDS * 2 ** retries
        assert base <= retry_delay(retries) <= base * 1.1


@pytest.mark.parametrize("code,kind", [(421, smtp.Transient), (451, smtp.Transient),
                                       (550, smtp.Permanent), (554, smtp.Permanent)])
def test_replies_are_sorted_into_worth_retrying_and_final(code: int, kind: type) -> None:
    with MailServer() as server:
        server.refuse_all(f"{code} Refused for the test")
        target = smtp.SmtpServer.from_url(server.url, timeout=5)
        with pytest.raises(kind) as raised:
            target.send(message(), SENDER, "dana@example.org")
    assert str(raised.value) == f"{code} Refused for the test"


def test_no_server_listening_is_worth_retrying() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens once it is closed
    with pytest.raises(smtp.Transient):
        smtp.SmtpServer.from_url(f"smtp://127.0.0.1:{port}", timeout=2).send(
            message(), SENDER, "dana@example.org")


def test_a_password_is_never_sent_over_a_connection_without_tls() -> None:
    with MailServer() as server:
        target = smtp.SmtpServer.from_url(f"smtp://user:s%40cret@127.0.0.1:{server.port}", timeout=5)
        assert (target.username, target.password) == ("user", "s@cret")
        with pytest.raises(smtp.Permanent, match="STARTTLS"):
            target.send(message(), SENDER, "dana@example.org")
        assert server.attempts == 0


def test_smtps_defaults_to_port_465() -> None:
    target = smtp.SmtpServer.from_url("smtps://mail.example.org", timeout=5)
    assert (target.port, target.implicit_tls) == (465, True)
    assert smtp.SmtpServer.from_url("smtp://mail.example.org", timeout=5).port == 587


def claimed(**fields: typing.Any) -> dict[str, typing.Any]:
    return {"to": "dana@example.org", "to_name": "Dana", "sender_name": "Acme & Sons",
            "reply_to": "desk@acme.example", "subject": "Hello", "message_id": "abc.0",
            "text": f"Open {LINK_PLACEHOLDER}", "html": f'<a href="{LINK_PLACEHOLDER}">x</a>',
            "auto_submitted": False, **fields}


SENDER = "notifications@porchlight.test"


def message(**fields: typing.Any) -> typing.Any:
    return smtp.build(claimed(**fields), {"link": URL}, [], SENDER)


def test_the_envelope_names_one_recipient_whatever_the_headers_say() -> None:
    """smtplib would otherwise send to every address in To, Cc and Bcc."""
    crafted = message()
    crafted["Cc"] = "someone-else@example.net"
    crafted["Bcc"] = "third@example.net"
    with MailServer() as server:
        smtp.SmtpServer.from_url(server.url, timeout=5).send(crafted, SENDER, "dana@example.org")
        assert server.envelopes == [(SENDER, ["dana@example.org"])]


def test_the_message_has_both_parts_the_link_and_a_message_id_stable_across_attempts() -> None:
    built = smtp.build(claimed(auto_submitted=True), {"link": URL}, [("SR-1-signed.pdf", b"%PDF-1.7")],
                       "notifications@porchlight.test")
    assert built["From"] == "Acme & Sons <notifications@porchlight.test>"
    assert built["Reply-To"] == "desk@acme.example"
    assert built["Message-ID"] == "<abc.0@porchlight.test>" == message()["Message-ID"]
    assert built["Auto-Submitted"] == "auto-generated" and message()["Auto-Submitted"] is None
    assert URL in built.get_body(("plain",)).get_content()
    assert f'href="{URL}"' in built.get_body(("html",)).get_content()
    [pdf] = built.iter_attachments()
    assert (pdf.get_filename(), pdf.get_content()) == ("SR-1-signed.pdf", b"%PDF-1.7")


def test_the_local_server_keeps_what_it_accepts_as_eml_files(tmp_path: typing.Any) -> None:
    with MailServer(tmp_path) as server:
        with smtplib.SMTP(server.host, server.port) as client:
            client.send_message(message())
    [kept] = tmp_path.glob("*.eml")
    assert b"Subject: Hello" in kept.read_bytes()


def contact_command(expires_at: str) -> dict[str, typing.Any]:
    return {"workspace": {k: WORKSPACE[k] for k in ("id", "name", "brand_colour", "logo_url", "timezone",
                                                    "sender_name", "reply_to")},
            "template": "contact_sign_in", "cause": f"contact_sign_in:{CUSTOMER}:1",
            "contact_id": "d" * 24, "customer_id": CUSTOMER, "name": "Dana Fix",
            "email": "dana@example.org", "company": "Dana's Bakery", "language": "en",
            "expires_at": expires_at, "url": "https://portal.example/portal/sign-in/psi_" + "2" * 40,
            "code": "123456"}


def test_a_sign_in_email_that_waited_past_its_links_end_is_dropped_not_sent(notifications) -> None:
    from porchlight.contracts.clock import isoformat, utcnow

    late = notifications.email_contact(WS, contact_command(isoformat(utcnow() - timedelta(seconds=1))))
    assert late is None and Email.objects.count() == 0 and notifications.tasks.enqueue.call_count == 0
    on_time = notifications.email_contact(WS, contact_command(isoformat(utcnow() + timedelta(minutes=15))))
    assert on_time["status"] == "queued" and notifications.tasks.enqueue.call_count == 1


def test_a_contact_email_whose_end_is_not_a_moment_is_refused(notifications) -> None:
    from porchlight.contracts.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        notifications.email_contact(WS, contact_command("in fifteen minutes"))
    assert refused.value.fields == {"expires_at": "Must be a moment with its offset."}
    assert Email.objects.count() == 0


def test_an_information_request_goes_to_portal_contacts_only_never_to_the_customers_address() -> None:
    customer = {"id": CUSTOMER, "email": "office@example.org"}
    assert emails.customer_reason(None, customer, [], "information_request") == (
        "The customer has no portal contact who may read this record.")
    reader = {"email": "robin@example.org"}
    assert emails.customer_reason(None, customer, [reader], "information_request") is None
    assert emails.customer_reason(None, customer, [], "estimate") is None
