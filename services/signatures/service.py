"""signatures: evidence of customers' answers — acceptances, declines and drawn
signatures — their public certificates, and the signed documents attached to them."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from porchlight import signature_path, snapshots
from porchlight.clock import isoformat, parse_iso, utcnow
from porchlight.errors import Conflict, InvalidInput, NotFound, Unavailable
from porchlight.events import fact
from porchlight.storage import Store
from porchlight.validation import Form
from services.signatures.models import ALIAS, ARTIFACT_KINDS, ENTITY_TYPES, KINDS, Artifact, Evidence
from services.signatures.repository import SignaturesRepository, is_sha256

MAX_REVISION = 10_000
MAX_SNAPSHOT_BYTES = 256 * 1024
# A caller waits seconds for evidence, not minutes: a deadline further ahead is a mistake.
MAX_DEADLINE_AHEAD = timedelta(minutes=1)
EVIDENCE_FIELDS = (
    "kind", "entity_type", "entity_id", "entity_number", "revision", "signer_name",
    "signature_path", "reason", "snapshot", "ip", "user_agent", "deadline",
)
# The caller has given up on the answer, and told the customer so: it must not count.
TOO_LATE = "This answer arrived too late to be recorded, so nothing was stored. Please try again."


def _signature_svg(evidence: Evidence) -> str | None:
    if not evidence.signature_path:
        return None
    # The stored path is our own normalized output; drawing goes through the same parser.
    return signature_path.to_svg(signature_path.parse(evidence.signature_path))


def artifact_to_wire(artifact: Artifact) -> dict[str, Any]:
    return {
        "certificate_id": artifact.certificate_id,
        "kind": artifact.kind,
        "sha256": artifact.sha256,
        "created_at": isoformat(artifact.created_at),
    }


def evidence_to_wire(evidence: Evidence) -> dict[str, Any]:
    """The staff view: everything recorded, the signer's IP address and device included."""
    return {
        "certificate_id": evidence.certificate_id,
        "workspace_id": evidence.workspace_id,
        "kind": evidence.kind,
        "entity_type": evidence.entity_type,
        "entity_id": evidence.entity_id,
        "entity_number": evidence.entity_number,
        "revision": evidence.revision,
        "signer_name": evidence.signer_name,
        "signature_path": evidence.signature_path,
        "signature_svg": _signature_svg(evidence),
        "reason": evidence.reason,
        "snapshot": evidence.snapshot,
        "snapshot_sha256": evidence.snapshot_sha256,
        "ip": evidence.ip,
        "user_agent": evidence.user_agent,
        "signed_at": isoformat(evidence.signed_at),
    }


def certificate_to_wire(evidence: Evidence, artifacts: list[Artifact]) -> dict[str, Any]:
    """The public view for verify pages. Built field by field — never by removing fields
    from the staff view — so the IP address, device and workspace stay private, and so
    does any field added later until someone decides otherwise."""
    return {
        "certificate_id": evidence.certificate_id,
        "kind": evidence.kind,
        "entity_type": evidence.entity_type,
        "entity_number": evidence.entity_number,
        "revision": evidence.revision,
        "signer_name": evidence.signer_name,
        "signed_at": isoformat(evidence.signed_at),
        "snapshot_sha256": evidence.snapshot_sha256,
        "snapshot": evidence.snapshot,
        "signature_svg": _signature_svg(evidence),
        "artifacts": [
            {"kind": a.kind, "sha256": a.sha256, "created_at": isoformat(a.created_at)}
            for a in artifacts
        ],
    }


def _revision(form: Form) -> int | None:
    value = form.data.get("revision")
    if value is None:
        form.error("revision", "This field is required.")
        return None
    # bool is an int in Python; True is not revision 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REVISION:
        form.error("revision", f"Must be a whole number from 1 to {MAX_REVISION}.")
        return None
    return value


def _given(value: Any) -> bool:
    """Sent with something in it: None and blank text count as not sent, as in Form."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _signature(form: Form, kind: str | None) -> str | None:
    """The normalized path of a drawn signature; only a signature carries one."""
    raw = form.data.get("signature_path")
    if kind is None:  # the kind is already reported wrong; which rule applies is unknown
        return None
    if kind != "signature":
        if _given(raw):
            form.error("signature_path", "Only a drawn signature carries a signature path.")
        return None
    if raw is None:
        form.error("signature_path", "This field is required.")
        return None
    try:
        return signature_path.to_path(signature_path.parse(raw))
    except signature_path.SignaturePathError as exc:
        form.error("signature_path", str(exc))
        return None


def _reason(form: Form, kind: str | None) -> str | None:
    if kind is None:
        return None
    if kind != "decline":
        if _given(form.data.get("reason")):
            form.error("reason", "Only a decline carries a reason.")
        return None
    return form.text("reason", required=False, max_length=1000, multiline=True)


def _snapshot(form: Form) -> tuple[str, str] | None:
    """The snapshot's canonical JSON text and its SHA-256."""
    value = form.data.get("snapshot")
    if value is None:
        form.error("snapshot", "This field is required.")
        return None
    if not isinstance(value, dict) or not value:
        form.error("snapshot", "Must be a non-empty object: what the customer was shown.")
        return None
    try:
        canonical = snapshots.canonical_json(value)
        sha256 = snapshots.digest(value)
    except TypeError:
        form.error("snapshot", "Must hold only text, whole numbers, true/false, null, lists and "
                               "objects; send money and quantities as integers or text.")
        return None
    except ValueError:
        form.error("snapshot", "Contains characters that are not allowed.")
        return None
    if len(canonical) > MAX_SNAPSHOT_BYTES:
        form.error("snapshot", f"Must be at most {MAX_SNAPSHOT_BYTES // 1024} KB.")
        return None
    return canonical.decode("utf-8"), sha256


def _deadline(form: Form) -> datetime | None:
    """When the caller stops waiting for this answer: after it, the customer has been told
    it failed, so it must not be recorded."""
    value = form.data.get("deadline")
    if value is None:
        form.error("deadline", "This field is required.")
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        deadline = parse_iso(value)
    except ValueError:
        form.error("deadline", "Must be an ISO 8601 timestamp with a UTC offset, like 2026-01-31T17:00:00Z.")
        return None
    if deadline > utcnow() + MAX_DEADLINE_AHEAD:
        form.error("deadline", "Must be at most a minute ahead.")
        return None
    return deadline


def _ip(form: Form) -> str | None:
    value = form.text("ip", max_length=45)
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        form.error("ip", "Must be an IPv4 or IPv6 address.")
        return None


class SignaturesService:
    name = "signatures"

    repo: SignaturesRepository = Store(ALIAS, SignaturesRepository)
    dispatch = EventDispatcher()

    @rpc(expected_exceptions=(InvalidInput, Conflict, Unavailable))
    def record_evidence(self, workspace_id: str, data: dict) -> dict[str, Any]:
        """Record a customer's acceptance, decline or drawn signature of one revision of
        an estimate or service report, with the snapshot they were shown. One outcome per
        revision: a different second one is a Conflict; the identical one again returns
        the first record (safe to repeat). A request past its ``deadline`` is refused
        (``Unavailable``) and nothing is stored."""
        form = Form(data)
        form.reject_unknown(EVIDENCE_FIELDS)
        kind = form.choice("kind", KINDS)
        fields = {
            "kind": kind,
            "entity_type": form.choice("entity_type", ENTITY_TYPES),
            "entity_id": form.object_id("entity_id"),
            "entity_number": form.text("entity_number", max_length=32),
            "revision": _revision(form),
            "signer_name": form.text("signer_name", max_length=120),
            "signature_path": _signature(form, kind),
            "reason": _reason(form, kind),
            "ip": _ip(form),
            "user_agent": form.text("user_agent", required=False, max_length=512),
        }
        snapshot = _snapshot(form)
        deadline = _deadline(form)
        form.check()
        if utcnow() >= deadline:
            raise Unavailable(TOO_LATE)
        fields["snapshot_json"], fields["snapshot_sha256"] = snapshot
        evidence, created = self.repo.record(workspace_id, fields)
        if created:
            self.dispatch("evidence_recorded", fact(
                workspace_id, "customer", certificate_id=evidence.certificate_id, kind=evidence.kind,
                entity_type=evidence.entity_type, entity_id=evidence.entity_id,
                revision=evidence.revision,
            ))
        return evidence_to_wire(evidence)

    @rpc(expected_exceptions=(NotFound,))
    def get_evidence(self, workspace_id: str, certificate_id: str) -> dict[str, Any]:
        return evidence_to_wire(self.repo.get(workspace_id, certificate_id))

    @rpc(expected_exceptions=(NotFound,))
    def list_evidence(self, workspace_id: str, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        if entity_type not in ENTITY_TYPES:
            raise NotFound("Unknown entity type.")
        return [
            evidence_to_wire(e)
            for e in self.repo.list_for_entity(workspace_id, entity_type, entity_id)
        ]

    @rpc(expected_exceptions=(NotFound,))
    def get_certificate(self, certificate_id: str) -> dict[str, Any]:
        """The public view of a certificate, for verify pages: no IP address, device or
        workspace."""
        evidence = self.repo.get_public(certificate_id)
        return certificate_to_wire(evidence, self.repo.artifacts_of(evidence.certificate_id))

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    def attach_artifact(self, workspace_id: str, certificate_id: str, data: dict) -> dict[str, Any]:
        """Attach a document made from the evidence (the signed PDF) by its SHA-256. Safe
        to repeat with the same hash; a different hash for the same kind is a Conflict."""
        form = Form(data)
        form.reject_unknown(("kind", "sha256"))
        kind = form.choice("kind", ARTIFACT_KINDS)
        sha256 = form.text("sha256", max_length=64)
        if sha256 is not None:
            sha256 = sha256.lower()
            if not is_sha256(sha256):
                form.error("sha256", "Must be a SHA-256 digest: 64 hexadecimal characters.")
        form.check()
        artifact, created = self.repo.attach(workspace_id, certificate_id, kind, sha256)
        if created:
            self.dispatch("artifact_attached", fact(
                workspace_id, "system", certificate_id=artifact.certificate_id,
                kind=artifact.kind, sha256=artifact.sha256,
            ))
        return artifact_to_wire(artifact)

    @rpc(expected_exceptions=(NotFound,))
    def find_certificate_by_artifact(self, sha256: str) -> dict[str, Any]:
        """The public certificate of the document with this SHA-256 (any case)."""
        evidence = self.repo.find_by_artifact(sha256.lower() if isinstance(sha256, str) else "")
        return certificate_to_wire(evidence, self.repo.artifacts_of(evidence.certificate_id))
