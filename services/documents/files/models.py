"""Stored files."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class StoredFile(me.Document):
    """Photos and documents customers are shown, and signed PDFs. Kept in the database
    (each well under MongoDB's 16 MB document limit) so a backup holds everything."""

    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists: the files of its records (signed PDFs, photos).")
    meta = {"db_alias": ALIAS, "collection": "files", "indexes": [{"fields": ["workspace_id"]}]}

    workspace_id = me.StringField(required=True)
    filename = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)
    content = me.BinaryField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)
