"""The service report as stored: its attachments, what was frozen for the customer to
sign, and the signature once given."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class Attachment(me.EmbeddedDocument):
    file_id = me.StringField(required=True)
    filename = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField()  # the stored file's fingerprint, so a signature covers its bytes


class FrozenReport(me.EmbeddedDocument):
    """What the customer is shown and signs, copied when the report is completed."""

    number = me.StringField(required=True)
    work_order_number = me.StringField()
    work_order_title = me.StringField()
    location = me.StringField()
    narrative = me.StringField()
    completed_at = me.DateTimeField(required=True)
    attachments = me.EmbeddedDocumentListField(Attachment)


class ServiceReport(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: a customer-facing record."
    meta = {
        "db_alias": ALIAS,
        "collection": "service_reports",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "work_order_id", "-completed_at", "-id"]},  # a customer's list
            {"fields": ["workspace_id", "-created_at", "-id"]},  # staff's list, and by state or work order
            {"fields": ["workspace_id", "status", "-created_at", "-id"]},
            {"fields": ["workspace_id", "work_order_id", "-created_at", "-id"]},
            {"fields": ["status", "certificate_id", "signed_at"]},  # abandoned signatures
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    work_order_id = me.StringField(required=True)
    narrative = me.StringField()
    status = me.StringField(required=True, default="draft")
    attachments = me.EmbeddedDocumentListField(Attachment)
    completed_at = me.DateTimeField()
    frozen = me.EmbeddedDocumentField(FrozenReport)  # set with completed_at
    signed_by = me.StringField()
    signed_at = me.DateTimeField()
    signed_ip = me.StringField()
    signed_user_agent = me.StringField()
    certificate_id = me.StringField()
    snapshot_sha256 = me.StringField()
    pdf_file_id = me.StringField()
    pdf_sha256 = me.StringField()
    # Whether the customer was emailed when it was completed (``customer_mail``): only
    # then do they get their signed copy, handed to notifications once (``signed_copy_at``).
    emails_customer = me.BooleanField(required=True, default=False)
    signed_copy_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
