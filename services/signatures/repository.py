"""Evidence and artifact storage: inserts and reads only.

Evidence is what a customer's answer rests on, so nothing here updates or deletes it.
Every staff query carries the workspace id; the public reads go by certificate id (or a
signed PDF's hash) and return records the caller turns into the public view.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, NotFound
from porchlight.kit import attempt_limits
from services.signatures.models import Artifact, Evidence, LookupAttempt

# Checking a signed PDF: a person checks a few; more than this from one address in a
# window is someone hashing guesses (porchlight.kit.attempt_limits.WINDOW).
LOOKUPS_PER_IP = 30
TOO_MANY_LOOKUPS = "Too many documents checked from your address. Please wait a few minutes and try again."

_CERTIFICATE_ID = re.compile(r"cert_[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def new_certificate_id() -> str:
    return f"cert_{secrets.token_hex(16)}"


def is_certificate_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 37 and bool(_CERTIFICATE_ID.fullmatch(value))


def is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and bool(_SHA256.fullmatch(value))


class SignaturesRepository:
    def ensure_indexes(self) -> None:
        for model in (Evidence, Artifact, LookupAttempt):
            model.ensure_indexes()

    def count_lookup(self, ip: str, now: Any) -> None:
        """One lookup of a PDF by the client at ``ip``, or ``TooManyRequests``."""
        attempt_limits.count_attempt(LookupAttempt, {f"ip:{attempt_limits.ip_bucket(ip)}": LOOKUPS_PER_IP},
                                     now, TOO_MANY_LOOKUPS)

    # -- evidence -----------------------------------------------------------------------
    def record(self, workspace_id: str, fields: dict[str, Any]) -> tuple[Evidence, bool]:
        """Insert one outcome for an entity's revision; returns it and whether this call
        created it. The unique index decides races: a different outcome for the same
        revision is a ``Conflict``; the very same outcome again (a caller retrying after
        its own timeout) gets the existing record back."""
        for _ in range(3):
            try:
                return Evidence(
                    workspace_id=workspace_id, certificate_id=new_certificate_id(),
                    signed_at=utcnow(), **fields,
                ).save(force_insert=True), True
            except me.NotUniqueError:
                answered = Evidence.objects(
                    workspace_id=workspace_id, entity_type=fields["entity_type"],
                    entity_id=fields["entity_id"], revision=fields["revision"],
                ).first()
                if answered is not None:
                    same = all(getattr(answered, key) == fields.get(key) for key in
                               ("kind", "signer_name", "snapshot_sha256", "signature_path"))
                    if same:
                        return answered, False
                    raise Conflict("This has already been answered.") from None
                # 128 random bits collided with an existing certificate id: draw again.
        raise Conflict("Could not allocate a certificate id; try again.")

    def get(self, workspace_id: str, certificate_id: str) -> Evidence:
        evidence = (
            Evidence.objects(certificate_id=certificate_id, workspace_id=workspace_id).first()
            if is_certificate_id(certificate_id) else None
        )
        if evidence is None:
            raise NotFound("No such certificate.")
        return evidence

    def get_public(self, certificate_id: str) -> Evidence:
        """By certificate id alone: the id is the bearer's proof, as printed on a PDF."""
        evidence = (
            Evidence.objects(certificate_id=certificate_id).first()
            if is_certificate_id(certificate_id) else None
        )
        if evidence is None:
            raise NotFound("No such certificate.")
        return evidence

    def list_for_entity(self, workspace_id: str, entity_type: str, entity_id: str) -> list[Evidence]:
        return list(
            Evidence.objects(
                workspace_id=workspace_id, entity_type=entity_type, entity_id=entity_id
            ).order_by("revision")
        )

    # -- artifacts ----------------------------------------------------------------------
    def attach(
        self, workspace_id: str, certificate_id: str, kind: str, sha256: str,
    ) -> tuple[Artifact, bool]:
        """Attach an artifact; returns it and whether this call created it. The same hash
        again is harmless; a different one for the same certificate and kind conflicts."""
        evidence = self.get(workspace_id, certificate_id)
        try:
            artifact = Artifact(
                certificate_id=evidence.certificate_id, workspace_id=workspace_id, kind=kind,
                sha256=sha256, created_at=utcnow(),
            ).save(force_insert=True)
            return artifact, True
        except me.NotUniqueError:
            existing = Artifact.objects(certificate_id=evidence.certificate_id, kind=kind).get()
            if existing.sha256 != sha256:
                raise Conflict(
                    "A different document is already attached to this certificate."
                ) from None
            return existing, False

    def artifacts_of(self, certificate_id: str) -> list[Artifact]:
        return list(Artifact.objects(certificate_id=certificate_id).order_by("created_at"))

    def find_by_artifact(self, sha256: str) -> Evidence:
        artifact = (
            Artifact.objects(sha256=sha256).order_by("created_at").first()
            if is_sha256(sha256) else None
        )
        if artifact is None:
            raise NotFound("No certificate has a document with this fingerprint.")
        return self.get_public(artifact.certificate_id)
