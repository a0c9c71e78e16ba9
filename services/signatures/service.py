"""signatures: evidence of customers' answers — acceptances, declines and drawn
signatures — their public certificates, and the signed documents attached to them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from porchlight.contracts import ATTENTION, answer, parse, signature_path, snapshots
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.evidence import Artifact as ArtifactReply
from porchlight.contracts.evidence import ArtifactInput, EvidenceInput
from porchlight.contracts.evidence import Certificate as CertificateReply
from porchlight.contracts.evidence import Evidence as EvidenceReply
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import EventDispatcher, RequestTracing
from porchlight.kit.service_ops import Observed
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import Store
from services.signatures.models import ALIAS, ENTITY_TYPES, Artifact, Evidence
from services.signatures.repository import SignaturesRepository

MAX_SNAPSHOT_BYTES = 256 * 1024
# A caller waits seconds for evidence, not minutes: a deadline further ahead is a mistake.
MAX_DEADLINE_AHEAD = timedelta(minutes=1)
# The caller has given up on the answer, and told the customer so: it must not count.
TOO_LATE = "This answer arrived too late to be recorded, so nothing was stored. Please try again."


def _signature_svg(evidence: Evidence) -> str | None:
    if not evidence.signature_path:
        return None
    # The stored path is our own normalized output; drawing goes through the same parser.
    return signature_path.to_svg(signature_path.parse(evidence.signature_path))


def artifact_to_wire(artifact: Artifact) -> dict[str, Any]:
    return answer(ArtifactReply, **{
        "certificate_id": artifact.certificate_id,
        "kind": artifact.kind,
        "sha256": artifact.sha256,
        "created_at": isoformat(artifact.created_at),
    })


def evidence_to_wire(evidence: Evidence) -> dict[str, Any]:
    """The staff view: everything recorded, the signer's IP address and device included."""
    return answer(EvidenceReply, **{
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
        "share_token_id": evidence.share_token_id,
        "contact_id": evidence.contact_id,
        "session_id": evidence.session_id,
        "signed_at": isoformat(evidence.signed_at),
    })


def certificate_to_wire(evidence: Evidence, artifacts: list[Artifact]) -> dict[str, Any]:
    """The public view for verify pages. Built field by field — never by removing fields
    from the staff view — so the IP address, device and workspace stay private, and so
    does any field added later until someone decides otherwise. What was signed is named
    (kind, record number, revision) and fingerprinted (``snapshot_sha256``), never shown:
    its prices are the business's and its customer's."""
    return answer(CertificateReply, **{
        "certificate_id": evidence.certificate_id,
        "kind": evidence.kind,
        "entity_type": evidence.entity_type,
        "entity_number": evidence.entity_number,
        "revision": evidence.revision,
        "signer_name": evidence.signer_name,
        "signed_at": isoformat(evidence.signed_at),
        "snapshot_sha256": evidence.snapshot_sha256,
        "signature_svg": _signature_svg(evidence),
        "artifacts": [
            {"kind": a.kind, "sha256": a.sha256, "created_at": isoformat(a.created_at)}
            for a in artifacts
        ],
    })


def _by_kind(evidence: EvidenceInput) -> tuple[str | None, str | None]:
    """The normalized drawn path and the reason, checked against the kind: only a
    signature carries a path (and must), only a decline a reason."""
    errors: dict[str, str] = {}
    path = None
    if evidence.kind == "signature":
        if evidence.signature_path is None:
            errors["signature_path"] = "This field is required."
        else:
            try:
                path = signature_path.to_path(signature_path.parse(evidence.signature_path))
            except signature_path.SignaturePathError as exc:
                errors["signature_path"] = str(exc)
    elif evidence.signature_path is not None and evidence.signature_path.strip():
        errors["signature_path"] = "Only a drawn signature carries a signature path."
    if evidence.kind != "decline" and evidence.reason is not None:
        errors["reason"] = "Only a decline carries a reason."
    if errors:
        raise InvalidInput(ATTENTION, errors)
    return path, evidence.reason if evidence.kind == "decline" else None


def _canonical(snapshot: dict[str, Any]) -> tuple[str, str]:
    """The snapshot's canonical JSON text and its SHA-256."""
    try:
        canonical = snapshots.canonical_json(snapshot)
    except TypeError:
        raise InvalidInput(ATTENTION, {"snapshot": (
            "Must hold only text, whole numbers, true/false, null, lists and objects; send money "
            "and quantities as integers or text.")}) from None
    except ValueError:
        raise InvalidInput(ATTENTION, {"snapshot": "Contains characters that are not allowed."}) from None
    if len(canonical) > MAX_SNAPSHOT_BYTES:
        raise InvalidInput(ATTENTION, {"snapshot": f"Must be at most {MAX_SNAPSHOT_BYTES // 1024} KB."})
    return canonical.decode("utf-8"), snapshots.digest(snapshot)


class SignaturesService(Ping, Observed):
    name = "signatures"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: SignaturesRepository = Store(ALIAS, SignaturesRepository)
    dispatch = EventDispatcher()

    @rpc(expected_exceptions=(InvalidInput, Conflict, Unavailable))
    def record_evidence(self, workspace_id: str, data: dict) -> dict[str, Any]:
        """Record a customer's acceptance, decline or drawn signature of one revision of
        an estimate or service report, with the snapshot they were shown. One outcome per
        revision: a different second one is a Conflict; the identical one again returns
        the first record (safe to repeat). A request past its ``deadline`` is refused
        (``Unavailable``) and nothing is stored."""
        request = parse(EvidenceInput, data)
        if request.deadline > utcnow() + MAX_DEADLINE_AHEAD:
            raise InvalidInput(ATTENTION, {"deadline": "Must be at most a minute ahead."})
        path, reason = _by_kind(request)
        snapshot_json, snapshot_sha256 = _canonical(request.snapshot)
        if utcnow() >= request.deadline:
            raise Unavailable(TOO_LATE)
        fields = {
            **request.model_dump(exclude={"deadline", "snapshot"}),
            "signature_path": path, "reason": reason,
            "snapshot_json": snapshot_json, "snapshot_sha256": snapshot_sha256,
        }
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
        artifact = parse(ArtifactInput, data)
        kind, sha256 = artifact.kind, artifact.sha256
        artifact, created = self.repo.attach(workspace_id, certificate_id, kind, sha256)
        if created:
            self.dispatch("artifact_attached", fact(
                workspace_id, "system", certificate_id=artifact.certificate_id,
                kind=artifact.kind, sha256=artifact.sha256,
            ))
        return artifact_to_wire(artifact)

    @rpc(expected_exceptions=(NotFound, TooManyRequests))
    def find_certificate_by_artifact(self, sha256: str, ip: str | None = None) -> dict[str, Any]:
        """The public certificate of the document with this SHA-256 (any case). A lookup
        for a client (``ip``, from the portal) counts against that address's limit."""
        if ip is not None:
            self.repo.count_lookup(str(ip)[:64], utcnow())
        evidence = self.repo.find_by_artifact(sha256.lower() if isinstance(sha256, str) else "")
        return certificate_to_wire(evidence, self.repo.artifacts_of(evidence.certificate_id))
