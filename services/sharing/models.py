"""The sharing service's records: share tokens (link access), share grants (what a
customer sees of a resource, at which level) and the share audit."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

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


class ShareGrant(me.Document):
    """One customer's share of one resource (``porchlight.contracts.share_grants``): one
    record per resource and customer, so a second share of the same is refused by the
    store itself. ``level`` None: stopped. ``revision`` grows with every change, each one a
    conditional update on it (``SharingRepository.set_level``)."""

    meta = {
        "db_alias": ALIAS,
        "collection": "share_grants",
        "indexes": [
            {"fields": ["workspace_id", "resource_type", "resource_id", "customer_id"], "unique": True},
            {"fields": ["workspace_id", "customer_id", "-created_at", "-id"]},  # a customer's shares
            {"fields": ["workspace_id", "resource_id", "-created_at", "-id"]},  # a resource's
        ],
    }
    RETENTION: ClassVar[str] = "Kept while the workspace exists: whether a customer may see a resource."

    workspace_id = me.StringField(required=True)
    resource_type = me.StringField(required=True)
    resource_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    level = me.StringField()
    revision = me.IntField(required=True, default=1)
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
    stopped_at = me.DateTimeField()


class ShareAudit(me.Document):
    """A line per share action — shared, level changed, stopped — written by the same call
    that made the change, after it: each change that happened has its line."""

    meta = {
        "db_alias": ALIAS,
        "collection": "share_audit",
        "indexes": [
            {"fields": ["workspace_id", "-at", "-id"]},
            {"fields": ["workspace_id", "customer_id", "-at", "-id"]},
            {"fields": ["workspace_id", "resource_id", "-at", "-id"]},
        ],
    }
    RETENTION: ClassVar[str] = "Kept while the workspace exists: the record of who let a customer see what."

    workspace_id = me.StringField(required=True)
    share_grant_id = me.StringField(required=True)
    action = me.StringField(required=True)
    resource_type = me.StringField(required=True)
    resource_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    level_before = me.StringField()
    level_after = me.StringField()
    actor = me.StringField(required=True)
    at = me.DateTimeField(required=True, default=utcnow)


class SharingCommand(CommandRecord):
    """A staff command carried out under an idempotency key (``porchlight.kit.idempotency``)."""

    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
