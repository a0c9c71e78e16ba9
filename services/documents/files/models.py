"""Stored files."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class StoredFile(me.Document):
    """Photos and documents customers are shown, and signed PDFs. Kept in the database so
    a backup holds everything: a small file in ``content`` (well under MongoDB's 16 MB
    document limit), a large one (a project's drawings, up to 25 MB) in ``chunks`` pieces
    of ``CHUNK_BYTES`` (``FileChunk``), ``content`` then empty."""

    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists: the files of its records (signed PDFs, photos).")
    meta = {"db_alias": ALIAS, "collection": "files", "indexes": [{"fields": ["workspace_id"]}]}

    workspace_id = me.StringField(required=True)
    filename = me.StringField(required=True)
    content_type = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)
    content = me.BinaryField()
    chunks = me.IntField(required=True, default=0)  # 0: the bytes are in ``content``
    created_at = me.DateTimeField(required=True, default=utcnow)


CHUNK_BYTES = 1024 * 1024


class FileChunk(me.Document):
    """One piece of a large stored file: its ``n``-th ``CHUNK_BYTES``."""

    RETENTION: ClassVar[str] = "Kept with its file, and deleted with it."
    meta = {"db_alias": ALIAS, "collection": "file_chunks",
            "indexes": [{"fields": ["workspace_id", "file_id", "n"], "unique": True}]}

    workspace_id = me.StringField(required=True)
    file_id = me.StringField(required=True)
    n = me.IntField(required=True)
    data = me.BinaryField(required=True)
