import hashlib
import re
from datetime import timedelta

import pytest

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unavailable
from porchlight.contracts.signature_path import SignaturePathError, parse, to_svg
from porchlight.contracts.snapshots import canonical_json, digest
from services.signatures.models import ALIAS, Artifact, Evidence
from services.signatures.repository import SignaturesRepository
from services.signatures.service import TOO_LATE, SignaturesService
from tests.unit.conftest import dispatched
from tests.unit.test_signature_path import MALFORMED

WS = "a" * 24
OTHER_WS = "b" * 24
EST = "c" * 24
SRP = "d" * 24
PDF_SHA = hashlib.sha256(b"%PDF-1.7 signed").hexdigest()
SNAPSHOT = {
    "number": "EST-0001",
    "revision": 1,
    "currency": "EUR",
    "lines": [{"description": "Replace valve", "quantity": "1.5", "unit_price_minor": 12_000}],
    "total_minor": 18_000,
}


@pytest.fixture
def signatures(make_worker):
    return make_worker(SignaturesService, ALIAS, SignaturesRepository)


def in_seconds(seconds):
    return isoformat(utcnow() + timedelta(seconds=seconds))


def record(signatures, workspace_id=WS, **extra):
    data = {
        "kind": "acceptance", "entity_type": "estimate", "entity_id": EST,
        "entity_number": "EST-0001", "revision": 1, "signer_name": "Alex Morgan",
        "snapshot": SNAPSHOT, "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (test)",
        "deadline": in_seconds(30), **extra,
    }
    return signatures.record_evidence(workspace_id, {k: v for k, v in data.items() if v is not None})


def sign(signatures, path="M10 20 L11 21", **extra):
    return record(signatures, kind="signature", entity_type="service_report", entity_id=SRP,
                  entity_number="SR-0007", signature_path=path, **extra)


def test_who_vouched_for_an_answer_is_kept_for_staff_and_never_shown_on_the_certificate(signatures):
    signed_in = sign(signatures, contact_id="6" * 24, session_id="7" * 24)
    assert (signed_in["contact_id"], signed_in["session_id"], signed_in["share_token_id"]) == (
        "6" * 24, "7" * 24, None)
    public = signatures.get_certificate(signed_in["certificate_id"])
    assert "6" * 24 not in str(public) and "7" * 24 not in str(public)
    with pytest.raises(InvalidInput):
        record(signatures, entity_id="e" * 24, share_token_id="not an id")


def test_an_acceptance_is_recorded_with_its_evidence(signatures):
    evidence = record(signatures)
    assert re.fullmatch(r"cert_[0-9a-f]{32}", evidence["certificate_id"])
    assert evidence == {
        "certificate_id": evidence["certificate_id"], "workspace_id": WS, "kind": "acceptance",
        "entity_type": "estimate", "entity_id": EST, "entity_number": "EST-0001", "revision": 1,
        "signer_name": "Alex Morgan", "signature_path": None, "signature_svg": None, "reason": None,
        "snapshot": SNAPSHOT, "snapshot_sha256": digest(SNAPSHOT), "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)", "share_token_id": None, "contact_id": None,
        "session_id": None, "signed_at": evidence["signed_at"],
    }
    assert evidence["signed_at"].endswith("Z")
    assert signatures.get_evidence(WS, evidence["certificate_id"]) == evidence
    assert dispatched(signatures) == ["evidence_recorded"]
    event = signatures.dispatch.call_args.args[1]
    assert event == {
        "workspace_id": WS, "actor": "customer", "occurred_at": event["occurred_at"],
        "certificate_id": evidence["certificate_id"], "kind": "acceptance",
        "entity_type": "estimate", "entity_id": EST, "revision": 1,
    }


def test_a_decline_keeps_its_reason(signatures):
    evidence = record(signatures, kind="decline", reason="Too expensive.\nWe'll get back to you.")
    assert evidence["kind"] == "decline"
    assert evidence["reason"] == "Too expensive.\nWe'll get back to you."
    assert record(signatures, kind="decline", revision=2)["reason"] is None  # optional


def test_a_drawn_signature_is_stored_normalized_and_drawn_from_the_template(signatures):
    evidence = sign(signatures, path="M10,20 L11.125,21.50 L12.006 22 M40 30 L41 31")
    normalized = "M10 20 L11.12 21.5 L12.01 22 M40 30 L41 31"
    assert evidence["signature_path"] == normalized
    assert evidence["signature_svg"] == to_svg(parse(normalized))
    stored = Evidence.objects.get()
    assert stored.signature_path == normalized
    assert "11.125" not in str(stored.to_mongo())  # never the client's string
    certificate = signatures.get_certificate(evidence["certificate_id"])
    assert certificate["signature_svg"] == to_svg(parse(normalized))


@pytest.mark.parametrize("second", ["acceptance", "decline", "signature"])
def test_one_outcome_per_revision(signatures, second):
    first = record(signatures)
    extra = {"signature_path": "M1 1 L2 2"} if second == "signature" else {}
    with pytest.raises(Conflict) as info:
        record(signatures, kind=second, signer_name="Someone Else", **extra)
    assert info.value.message == "This has already been answered."
    assert [e.certificate_id for e in Evidence.objects] == [first["certificate_id"]]
    assert dispatched(signatures) == ["evidence_recorded"]
    # A new revision, another entity, or the same ids in another workspace are new questions.
    assert record(signatures, kind=second, revision=2, **extra)["revision"] == 2
    assert record(signatures, entity_id="e" * 24)["entity_id"] == "e" * 24
    assert record(signatures, workspace_id=OTHER_WS)["workspace_id"] == OTHER_WS
    assert Evidence.objects.count() == 4


@pytest.mark.parametrize("path, rule", MALFORMED + [
    (None, "This field is required."),
    (42, "Must be text."),
    (["M1 1 L2 2"], "Must be text."),
    ("M1 1" + " L2 2" * 2000, "too many points"),
    ("M1 1 L2 2" * 2000, "too large"),
])
def test_every_malformed_signature_is_refused_and_nothing_stored(signatures, path, rule):
    with pytest.raises(InvalidInput) as info:
        sign(signatures, path=path)
    assert set(info.value.fields) == {"signature_path"}
    assert rule in info.value.fields["signature_path"]
    if isinstance(path, str):
        with pytest.raises(SignaturePathError) as refused:
            parse(path)
        assert info.value.fields["signature_path"] == str(refused.value)
    assert Evidence.objects.count() == 0
    assert dispatched(signatures) == []


def test_only_a_signature_carries_a_path_and_only_a_decline_a_reason(signatures):
    with pytest.raises(InvalidInput) as info:
        record(signatures, signature_path="M1 1 L2 2", reason="No thanks")
    assert set(info.value.fields) == {"signature_path", "reason"}
    with pytest.raises(InvalidInput) as info:
        sign(signatures, reason="Signed under protest")
    assert set(info.value.fields) == {"reason"}
    assert Evidence.objects.count() == 0
    # Blank counts as not sent, as everywhere in Form.
    assert record(signatures, signature_path="", reason="  ")["reason"] is None


@pytest.mark.parametrize("field, value", [
    ("kind", "approval"),
    ("kind", None),
    ("entity_type", "work_order"),
    ("entity_id", "123"),
    ("entity_number", "E" * 33),
    ("entity_number", None),
    ("revision", 0),
    ("revision", 10_001),
    ("revision", True),
    ("revision", "1"),
    ("revision", 1.0),
    ("revision", None),
    ("signer_name", None),
    ("signer_name", "   "),
    ("signer_name", "A" * 121),
    ("signer_name", "Alex\u202eMorgan"),
    ("signer_name", "Alex\nMorgan"),
    ("ip", None),
    ("ip", "999.1.1.1"),
    ("ip", "localhost"),
    ("ip", "203.0.113.7, 10.0.0.1"),
    ("user_agent", "U" * 513),
    ("snapshot", None),
    ("snapshot", {}),
    ("snapshot", ["not", "an", "object"]),
    ("snapshot", "{}"),
    ("snapshot", {"total": 180.0}),
    ("snapshot", {"lines": [{"quantity": 1.5}]}),
    ("snapshot", {"text": "\ud800"}),
    ("snapshot", {"blob": "x" * (256 * 1024)}),
    ("workspace_id", WS),  # unknown field: the workspace is an argument, not data
    ("deadline", None),
    ("deadline", "tomorrow"),
    ("deadline", "2030-01-01T10:00:00"),  # no offset: which moment is unknown
    ("deadline", 1767261600),
    ("deadline", in_seconds(3600)),  # nobody waits an hour for an answer to be recorded
])
def test_invalid_evidence_is_refused_and_nothing_stored(signatures, field, value):
    data = {
        "kind": "acceptance", "entity_type": "estimate", "entity_id": EST,
        "entity_number": "EST-0001", "revision": 1, "signer_name": "Alex Morgan",
        "snapshot": SNAPSHOT, "ip": "203.0.113.7", "deadline": in_seconds(30),
    }
    data[field] = value
    with pytest.raises(InvalidInput) as info:
        signatures.record_evidence(WS, data)
    assert set(info.value.fields) == {field}
    assert Evidence.objects.count() == 0
    assert dispatched(signatures) == []


def test_a_reason_longer_than_1000_characters_is_refused(signatures):
    with pytest.raises(InvalidInput) as info:
        record(signatures, kind="decline", reason="x" * 1001)
    assert set(info.value.fields) == {"reason"}


def test_ip_addresses_are_stored_in_their_standard_form(signatures):
    assert record(signatures, ip="2001:DB8:0:0:0:0:0:1")["ip"] == "2001:db8::1"
    assert record(signatures, ip=" 198.51.100.4 ", revision=2)["ip"] == "198.51.100.4"
    assert record(signatures, user_agent=None, revision=3)["user_agent"] is None


def test_the_snapshot_hash_is_its_canonical_digest_and_follows_every_change(signatures):
    first = record(signatures)
    assert first["snapshot_sha256"] == digest(SNAPSHOT)
    stored = Evidence.objects.get()
    assert stored.snapshot_json.encode("utf-8") == canonical_json(SNAPSHOT)
    assert hashlib.sha256(stored.snapshot_json.encode("utf-8")).hexdigest() == first["snapshot_sha256"]
    changed = {**SNAPSHOT, "total_minor": 18_001}
    second = record(signatures, revision=2, snapshot=changed)
    assert second["snapshot_sha256"] == digest(changed) != first["snapshot_sha256"]
    assert second["snapshot"] == changed


def test_snapshots_are_kept_exactly_even_where_a_database_would_balk(signatures):
    snapshot = {"a.b": "dotted key", "$ref": "dollar key", "big": 2**70, "name": "Zoë 配管"}
    evidence = record(signatures, snapshot=snapshot)
    assert evidence["snapshot"] == snapshot
    assert signatures.get_certificate(evidence["certificate_id"])["snapshot_sha256"] == digest(snapshot)


def test_the_public_certificate_hides_ip_device_workspace_and_what_was_priced(signatures):
    """Anyone with a certificate id may read it: it names the record and fingerprints what
    was signed, but the content itself (prices included) stays with staff (L-17)."""
    evidence = sign(signatures, ip="198.51.100.23", user_agent="SecretPhone/1.0")
    certificate = signatures.get_certificate(evidence["certificate_id"])
    assert certificate == {
        "certificate_id": evidence["certificate_id"], "kind": "signature",
        "entity_type": "service_report", "entity_number": "SR-0007", "revision": 1,
        "signer_name": "Alex Morgan", "signed_at": evidence["signed_at"],
        "snapshot_sha256": digest(SNAPSHOT),
        "signature_svg": evidence["signature_svg"], "artifacts": [],
    }
    text = str(certificate)
    assert "198.51.100.23" not in text and "SecretPhone" not in text and WS not in text


@pytest.mark.parametrize("certificate_id", [
    None, 42, "", "cert_", "cert_" + "0" * 32, "CERT_" + "a" * 32, "cert_" + "A" * 32,
    "cert_" + "a" * 31, "cert_" + "a" * 33, "cert_" + "a" * 32 + "\n", {"$ne": None},
])
def test_unknown_or_malformed_certificates_are_not_found(signatures, certificate_id):
    record(signatures)
    with pytest.raises(NotFound):
        signatures.get_certificate(certificate_id)
    with pytest.raises(NotFound):
        signatures.get_evidence(WS, certificate_id)


def test_evidence_is_workspace_scoped(signatures):
    evidence = record(signatures)
    with pytest.raises(NotFound):
        signatures.get_evidence(OTHER_WS, evidence["certificate_id"])
    assert signatures.list_evidence(OTHER_WS, "estimate", EST) == []
    with pytest.raises(NotFound):
        signatures.attach_artifact(
            OTHER_WS, evidence["certificate_id"], {"kind": "signed_pdf", "sha256": PDF_SHA}
        )
    assert Artifact.objects.count() == 0
    with pytest.raises(NotFound):
        signatures.list_evidence(WS, "work_order", EST)


def test_list_shows_each_revision_in_order(signatures):
    second = record(signatures, revision=2, kind="decline")
    first = record(signatures, revision=1)
    sign(signatures)  # another entity
    listed = signatures.list_evidence(WS, "estimate", EST)
    assert [e["certificate_id"] for e in listed] == [first["certificate_id"], second["certificate_id"]]
    assert listed[0]["ip"] == "203.0.113.7"  # the staff view


def test_attaching_the_signed_pdf_is_idempotent(signatures):
    certificate_id = sign(signatures)["certificate_id"]
    attached = signatures.attach_artifact(WS, certificate_id, {"kind": "signed_pdf", "sha256": PDF_SHA})
    assert attached == {"certificate_id": certificate_id, "kind": "signed_pdf", "sha256": PDF_SHA,
                        "created_at": attached["created_at"]}
    again = signatures.attach_artifact(WS, certificate_id, {"kind": "signed_pdf", "sha256": PDF_SHA.upper()})
    assert again == attached
    assert Artifact.objects.count() == 1
    assert dispatched(signatures) == ["evidence_recorded", "artifact_attached"]
    event = signatures.dispatch.call_args.args[1]
    assert event["certificate_id"] == certificate_id and event["sha256"] == PDF_SHA
    assert signatures.get_certificate(certificate_id)["artifacts"] == [
        {"kind": "signed_pdf", "sha256": PDF_SHA, "created_at": attached["created_at"]}
    ]


def test_a_different_document_for_the_same_certificate_conflicts(signatures):
    certificate_id = sign(signatures)["certificate_id"]
    signatures.attach_artifact(WS, certificate_id, {"kind": "signed_pdf", "sha256": PDF_SHA})
    with pytest.raises(Conflict):
        signatures.attach_artifact(WS, certificate_id, {"kind": "signed_pdf", "sha256": "0" * 64})
    assert [a.sha256 for a in Artifact.objects] == [PDF_SHA]


@pytest.mark.parametrize("data, field", [
    ({"kind": "photo", "sha256": PDF_SHA}, "kind"),
    ({"sha256": PDF_SHA}, "kind"),
    ({"kind": "signed_pdf"}, "sha256"),
    ({"kind": "signed_pdf", "sha256": PDF_SHA[:-1]}, "sha256"),
    ({"kind": "signed_pdf", "sha256": PDF_SHA[:-1] + "g"}, "sha256"),
    ({"kind": "signed_pdf", "sha256": PDF_SHA + "0"}, "sha256"),
    ({"kind": "signed_pdf", "sha256": 42}, "sha256"),
    ({"kind": "signed_pdf", "sha256": PDF_SHA, "url": "https://example.com"}, "url"),
])
def test_invalid_artifacts_are_refused(signatures, data, field):
    certificate_id = sign(signatures)["certificate_id"]
    with pytest.raises(InvalidInput) as info:
        signatures.attach_artifact(WS, certificate_id, data)
    assert set(info.value.fields) == {field}
    assert Artifact.objects.count() == 0


def test_a_certificate_is_found_by_its_documents_hash(signatures):
    evidence = sign(signatures)
    signatures.attach_artifact(WS, evidence["certificate_id"], {"kind": "signed_pdf", "sha256": PDF_SHA})
    found = signatures.find_certificate_by_artifact(PDF_SHA)
    assert found == signatures.get_certificate(evidence["certificate_id"])
    assert signatures.find_certificate_by_artifact(PDF_SHA.upper()) == found
    assert "ip" not in found and "workspace_id" not in found


@pytest.mark.parametrize("sha256", [None, 42, "", "0" * 64, PDF_SHA[:-1], PDF_SHA + "\n", "z" * 64])
def test_unknown_or_malformed_hashes_are_not_found(signatures, sha256):
    evidence = sign(signatures)
    signatures.attach_artifact(WS, evidence["certificate_id"], {"kind": "signed_pdf", "sha256": PDF_SHA})
    with pytest.raises(NotFound):
        signatures.find_certificate_by_artifact(sha256)


def test_the_repository_can_only_insert_and_read():
    public = {name for name in vars(SignaturesRepository) if not name.startswith("_")}
    assert public == {
        "ensure_indexes", "record", "get", "get_public", "list_for_entity",
        "attach", "artifacts_of", "find_by_artifact", "count_lookup",
    }


def test_one_address_may_check_only_so_many_documents_in_a_window(signatures):
    """Hashing guesses at a signed PDF is cheap; looking each one up here is not free."""
    from services.signatures.repository import LOOKUPS_PER_IP

    for _ in range(LOOKUPS_PER_IP):
        with pytest.raises(NotFound):
            signatures.find_certificate_by_artifact("0" * 64, "203.0.113.9")
    with pytest.raises(TooManyRequests) as refused:
        signatures.find_certificate_by_artifact("0" * 64, "203.0.113.9")
    assert 0 < refused.value.retry_after <= 15 * 60 + 1
    with pytest.raises(NotFound):  # another address is not held back
        signatures.find_certificate_by_artifact("0" * 64, "198.51.100.7")
    for n in range(LOOKUPS_PER_IP):  # an IPv6 client counts by its /64, whatever its address
        with pytest.raises(NotFound):
            signatures.find_certificate_by_artifact("0" * 64, f"2001:db8:1:2::{n + 1:x}")
    with pytest.raises(TooManyRequests):
        signatures.find_certificate_by_artifact("0" * 64, "2001:db8:1:2:ffff::1")


def test_the_identical_outcome_again_returns_the_first_record(signatures):
    # A caller that timed out and retries must not be told "already answered" for its
    # own answer — but any different answer for the revision still is.
    first = record(signatures)
    again = record(signatures)
    assert again["certificate_id"] == first["certificate_id"]
    assert Evidence.objects.count() == 1
    assert dispatched(signatures).count("evidence_recorded") == 1
    with pytest.raises(Conflict):
        record(signatures, signer_name="Someone Else")


@pytest.mark.parametrize("kind, extra", [
    ("acceptance", {}), ("decline", {"reason": "Too dear."}), ("signature", {"signature_path": "M1 1 L2 2"}),
])
def test_evidence_past_its_deadline_is_refused_and_nothing_stored(signatures, kind, extra):
    # The caller gave up at the deadline and told the customer it failed: recording it
    # now would bind the customer to an answer they were told had not counted.
    with pytest.raises(Unavailable) as info:
        record(signatures, kind=kind, deadline=isoformat(utcnow() - timedelta(milliseconds=1)), **extra)
    assert info.value.message == TOO_LATE
    assert Evidence.objects.count() == 0
    assert dispatched(signatures) == []
    # Before its deadline the very same answer is recorded.
    assert record(signatures, kind=kind, **extra)["kind"] == kind

