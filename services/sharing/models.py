"""The sharing service's records: share tokens (link access)."""

from __future__ import annotations

from datetime import timedelta

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.kit.idempotency import CommandRecord
from porchlight.kit.storage import expires

ALIAS = "sharing"


class ShareToken(me.Document):
    meta = {
        "db_alias": ALIAS,
        "collection": "share_tokens",
        "indexes": [
            {"fields": ["token_hash"], "unique": True},
            {"fields": ["workspace_id", "entity_type", "entity_id", "created_at", "id"]},
            {"fields": ["workspace_id", "customer_id", "-created_at", "-id"]},  # a customer's links
            # A link is deleted a year after it expired (every link has an expiry): its
            # access log goes with it.
            expires("expires_at", timedelta(days=365)),
        ],
    }

    workspace_id = me.StringField(required=True)
    entity_type = me.StringField(required=True)
    entity_id = me.StringField(required=True)
    customer_id = me.StringField()  # the record's customer when it was shared, as documents said
    token_hash = me.StringField(required=True)
    last4 = me.StringField(required=True)
    permissions = me.ListField(me.StringField(), required=True)
    expires_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    revoked_at = me.DateTimeField()
    revoked_by = me.StringField()
    rotated_from = me.StringField()
    last_accessed_at = me.DateTimeField()
    access_count = me.IntField(required=True, default=0)


class SharingCommand(CommandRecord):
    """A staff command carried out under an idempotency key (``porchlight.kit.idempotency``)."""

    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
