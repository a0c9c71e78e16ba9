"""What the services tell a customer travels in English and is translated where it is
shown (``porchlight.runtime.i18n.translate``): every such message is marked for the
catalogs (``N_``) where it is written — one with a value in it as the sentence that takes
the value — and a staff-only message is not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from porchlight.contracts import paging, parse, signature_path
from porchlight.contracts.answers import EstimateAnswer, ReportSignature
from porchlight.contracts.contacts import CodeSignIn, ContactInput, PhoneChange
from porchlight.contracts.customer_lists import NOT_A_STATE, CustomerListQuery
from porchlight.contracts.errors import InvalidInput
from porchlight.runtime import i18n
from services.documents import customer_records, evidence
from services.documents.estimates import rpc as estimates_rpc
from services.documents.estimates import rules as estimate_rules
from services.documents.service_reports import rpc as reports_rpc
from services.documents.service_reports import rules as report_rules
from services.documents.work_orders import rules as work_order_rules
from services.identity.accounts import emails, passwords, passwords_rpc, repository, sessions, team_rpc
from tests import catalogs

FOLDERS = ("porchlight/contracts", "services/identity/accounts", "services/documents", "porchlight/kit")


@pytest.fixture(scope="module")
def marked() -> set[str]:
    return {english for folder in FOLDERS for english, _where in catalogs.sentences(folder)}


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch, marked: set[str]) -> None:
    """A French catalog holding every marked sentence, as "FR " and the sentence."""
    catalogs.install(monkeypatch, "fr", {english: f"FR {english}" for english in marked})


def refused(model: Any, data: dict[str, Any]) -> Iterator[str]:
    with pytest.raises(InvalidInput) as refusal:
        parse(model, data)
    yield refusal.value.message
    yield from refusal.value.fields.values()


def signature_problems() -> Iterator[str]:
    for drawn in (7, "x" * (signature_path.MAX_BYTES + 1), "", "Q1 2", ("M1 1 L2 2 " * 1001).strip(),
                  "M500 1 L2 2", "M1 1 " * 201 + "L2 2", "M1 1 M2 2"):
        with pytest.raises(signature_path.SignaturePathError) as problem:
            signature_path.parse(drawn)  # type: ignore[arg-type]
        yield str(problem.value)


def customer_messages() -> Iterator[str]:
    yield from (sessions.WRONG_CODE, sessions.DEAD_LINK, sessions.SIGNED_OUT, team_rpc.OWNERS_ONLY,
                emails.NOTIFICATIONS_UNAVAILABLE, repository.NO_CONTACT, repository.TOO_MANY_ATTEMPTS,
                repository.ACCESS_REMOVED, repository.TAKEN, repository.LAST_OWNER,
                repository.OWNER_INVITATIONS_SPENT % {"limit": 5})
    yield from (passwords.TOO_SHORT, passwords.TOO_LONG, passwords.NOT_TEXT, passwords.COMMON,
                passwords.COMMON_WITH_AFFIX, passwords.REPEATED, passwords.SEQUENCE, passwords.HAS_EMAIL,
                passwords.HAS_NAME, passwords.BUSY, passwords.CHOOSE_ANOTHER, passwords_rpc.WRONG_PASSWORD,
                passwords_rpc.WRONG_CURRENT, passwords_rpc.CODE_NEEDED, passwords_rpc.HAS_PASSWORD,
                passwords_rpc.TEMPORARY_ENDED)
    yield from (estimates_rpc.STALE, *estimates_rpc.ALREADY.values(), evidence.TOO_LATE,
                evidence.NOT_RECORDED, evidence.ANOTHER_ANSWER, estimate_rules.NOT_OPTIONAL,
                reports_rpc.NO_REPORT, reports_rpc.NO_FILE, reports_rpc.ALREADY_SIGNED, reports_rpc.NOT_READY,
                customer_records.NO_LIST, customer_records.NO_RECORD)
    for labels in (estimate_rules.STATUS_LABELS, report_rules.STATUS_LABELS,
                   work_order_rules.CUSTOMER_LABELS):
        yield from labels.values()
    # The fields a customer fills in on the portal, as they are refused.
    yield from refused(ContactInput, {"name": "Dana\u202e", "email": "dana@.example", "phone": "12"})
    yield from refused(ContactInput, {"name": "Dana", "email": ".dana@example.org", "phone": "+1 (2)"})
    yield from refused(PhoneChange, {"phone": "call me"})
    yield from refused(CodeSignIn, {"email": "dana", "code": "12"})
    yield from refused(EstimateAnswer, {"response": "accept", "revision": 1, "signer_name": "x" * 121,
                                        "reason": "\x00", "ip": "203.0.113.7"})
    yield from refused(ReportSignature, {"signer_name": " ", "signature_path": " ", "ip": "203.0.113.7"})
    yield from refused(CustomerListQuery, {"limit": "1000", "status": "lost"})
    yield from refused(CustomerListQuery, {"limit": "0"})
    yield from (NOT_A_STATE, paging.QUERY_ATTENTION, paging.NOT_A_CURSOR)
    yield from signature_problems()
    with pytest.raises(InvalidInput) as no_name:
        estimate_rules.read_answer({"response": "accept", "revision": 1, "ip": "203.0.113.7"})
    yield from no_name.value.fields.values()


@pytest.mark.usefixtures("french")
def test_every_message_a_customer_may_read_is_in_the_catalog() -> None:
    messages = set(customer_messages())
    assert len(messages) > 60
    untranslated = sorted(m for m in messages if not i18n.translate("fr", m).startswith("FR "))
    assert untranslated == []


@pytest.mark.usefixtures("french")
def test_a_message_with_a_value_is_translated_with_its_value() -> None:
    assert i18n.translate("fr", passwords.TOO_SHORT) == (
        "FR Use at least 12 characters; a few unrelated words make a good password.")
    assert i18n.translate("fr", repository.OWNER_INVITATIONS_SPENT % {"limit": 7}).startswith(
        "FR Your company has sent 7 invitations")


def test_the_english_is_the_english_that_was_sent() -> None:
    assert passwords.TOO_SHORT == "Use at least 12 characters; a few unrelated words make a good password."
    assert passwords.TOO_LONG == "Use at most 128 characters."
    assert estimates_rpc.ALREADY["converted"] == "This estimate is already accepted."
    assert repository.OWNER_INVITATIONS_SPENT % {"limit": 5} == (
        "Your company has sent 5 invitations in the last 24 hours, the most it may; try again later.")
    assert repository.STAFF_INVITATIONS_SPENT % {"limit": 50} == (
        "This workspace has sent 50 invitations in the last 24 hours, the most it may; try again later.")


def test_a_message_only_staff_read_stays_out_of_the_catalog(marked: set[str]) -> None:
    staff_only = {repository.STAFF_INVITATIONS_SPENT, "Must be an https:// address.",
                  "Must be an id as returned by the API.", "Only a signed report has a signed PDF."}
    assert staff_only.isdisjoint(marked)
    assert not any(re.search(r"\{\w*\}", english) for english in marked)  # no f-string leftovers
