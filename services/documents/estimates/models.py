"""The estimate as stored: its lines, and the customer's answer once there is one."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class LineItem(me.EmbeddedDocument):
    id = me.StringField(required=True)
    description = me.StringField(required=True)
    quantity = me.StringField(required=True)  # a Decimal as text; never a float
    unit_price_minor = me.IntField(required=True)
    tax_rate = me.StringField(required=True)  # percent, a Decimal as text
    optional = me.BooleanField(required=True, default=False)


class EstimateOutcome(me.EmbeddedDocument):
    """What the customer answered, as the server recorded it."""

    response = me.StringField(required=True)  # accept | decline
    revision = me.IntField(required=True)
    signer_name = me.StringField()
    reason = me.StringField()
    included_optional = me.ListField(me.StringField())
    subtotal_minor = me.IntField()
    tax_minor = me.IntField()
    total_minor = me.IntField()
    certificate_id = me.StringField()
    snapshot_sha256 = me.StringField()
    ip = me.StringField()
    user_agent = me.StringField()


class Estimate(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: a customer-facing record."
    meta = {
        "db_alias": ALIAS,
        "collection": "estimates",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "-created_at", "-id"]},  # staff's list
            {"fields": ["workspace_id", "status", "-created_at", "-id"]},
            {"fields": ["workspace_id", "customer_id", "-created_at", "-id"]},  # a customer's list
            {"fields": ["status", "expires_at"]},
            {"fields": ["status", "outcome.certificate_id"]},  # abandoned answers
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    title = me.StringField(required=True)
    customer_id = me.StringField()
    currency = me.StringField(required=True)
    valid_until = me.StringField(required=True)  # YYYY-MM-DD in the workspace's time zone
    expires_at = me.DateTimeField(required=True)  # the end of that day, in UTC
    notes = me.StringField()
    line_items = me.EmbeddedDocumentListField(LineItem)
    status = me.StringField(required=True, default="draft")
    revision = me.IntField(required=True, default=1)
    sent_at = me.DateTimeField()
    approved_at = me.DateTimeField()
    rejected_at = me.DateTimeField()
    expired_at = me.DateTimeField()
    converted_at = me.DateTimeField()
    work_order_id = me.StringField()
    outcome = me.EmbeddedDocumentField(EstimateOutcome)
    # Whether the customer was emailed when it was last sent (``customer_mail``): only
    # then do they get a reminder, once per revision (``reminded_revision``).
    emails_customer = me.BooleanField(required=True, default=False)
    reminded_revision = me.IntField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
