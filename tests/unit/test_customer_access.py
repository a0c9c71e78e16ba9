"""Who may see and answer a record from the customer's side (``services.documents.customer_access``)
and the signed grants it decides on (``porchlight.kit.grants``).

documents believes nothing the caller says about workspace, customer or role: only a live
capability with a good signature, for that record (a link) or that record's customer (a
session), with the permission the call needs. Every refusal is the same ``NotFound`` and
changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import InvalidInput, NotFound, Unavailable
from porchlight.kit import grants
from porchlight.runtime.settings import get_settings
from services.documents.estimates.models import Estimate
from services.documents.service_reports.models import ServiceReport
from tests import images
from tests.grants import A_CONTACT_ID, A_LINK_ID, A_SESSION_ID, link, session
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
OTHER_CUSTOMER = "d" * 24  # another customer of the same workspace
PNG = images.png(metadata=False)
ANSWER = {"response": "accept", "revision": 1, "signer_name": "Alex Morgan", "ip": "203.0.113.7"}
SIGNATURE = {"signer_name": "Alex Morgan", "signature_path": "M10 20 L30 40", "ip": "198.51.100.4"}
OUTCOMES = {"estimate_approved", "estimate_rejected", "service_report_signed"}


def make_records(documents: Any) -> SimpleNamespace:
    """CUSTOMER's work order, sent estimate and completed report (with a photo) in WS."""
    wo = documents.create_work_order(WS, "staff", {"title": "Boiler service", "customer_id": CUSTOMER})
    est = documents.create_estimate(WS, "staff", {
        "title": "Boiler repair", "customer_id": CUSTOMER,
        "valid_until": (utcnow() + timedelta(days=20)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 2, "unit_price": "80"}]})
    documents.send_estimate(WS, "staff", est["id"], {"notify_customer": False})
    rep = documents.create_service_report(WS, "staff", {"work_order_id": wo["id"], "narrative": "Done."})
    file_id = documents.add_attachment(WS, "staff", rep["id"], {
        "filename": "pump.png", "content_type": "image/png",
        "content_b64": base64.b64encode(PNG).decode()})["attachments"][0]["id"]
    documents.complete_service_report(WS, "staff", rep["id"], {"notify_customer": False})
    return SimpleNamespace(work_order=wo["id"], estimate=est["id"], service_report=rep["id"], file=file_id)


@pytest.fixture
def records(documents: Any) -> SimpleNamespace:
    mine = make_records(documents)
    mine.other = make_records(documents)  # the same customer's second set of records
    documents.dispatch.reset_mock()
    documents.tasks.reset_mock()
    return mine


# Each call a customer makes: the record type it acts on, the permission it needs, and the
# call itself. customer_records and customer_record_grant take a session's capability only.
RECORD_CALLS: dict[str, tuple[str, str, Any]] = {
    "get_work_order_for_customer": (
        "work_order", "view", lambda d, cap, r: d.get_work_order_for_customer(cap, r.work_order)),
    "get_estimate_for_customer": (
        "estimate", "view", lambda d, cap, r: d.get_estimate_for_customer(cap, r.estimate)),
    "respond_to_estimate": (
        "estimate", "respond", lambda d, cap, r: d.respond_to_estimate(cap, r.estimate, dict(ANSWER))),
    "get_service_report_for_customer": (
        "service_report", "view", lambda d, cap, r: d.get_service_report_for_customer(cap, r.service_report)),
    "sign_service_report": (
        "service_report", "sign",
        lambda d, cap, r: d.sign_service_report(cap, r.service_report, dict(SIGNATURE))),
    "open_report_file": (
        "service_report", "view", lambda d, cap, r: d.open_report_file(cap, r.service_report, r.file)),
}
SESSION_CALLS: dict[str, Any] = {
    "customer_records": lambda d, cap, r: d.customer_records(cap),
    "customer_record_grant": lambda d, cap, r: d.customer_record_grant(cap, "estimate", r.estimate),
    "customer_list": lambda d, cap, r: d.customer_list(cap, "estimates"),
}
ALL_CALLS = [*RECORD_CALLS, *SESSION_CALLS]


def call(documents: Any, name: str, capability: Any, records: SimpleNamespace) -> Any:
    fn = RECORD_CALLS[name][2] if name in RECORD_CALLS else SESSION_CALLS[name]
    return fn(documents, capability, records)


def good_capability(name: str, records: SimpleNamespace, now: datetime | None = None) -> str:
    """What the call accepts: a link to its record, or the owner's session for the session calls."""
    if name in RECORD_CALLS:
        kind = RECORD_CALLS[name][0]
        return link(WS, kind, getattr(records, kind), now=now)
    return session(WS, CUSTOMER, now=now)


def link_with(kind: str, record_id: str, permissions: tuple[str, ...]) -> str:
    """A link's capability with exactly ``permissions`` (``tests.grants.link`` fills in
    the type's defaults when given none)."""
    capability, _ = grants.issue(workspace_id=WS, share_token_id=A_LINK_ID, entity_type=kind,
                                 entity_id=record_id, permissions=permissions)
    return capability


def payload_of(capability: str) -> dict[str, Any]:
    text = capability.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def encoded(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(payload: bytes, key: bytes) -> str:
    """A capability of ``payload`` signed as ``porchlight.kit.grants`` signs, with ``key``."""
    mac = hmac.new(key, b"porchlight-customer-grant-v1." + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(mac)}"


def the_key() -> bytes:
    return get_settings().grant_key.get_secret_value().encode()


def forgeries(capability: str, records: SimpleNamespace) -> list[str]:
    """``capability`` altered by one character of its payload; its claims changed (to
    another record, or another end) under its own signature; and the same claims signed
    with another key."""
    payload_text, mac_text = capability.split(".")
    i = len(payload_text) // 2
    flipped = payload_text[:i] + ("A" if payload_text[i] != "A" else "B") + payload_text[i + 1:]
    claims = payload_of(capability)
    retargeted = {**claims, "entity_id": records.other.estimate} if "entity_id" in claims \
        else {**claims, "customer_id": OTHER_CUSTOMER}
    prolonged = {**claims, "expires_at": claims["expires_at"] + 86_400}
    return [
        f"{flipped}.{mac_text}",
        f"{b64(encoded(retargeted))}.{mac_text}",
        f"{b64(encoded(prolonged))}.{mac_text}",
        signed(encoded(claims), b"another-key-" + b"x" * 40),
    ]


def assert_unchanged(documents: Any, records: SimpleNamespace) -> None:
    """A refused call changed nothing: still open, nothing recorded, nobody told."""
    for est in (records.estimate, records.other.estimate):
        stored = Estimate.objects.get(id=est)
        assert stored.status == "sent" and stored.outcome is None
    for rep in (records.service_report, records.other.service_report):
        stored = ServiceReport.objects.get(id=rep)
        assert stored.status == "awaiting_signature" and stored.signed_by is None
    assert documents.evidence == []
    assert not OUTCOMES & set(dispatched(documents))
    documents.tasks.enqueue.assert_not_called()


# -- refusals ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_CALLS)
def test_a_forged_capability_is_refused(documents, records, name):
    for forged in forgeries(good_capability(name, records), records):
        with pytest.raises(NotFound):
            call(documents, name, forged, records)
    assert_unchanged(documents, records)


@pytest.mark.parametrize("name", ALL_CALLS)
def test_an_expired_capability_is_refused(documents, records, name):
    ended = good_capability(name, records, now=utcnow() - timedelta(seconds=grants.GRANT_SECONDS + 1))
    with pytest.raises(NotFound):
        call(documents, name, ended, records)
    assert_unchanged(documents, records)


@pytest.mark.parametrize("name", list(RECORD_CALLS))
def test_a_link_to_another_record_is_refused(documents, records, name):
    kind = RECORD_CALLS[name][0]
    others = [
        link(WS, kind, getattr(records.other, kind)),  # the same type, another record
        link(OTHER_WS, kind, getattr(records, kind)),  # this record's id, in another workspace
    ]
    # This record's id under another type's link.
    others += [link(WS, other_kind, getattr(records, kind))
               for other_kind in ("work_order", "estimate", "service_report") if other_kind != kind]
    for capability in others:
        with pytest.raises(NotFound):
            call(documents, name, capability, records)
    assert_unchanged(documents, records)


@pytest.mark.parametrize("name", list(SESSION_CALLS))
def test_the_session_calls_refuse_a_link(documents, records, name):
    # A link names one record and no customer: it lists nothing and grants nothing more.
    for capability in (link(WS, "estimate", records.estimate), link(WS, "work_order", records.work_order)):
        with pytest.raises(NotFound):
            call(documents, name, capability, records)
    assert_unchanged(documents, records)


@pytest.mark.parametrize("name", list(RECORD_CALLS))
def test_a_link_without_the_permission_is_refused(documents, records, name):
    kind, needed, _ = RECORD_CALLS[name]
    everything_else = tuple(p for p in ("view", "respond", "sign") if p != needed)
    for permissions in (everything_else, ()):
        with pytest.raises(NotFound):
            call(documents, name, link_with(kind, getattr(records, kind), permissions), records)
    assert_unchanged(documents, records)


def test_a_view_only_link_cannot_answer_the_estimate(documents, records):
    capability = link(WS, "estimate", records.estimate, "view")
    assert documents.get_estimate_for_customer(capability, records.estimate)["status"] == "sent"
    with pytest.raises(NotFound):
        documents.respond_to_estimate(capability, records.estimate, dict(ANSWER))
    assert Estimate.objects.get(id=records.estimate).status == "sent"
    assert_unchanged(documents, records)


def test_a_view_only_link_cannot_sign_the_report(documents, records):
    capability = link(WS, "service_report", records.service_report, "view")
    assert documents.get_service_report_for_customer(capability, records.service_report)
    with pytest.raises(NotFound):
        documents.sign_service_report(capability, records.service_report, dict(SIGNATURE))
    assert ServiceReport.objects.get(id=records.service_report).status == "awaiting_signature"
    assert_unchanged(documents, records)


def test_a_members_session_is_refused_an_estimate(documents, records):
    member = session(WS, CUSTOMER, "member")
    for refused in (
        lambda: documents.get_estimate_for_customer(member, records.estimate),
        lambda: documents.respond_to_estimate(member, records.estimate, dict(ANSWER)),
        lambda: documents.customer_record_grant(member, "estimate", records.estimate),
    ):
        with pytest.raises(NotFound):
            refused()
    assert "estimates" not in documents.customer_records(member)
    assert Estimate.objects.get(id=records.estimate).status == "sent"
    assert_unchanged(documents, records)
    # What a member may do: view the work order, view and sign the report.
    assert documents.get_work_order_for_customer(member, records.work_order)["title"] == "Boiler service"
    assert documents.customer_record_grant(member, "service_report", records.service_report)[
        "permissions"] == ["view", "sign"]


@pytest.mark.parametrize("workspace, customer", [
    (WS, OTHER_CUSTOMER),  # another customer of the same workspace
    (OTHER_WS, CUSTOMER),  # the same customer id in another workspace
])
def test_a_session_of_someone_else_is_refused_every_record(documents, records, workspace, customer):
    theirs = session(workspace, customer)
    for name in RECORD_CALLS:
        with pytest.raises(NotFound):
            call(documents, name, theirs, records)
    for kind in ("work_order", "estimate", "service_report"):
        with pytest.raises(NotFound):
            documents.customer_record_grant(theirs, kind, getattr(records, kind))
    listed = documents.customer_records(theirs)
    assert listed["work_orders"] == [] and listed["service_reports"] == [] and listed["estimates"] == []
    assert_unchanged(documents, records)


def test_a_session_sees_no_draft(documents, records):
    owner = session(WS, CUSTOMER)
    draft = documents.create_estimate(WS, "staff", {
        "title": "Not yet", "customer_id": CUSTOMER,
        "valid_until": (utcnow() + timedelta(days=20)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}]})
    report = documents.create_service_report(WS, "staff", {"work_order_id": records.work_order})
    for refused in (
        lambda: documents.get_estimate_for_customer(owner, draft["id"]),
        lambda: documents.respond_to_estimate(owner, draft["id"], dict(ANSWER)),
        lambda: documents.customer_record_grant(owner, "estimate", draft["id"]),
        lambda: documents.get_service_report_for_customer(owner, report["id"]),
        lambda: documents.sign_service_report(owner, report["id"], dict(SIGNATURE)),
        lambda: documents.customer_record_grant(owner, "service_report", report["id"]),
    ):
        with pytest.raises(NotFound):
            refused()
    assert Estimate.objects.get(id=draft["id"]).status == "draft"
    assert ServiceReport.objects.get(id=report["id"]).status == "draft"
    assert_unchanged(documents, records)


@pytest.mark.parametrize("record_id", [None, 7, ["x"], {"$ne": None}, "../etc/passwd", ""])
def test_a_record_id_that_is_not_an_id_is_refused(documents, records, record_id):
    owner = session(WS, CUSTOMER)
    for kind in ("work_order", "estimate", "service_report"):
        with pytest.raises(NotFound):
            documents.customer_record_grant(owner, kind, record_id)
    with pytest.raises(NotFound):
        documents.get_estimate_for_customer(owner, record_id)
    with pytest.raises(NotFound):
        documents.open_report_file(owner, record_id, records.file)
    assert_unchanged(documents, records)


@pytest.mark.parametrize("file_id", [None, 7, ["x"], {"$ne": None}, "../etc/passwd", "", "f" * 24])
def test_a_file_id_that_is_not_one_of_the_reports_is_refused(documents, records, file_id):
    for capability in (session(WS, CUSTOMER), link(WS, "service_report", records.service_report)):
        with pytest.raises(NotFound):
            documents.open_report_file(capability, records.service_report, file_id)


def test_a_signed_grant_naming_neither_a_link_nor_a_customer_allows_nothing(documents, records):
    """Neither sharing nor identity issues one; should one exist, it must not match the
    records that have no customer."""
    nobody, _ = grants.issue(workspace_id=WS, role="owner")
    for name, call in (("work_order", documents.get_work_order_for_customer),
                       ("estimate", documents.get_estimate_for_customer),
                       ("service_report", documents.get_service_report_for_customer)):
        with pytest.raises(NotFound):
            call(nobody, getattr(records, name))
    with pytest.raises(NotFound):
        documents.sign_service_report(nobody, records.service_report, dict(SIGNATURE))
    assert_unchanged(documents, records)


def test_an_answer_whose_caller_stopped_waiting_is_not_taken(documents, records):
    """The portal gave up on it (its page said "may or may not"); a claim now would stand
    while the customer is told to try again."""
    import time

    from porchlight.runtime import request_context
    from services.documents.evidence import TOO_LATE

    request_context.set_deadline(f"{time.time() - 1:.3f}")
    try:
        for late in (lambda: documents.respond_to_estimate(link(WS, "estimate", records.estimate),
                                                           records.estimate, dict(ANSWER)),
                     lambda: documents.sign_service_report(link(WS, "service_report", records.service_report),
                                                           records.service_report, dict(SIGNATURE))):
            with pytest.raises(Unavailable) as refused:
                late()
            assert refused.value.message == TOO_LATE
    finally:
        request_context.clear()
    assert_unchanged(documents, records)
    # In time, the same answer is taken.
    request_context.set_deadline(f"{time.time() + 30:.3f}")
    try:
        documents.respond_to_estimate(link(WS, "estimate", records.estimate), records.estimate, dict(ANSWER))
    finally:
        request_context.clear()
    assert Estimate.objects.get(id=records.estimate).status == "approved"


# -- what is allowed ---------------------------------------------------------------------
def test_the_evidence_records_who_vouched_for_the_answer(documents, records):
    """By link: the link. Signed in: the contact and their session — from the verified
    grant, whatever the portal might say."""
    documents.respond_to_estimate(link(WS, "estimate", records.estimate), records.estimate, dict(ANSWER))
    documents.sign_service_report(session(WS, CUSTOMER), records.service_report, dict(SIGNATURE))
    by_link, signed_in = documents.evidence
    def who(evidence):
        return evidence["share_token_id"], evidence["contact_id"], evidence["session_id"]

    assert who(by_link) == (A_LINK_ID, None, None)
    assert who(signed_in) == (None, A_CONTACT_ID, A_SESSION_ID)



def test_the_owners_session_of_the_customer_is_accepted(documents, records):
    owner = session(WS, CUSTOMER)
    assert documents.get_work_order_for_customer(owner, records.work_order)["title"] == "Boiler service"
    assert documents.get_estimate_for_customer(owner, records.estimate)["status"] == "sent"
    assert documents.get_service_report_for_customer(owner, records.service_report)["status"] == \
        "awaiting_signature"
    opened = documents.open_report_file(owner, records.service_report, records.file)
    assert opened["id"] == records.file and base64.b64decode(opened["content_b64"]) == PNG
    with pytest.raises(NotFound):  # the same file through the customer's other report
        documents.open_report_file(owner, records.other.service_report, records.file)
    granted = {kind: documents.customer_record_grant(owner, kind, getattr(records, kind))
               for kind in ("work_order", "estimate", "service_report")}
    assert {kind: g["permissions"] for kind, g in granted.items()} == {
        "work_order": ["view"], "estimate": ["view", "respond"], "service_report": ["view", "sign"]}
    assert all(g["workspace_id"] == WS and g["share_token_id"] is None for g in granted.values())
    listed = documents.customer_records(owner)
    assert {records.work_order, records.other.work_order} <= {w["id"] for w in listed["work_orders"]}
    assert {records.estimate, records.other.estimate} == {e["id"] for e in listed["estimates"]}
    assert {records.service_report, records.other.service_report} == \
        {r["id"] for r in listed["service_reports"]}

    assert documents.respond_to_estimate(owner, records.estimate, dict(ANSWER))["status"] == "approved"
    assert documents.sign_service_report(owner, records.service_report, dict(SIGNATURE))["status"] == "signed"
    assert [e["kind"] for e in documents.evidence] == ["acceptance", "signature"]
    # Only the records it was used on.
    assert Estimate.objects.get(id=records.other.estimate).status == "sent"
    assert ServiceReport.objects.get(id=records.other.service_report).status == "awaiting_signature"


@pytest.mark.parametrize("name", list(RECORD_CALLS))
def test_a_link_to_the_record_is_accepted(documents, records, name):
    assert call(documents, name, good_capability(name, records), records)


# -- porchlight.kit.grants ---------------------------------------------------------------
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LINK_CLAIMS = {"workspace_id": WS, "share_token_id": A_LINK_ID, "entity_type": "estimate",
               "entity_id": "e" * 24, "permissions": ("view", "respond")}
SESSION_CLAIMS = {"workspace_id": WS, "customer_id": CUSTOMER, "contact_id": "6" * 24, "role": "owner"}


@pytest.mark.parametrize("claims", [LINK_CLAIMS, SESSION_CLAIMS])
def test_a_grant_says_what_it_was_issued_with(claims):
    capability, end = grants.issue(now=NOW, **claims)
    assert end == NOW + timedelta(seconds=grants.GRANT_SECONDS)
    grant = grants.verify(capability, now=NOW)
    assert grant.model_dump(exclude_defaults=True) == {**claims, "expires_at": int(end.timestamp())}
    assert grant.by_link == ("share_token_id" in claims)
    assert grants.verify(capability, now=end - timedelta(seconds=1)) == grant
    with pytest.raises(NotFound):
        grants.verify(capability, now=end)  # ended at its end, not a second later


def test_a_grant_never_outlives_its_link():
    soon = NOW + timedelta(seconds=60)
    capability, end = grants.issue(ends_at=soon, now=NOW, **LINK_CLAIMS)
    assert end == soon and grants.verify(capability, now=NOW).expires_at == int(soon.timestamp())
    grants.verify(capability, now=soon - timedelta(seconds=1))
    with pytest.raises(NotFound):
        grants.verify(capability, now=soon)
    naive = (NOW + timedelta(seconds=90)).replace(tzinfo=None)  # as some drivers store it: UTC
    assert grants.issue(ends_at=naive, now=NOW, **LINK_CLAIMS)[1] == NOW + timedelta(seconds=90)
    # A link that ends later does not make the grant last longer.
    later = grants.issue(ends_at=NOW + timedelta(days=30), now=NOW, **LINK_CLAIMS)[1]
    assert later == NOW + timedelta(seconds=grants.GRANT_SECONDS)
    # A link that has ended gives a grant that has too.
    ended, _ = grants.issue(ends_at=NOW - timedelta(seconds=1), now=NOW, **LINK_CLAIMS)
    with pytest.raises(NotFound):
        grants.verify(ended, now=NOW)


def test_a_grant_issued_with_another_key_is_refused(settings_env):
    mine = the_key().decode()
    capability, _ = grants.issue(now=NOW, **SESSION_CLAIMS)
    settings_env(grant_key="k" * 64)
    theirs, _ = grants.issue(now=NOW, **SESSION_CLAIMS)
    with pytest.raises(NotFound):
        grants.verify(capability, now=NOW)
    settings_env(grant_key=mine)
    with pytest.raises(NotFound):
        grants.verify(theirs, now=NOW)
    assert grants.verify(capability, now=NOW).customer_id == CUSTOMER


def test_without_a_key_nothing_is_issued_or_believed(settings_env):
    capability, _ = grants.issue(now=NOW, **SESSION_CLAIMS)
    settings_env(grant_key="")
    with pytest.raises(RuntimeError, match="PORCHLIGHT_GRANT_KEY"):
        grants.issue(now=NOW, **SESSION_CLAIMS)
    with pytest.raises(RuntimeError):
        grants.verify(capability, now=NOW)


def good() -> str:
    return grants.issue(now=NOW, **SESSION_CLAIMS)[0]


@pytest.mark.parametrize("garbage", [
    None, 42, b"abc.def", ["a.b"], {"a": "b"}, "", ".", "no-dot", "a.b.c", "a.", ".a",
    "%%%.%%%", "é.é", "eyJ9.eyJ9", "x" * 3000 + "." + "y" * 43, "a" * 2049,
])
def test_garbage_is_refused(garbage):
    with pytest.raises(NotFound):
        grants.verify(garbage, now=NOW)


def test_a_grant_altered_in_any_way_is_refused():
    capability = good()
    payload_text, mac_text = capability.split(".")
    for variant in (
        capability + "A", "A" + capability, f"{payload_text}.{mac_text[:-2]}", f"{payload_text}.",
        f"{payload_text}.{b64(b'0' * 32)}", f"{mac_text}.{payload_text}", capability.upper(),
    ):
        with pytest.raises(NotFound):
            grants.verify(variant, now=NOW)
    for i in range(0, len(payload_text) - 1, 5):  # a character of the payload (the last may be padding bits)
        flipped = payload_text[:i] + ("A" if payload_text[i] != "A" else "B") + payload_text[i + 1:]
        with pytest.raises(NotFound):
            grants.verify(f"{flipped}.{mac_text}", now=NOW)


@pytest.mark.parametrize("payload", [
    b"not json", b"[]", b'"text"', b"null", b"\xff\xfe",
    encoded({"workspace_id": WS}),  # no end
    encoded({"workspace_id": WS, "expires_at": "soon"}),
    encoded({**SESSION_CLAIMS, "expires_at": int(NOW.timestamp()) + 60, "admin": True}),  # unknown claim
])
def test_a_well_signed_payload_that_is_not_a_grant_is_refused(payload):
    with pytest.raises(NotFound):
        grants.verify(signed(payload, the_key()), now=NOW)


def test_a_signature_made_the_same_way_is_believed():
    # The checks above sign as grants does: were this to fail, they would prove nothing.
    claims = {**SESSION_CLAIMS, "expires_at": int(NOW.timestamp()) + 60}
    assert grants.verify(signed(encoded(claims), the_key()), now=NOW).customer_id == CUSTOMER


def test_each_list_pages_newest_first_and_a_walk_meets_every_record_once(documents, records):
    """Records created between two pages neither appear twice nor push one out."""
    owner = session(WS, CUSTOMER)
    for n in range(23):
        documents.create_work_order(WS, "staff", {"title": f"Visit {n}", "customer_id": CUSTOMER})
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        page = documents.customer_list(owner, "work_orders", query)
        seen += [line["id"] for line in page["items"]]
        pages += 1
        if pages == 1:  # one arrives at the top while the customer reads
            documents.create_work_order(WS, "staff", {"title": "Arrived meanwhile", "customer_id": CUSTOMER})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 25 and pages == 3  # 23 + the two of the fixture
    first = documents.customer_list(owner, "work_orders", {"limit": "3"})["items"]
    titles = [line["title"] for line in first]
    assert titles == ["Arrived meanwhile", "Visit 22", "Visit 21"]
    reports = documents.customer_list(owner, "service_reports", {"status": "awaiting_signature"})
    assert {line["id"] for line in reports["items"]} == {records.service_report, records.other.service_report}
    assert reports["filters"] == [["awaiting_signature", "Awaiting your signature"], ["signed", "Signed"]]
    assert documents.customer_list(owner, "service_reports", {"status": "signed"})["items"] == []
    assert [e["id"] for e in documents.customer_list(owner, "estimates", {"status": "sent"})["items"]] == [
        records.other.estimate, records.estimate]


def test_a_list_refuses_what_is_not_its_own(documents, records):
    owner, member = session(WS, CUSTOMER), session(WS, CUSTOMER, "member")
    with pytest.raises(NotFound):  # money: a member's estimates list does not exist
        documents.customer_list(member, "estimates")
    assert len(documents.customer_list(member, "work_orders")["items"]) == 2
    with pytest.raises(NotFound):
        documents.customer_list(owner, "invoices")
    for bad, field in (({"status": "signed"}, "status"),  # a report's state, not a work order's
                       ({"status": "lost"}, "status"),
                       ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit"),
                       ({"cursor": "nope"}, "cursor"),
                       ({"cursor": records.estimate}, "cursor")):  # an id, but not of this list
        with pytest.raises(InvalidInput) as refused:
            documents.customer_list(owner, "work_orders", bad)
        assert field in refused.value.fields, bad
    theirs = session(WS, OTHER_CUSTOMER)
    assert documents.customer_list(theirs, "work_orders")["items"] == []
