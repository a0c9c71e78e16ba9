"""The notifications service's records: the staff inbox, the customers' project digests,
the outbox, and per record whether the customer is emailed about it."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.kit.idempotency import CommandRecord

ALIAS = "notifications"


class InboxItem(me.Document):
    """One customer action worth a look. ``cause`` names the fact that made it
    (``estimate_approved:<estimate id>:<revision>``), unique, so a fact delivered twice
    makes one item."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists: the office's record of what customers did."
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


class ProjectDigest(me.Document):
    """What one customer has not yet been told of one project shared with them, and when
    they may next be told (``services.notifications.digests`` states the rules). Each
    pending change: ``cause`` (the fact), ``kind`` (``staff_comment``, ``file_added``,
    ``status``), ``ref_id`` (the comment or file), ``name`` (a file's), ``status``, ``at``."""

    RETENTION: ClassVar[str] = ("Kept while the workspace exists: one small record per project and "
                                "customer it was shared with, its pending changes emptied by each digest.")
    meta = {
        "db_alias": ALIAS,
        "collection": "project_digests",
        "indexes": [
            {"fields": ["workspace_id", "project_id", "customer_id"], "unique": True},
            {"fields": ["waiting", "next_at"]},  # the sweep's due digests
        ],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    project_number = me.StringField()
    project_name = me.StringField()
    pending = me.ListField(me.DictField())
    recent = me.ListField(me.StringField())
    waiting = me.BooleanField(required=True, default=False)
    next_at = me.DateTimeField(required=True)
    last_sent_at = me.DateTimeField()
    sent = me.IntField(required=True, default=0)
    created_at = me.DateTimeField(required=True, default=utcnow)


# An email's life: queued → sending (claimed by one delivery attempt) → sent, or back to
# queued after a transient failure, or failed. ``resend`` moves a failed one to queued.
EMAIL_STATUSES = ("queued", "sending", "sent", "failed")


class Attachment(me.EmbeddedDocument):
    """A file the delivery fetches when it sends: today the signed PDF of a report."""

    kind = me.StringField(required=True, choices=("signed_pdf",))
    record_id = me.StringField(required=True)
    filename = me.StringField(required=True)


class EmailLink(me.EmbeddedDocument):
    """Which share link the email carries — never the link itself. A resend replaces it."""

    share_token_id = me.StringField(required=True)
    entity_type = me.StringField(required=True)
    entity_id = me.StringField(required=True)


class Email(me.Document):
    """One email Porchlight was asked to send: the outbox. ``key`` is the cause and the
    recipient (unique), so a cause delivered twice queues one email per recipient.

    The bodies are stored as sent, except that a share link in them reads
    its placeholder (``porchlight.runtime.mail_secrets``): the link itself exists only in the command
    that asked for the email and in the delivery task, never here."""

    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists; its bodies are removed PORCHLIGHT_OUTBOX_BODY_DAYS "
        "after it was last sent or failed (sweep_emails).")
    meta = {
        "db_alias": ALIAS,
        "collection": "emails",
        "indexes": [
            {"fields": ["key"], "unique": True},
            {"fields": ["cause"]},
            {"fields": ["workspace_id", "-created_at", "-id"]},
            {"fields": ["status", "updated_at"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    key = me.StringField(required=True)
    cause = me.StringField(required=True)
    template = me.StringField(required=True)
    audience = me.StringField(required=True, choices=("customer", "office"))
    language = me.StringField(required=True)
    recipient = me.StringField(required=True)
    recipient_name = me.StringField()
    customer_id = me.StringField()
    entity_type = me.StringField(required=True)
    entity_id = me.StringField(required=True)
    entity_number = me.StringField()
    sender_name = me.StringField(required=True)
    reply_to = me.StringField()
    subject = me.StringField(required=True)
    text_body = me.StringField(required=True)
    html_body = me.StringField(required=True)
    link = me.EmbeddedDocumentField(EmailLink)
    attachments = me.EmbeddedDocumentListField(Attachment)
    status = me.StringField(required=True, choices=EMAIL_STATUSES, default="queued")
    attempts = me.IntField(required=True, default=0)
    last_error = me.StringField()
    resends = me.IntField(required=True, default=0)
    created_at = me.DateTimeField(required=True, default=utcnow)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    claimed_at = me.DateTimeField()
    sent_at = me.DateTimeField()
    bodies_removed_at = me.DateTimeField()


class NotificationsCommand(CommandRecord):
    """A staff command carried out under an idempotency key (``porchlight.kit.idempotency``)."""

    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
