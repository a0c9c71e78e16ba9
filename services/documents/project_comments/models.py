"""A project's comments as stored."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class ProjectComment(me.Document):
    """``key`` is the posting form's own key (staff's: a fresh one): the same key on the same
    project posts once, whatever the number of clicks."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists, with its project (hidden ones too)."
    meta = {
        "db_alias": ALIAS,
        "collection": "project_comments",
        "indexes": [
            {"fields": ["workspace_id", "project_id", "key"], "unique": True},
            {"fields": ["workspace_id", "project_id", "-created_at", "-id"]},  # the thread
        ],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    key = me.StringField(required=True)
    body = me.StringField(required=True)
    author_kind = me.StringField(required=True, choices=("contact", "staff"))
    author_name = me.StringField(required=True)
    contact_id = me.StringField()
    customer_id = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    hidden_at = me.DateTimeField()
    hidden_by = me.StringField()
