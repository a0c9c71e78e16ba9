"""A project's files as stored: the record staff and customers see (its bytes are a
``StoredFile``, in pieces when large), and each download by a customer's contact."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class ProjectFile(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists, until staff remove the file."
    meta = {
        "db_alias": ALIAS,
        "collection": "project_files",
        "indexes": [
            {"fields": ["workspace_id", "project_id", "-uploaded_at", "-id"]},  # a project's, newest first
            {"fields": ["workspace_id", "-uploaded_at", "-id"]},  # the documents page, across projects
        ],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    file_id = me.StringField(required=True)  # the StoredFile
    name = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)
    uploaded_at = me.DateTimeField(required=True, default=utcnow)
    uploaded_by = me.StringField(required=True)
    views = me.IntField(required=True, default=0)
    last_viewed_at = me.DateTimeField()


class FileView(me.Document):
    """A customer's contact downloaded a project's file: the customer opened the document."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists, until staff remove the file."
    meta = {
        "db_alias": ALIAS,
        "collection": "project_file_views",
        "indexes": [{"fields": ["workspace_id", "project_file_id", "-at", "-id"]}],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    project_file_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    contact_id = me.StringField(required=True)
    at = me.DateTimeField(required=True, default=utcnow)
