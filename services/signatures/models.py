"""The signatures service's records: evidence of a customer's answer, and the artifacts
(signed PDFs) made from it. Both are append-only: written once, never changed."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.kit.attempt_limits import AttemptRecord

ALIAS = "signatures"

KINDS = ("acceptance", "decline", "signature")
ENTITY_TYPES = ("estimate", "service_report")
ARTIFACT_KINDS = ("signed_pdf",)


class Evidence(me.Document):
    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists: the proof behind a signed or accepted answer.")
    meta = {
        "db_alias": ALIAS,
        "collection": "evidence",
        "indexes": [
            {"fields": ["certificate_id"], "unique": True},
            # One outcome per revision: of racing accepts, declines and signatures of the
            # same revision exactly one insert succeeds.
            {"fields": ["workspace_id", "entity_type", "entity_id", "revision"], "unique": True},
        ],
    }

    workspace_id = me.StringField(required=True)
    certificate_id = me.StringField(required=True)
    kind = me.StringField(required=True, choices=KINDS)
    entity_type = me.StringField(required=True, choices=ENTITY_TYPES)
    entity_id = me.StringField(required=True)
    entity_number = me.StringField(required=True)
    revision = me.IntField(required=True, min_value=1)
    signer_name = me.StringField(required=True)
    signature_path = me.StringField()  # normalized; drawn signatures only
    reason = me.StringField()  # declines only
    # The canonical JSON of what the customer was shown, kept as text: the stored bytes
    # are the hashed bytes, whatever a driver does to nested documents, key names with
    # dots or integers beyond 64 bits.
    snapshot_json = me.StringField(required=True)
    snapshot_sha256 = me.StringField(required=True)
    ip = me.StringField(required=True)
    user_agent = me.StringField()
    # Through which link, or by which signed-in contact in which session.
    share_token_id = me.StringField()
    contact_id = me.StringField()
    session_id = me.StringField()
    signed_at = me.DateTimeField(required=True, default=utcnow)

    @property
    def snapshot(self) -> dict[str, Any]:
        return json.loads(self.snapshot_json)


class Artifact(me.Document):
    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists: the hashes that let anyone verify a signed PDF.")
    meta = {
        "db_alias": ALIAS,
        "collection": "artifacts",
        "indexes": [
            {"fields": ["certificate_id", "kind"], "unique": True},
            {"fields": ["sha256"]},
        ],
    }

    certificate_id = me.StringField(required=True)
    workspace_id = me.StringField(required=True)
    kind = me.StringField(required=True, choices=ARTIFACT_KINDS)
    sha256 = me.StringField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)


class LookupAttempt(AttemptRecord):
    """Lookups of a signed PDF by its hash, per IP (``porchlight.kit.attempt_limits``)."""

    meta = {"db_alias": ALIAS, "collection": "lookup_attempts", "indexes": AttemptRecord.INDEXES}
