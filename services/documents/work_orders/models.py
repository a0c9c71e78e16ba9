"""The work order as stored."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class WorkOrder(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: a customer-facing record."
    meta = {
        "db_alias": ALIAS,
        "collection": "work_orders",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "-created_at", "-id"]},  # staff's list
            {"fields": ["workspace_id", "status", "-created_at", "-id"]},
            {"fields": ["workspace_id", "customer_id", "-created_at", "-id"]},  # a customer's list
            # One work order per estimate, however many conversions race or retry. Sparse:
            # work orders not made from an estimate have no estimate_id at all.
            {"fields": ["estimate_id"], "unique": True, "sparse": True},
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    title = me.StringField(required=True)
    status = me.StringField(required=True, default="new")
    description = me.StringField()
    location = me.StringField()
    customer_id = me.StringField()
    estimate_id = me.StringField()
    internal_notes = me.StringField()
    completed_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
