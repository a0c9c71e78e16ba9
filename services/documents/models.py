"""The documents service's records: the customer-facing work of a workspace."""

from __future__ import annotations

import mongoengine as me

from porchlight.clock import utcnow

ALIAS = "documents"


class Counter(me.Document):
    """Per-workspace sequence for human numbers (WO-0001, …); ``id`` is ``<ws>:<kind>``."""

    meta = {"db_alias": ALIAS, "collection": "counters"}

    id = me.StringField(primary_key=True)
    seq = me.IntField(required=True, default=0)


class WorkOrder(me.Document):
    meta = {
        "db_alias": ALIAS,
        "collection": "work_orders",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "status", "-created_at"]},
            {"fields": ["workspace_id", "customer_id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    title = me.StringField(required=True)
    status = me.StringField(required=True, default="new")
    description = me.StringField()
    location = me.StringField()
    customer_id = me.StringField()
    internal_notes = me.StringField()
    completed_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
