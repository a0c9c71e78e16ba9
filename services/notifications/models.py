"""The notifications service's records: the staff inbox."""

from __future__ import annotations

import mongoengine as me

from porchlight.clock import utcnow

ALIAS = "notifications"


class InboxItem(me.Document):
    """One customer action worth a look. ``cause`` names the fact that made it
    (``estimate_approved:<estimate id>:<revision>``), unique, so a fact delivered twice
    makes one item."""

    meta = {
        "db_alias": ALIAS,
        "collection": "inbox_items",
        "indexes": [
            {"fields": ["cause"], "unique": True},
            {"fields": ["workspace_id", "-occurred_at", "-id"]},
            {"fields": ["workspace_id", "read_at", "-occurred_at", "-id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    cause = me.StringField(required=True)
    kind = me.StringField(required=True)
    title = me.StringField(required=True)
    summary = me.StringField(required=True)
    entity_type = me.StringField(required=True)
    entity_id = me.StringField(required=True)
    entity_number = me.StringField()
    signer_name = me.StringField()
    reason = me.StringField()
    certificate_id = me.StringField()
    occurred_at = me.DateTimeField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)
    read_at = me.DateTimeField()
    read_by = me.StringField()
