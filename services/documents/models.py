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
    estimate_id = me.StringField()
    internal_notes = me.StringField()
    completed_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)


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
    meta = {
        "db_alias": ALIAS,
        "collection": "estimates",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "status", "-created_at"]},
            {"fields": ["status", "expires_at"]},
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
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)


class Attachment(me.EmbeddedDocument):
    file_id = me.StringField(required=True)
    filename = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)


class ServiceReport(me.Document):
    meta = {
        "db_alias": ALIAS,
        "collection": "service_reports",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "work_order_id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    work_order_id = me.StringField(required=True)
    narrative = me.StringField()
    status = me.StringField(required=True, default="draft")
    attachments = me.EmbeddedDocumentListField(Attachment)
    completed_at = me.DateTimeField()
    signed_by = me.StringField()
    signed_at = me.DateTimeField()
    signed_ip = me.StringField()
    signed_user_agent = me.StringField()
    certificate_id = me.StringField()
    snapshot_sha256 = me.StringField()
    pdf_file_id = me.StringField()
    pdf_sha256 = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)


class StoredFile(me.Document):
    """Photos and documents customers are shown, and signed PDFs. Kept in the database
    (each well under MongoDB's 16 MB document limit) so a backup holds everything."""

    meta = {"db_alias": ALIAS, "collection": "files", "indexes": [{"fields": ["workspace_id"]}]}

    workspace_id = me.StringField(required=True)
    filename = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)
    content = me.BinaryField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)
