"""An information request as stored: the request and its items in one document, so every
change — an answer, a review, a send — is one conditional update on its ``revision``."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class AnswerFile(me.EmbeddedDocument):
    """A file of an answer; its bytes are a ``StoredFile`` (``file_id``)."""

    id = me.StringField(required=True)
    file_id = me.StringField(required=True)
    name = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)


class RequestItem(me.EmbeddedDocument):
    id = me.StringField(required=True)
    prompt = me.StringField(required=True)
    status = me.StringField(required=True, default="pending")
    answer_text = me.StringField()
    files = me.EmbeddedDocumentListField(AnswerFile)
    answered_at = me.DateTimeField()
    answered_by = me.StringField()
    note = me.StringField()
    reviewed_at = me.DateTimeField()
    reviewed_by = me.StringField()


class InformationRequest(me.Document):
    RETENTION: ClassVar[str] = ("Kept while the workspace exists, with its project (cancelled ones too: "
                                "staff's record of what was asked).")
    meta = {
        "db_alias": ALIAS,
        "collection": "information_requests",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "project_id", "-created_at", "-id"]},  # staff's list of a project's
            {"fields": ["workspace_id", "project_id", "status", "-created_at", "-id"]},
            # A customer's list: the requests of their shared projects, the latest sent first.
            {"fields": ["workspace_id", "project_id", "status", "-sent_at", "-id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    project_id = me.StringField(required=True)
    title = me.StringField(required=True)
    status = me.StringField(required=True, default="draft")
    items = me.EmbeddedDocumentListField(RequestItem)
    revision = me.IntField(required=True, default=1)
    sent_at = me.DateTimeField()
    completed_at = me.DateTimeField()
    cancelled_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
