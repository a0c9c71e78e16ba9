"""Stored-file storage: written once, read by id within the workspace, and removed when
the record it was meant for refused it or (a project's file) staff remove it."""

from __future__ import annotations

import hashlib

from bson import ObjectId

from porchlight.contracts.errors import NotFound
from porchlight.contracts.words import N_
from porchlight.kit.storage import get_in_workspace
from services.documents.files.models import CHUNK_BYTES, FileChunk, StoredFile

NO_FILE = N_("No such file.")


class FileRepository:
    def ensure_indexes(self) -> None:
        StoredFile.ensure_indexes()
        FileChunk.ensure_indexes()

    def store(self, workspace_id: str, filename: str, content_type: str, content: bytes) -> StoredFile:
        return StoredFile(
            workspace_id=workspace_id, filename=filename, content_type=content_type,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
        ).save(force_insert=True)

    def store_in_chunks(self, workspace_id: str, filename: str, content_type: str,
                        content: bytes) -> StoredFile:
        """A large file: its record, and its bytes in pieces of ``CHUNK_BYTES``. The
        record is written last, so a file whose pieces did not all get written never
        exists (its orphan pieces are removed with ``discard``)."""
        stored = StoredFile(workspace_id=workspace_id, filename=filename, content_type=content_type,
                            size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                            chunks=(len(content) + CHUNK_BYTES - 1) // CHUNK_BYTES)
        stored.id = ObjectId()
        try:
            FileChunk.objects.insert([FileChunk(workspace_id=workspace_id, file_id=str(stored.id), n=n,
                                                data=content[n * CHUNK_BYTES:(n + 1) * CHUNK_BYTES])
                                      for n in range(stored.chunks)], load_bulk=False)
            return stored.save(force_insert=True)
        except Exception:
            FileChunk.objects(workspace_id=workspace_id, file_id=str(stored.id)).delete()
            raise

    def piece(self, stored: StoredFile, n: int) -> bytes:
        """The ``n``-th piece of a file (a small file is one piece)."""
        if stored.chunks == 0:
            if n != 0:
                raise NotFound(NO_FILE)
            return stored.content
        chunk = FileChunk.objects(workspace_id=stored.workspace_id, file_id=str(stored.id), n=n).first()
        if chunk is None:
            raise NotFound(NO_FILE)
        return chunk.data

    def get(self, workspace_id: str, file_id: str) -> StoredFile:
        return get_in_workspace(StoredFile, workspace_id, file_id, NO_FILE)

    def discard_unused(self, workspace_id: str, file_id: str) -> None:
        """Remove a file that was just stored for a record which then refused it, so
        nothing is left half-written."""
        self.discard(workspace_id, file_id)

    def discard(self, workspace_id: str, file_id: str) -> None:
        """Remove a file and its pieces."""
        if StoredFile.objects(id=file_id, workspace_id=workspace_id).delete():
            FileChunk.objects(workspace_id=workspace_id, file_id=file_id).delete()
