"""Stored-file storage: written once, read by id within the workspace, and removed only
when the record it was meant for refused it."""

from __future__ import annotations

import hashlib

from porchlight.contracts.words import N_
from porchlight.kit.storage import get_in_workspace
from services.documents.files.models import StoredFile


class FileRepository:
    def ensure_indexes(self) -> None:
        StoredFile.ensure_indexes()

    def store(self, workspace_id: str, filename: str, content_type: str, content: bytes) -> StoredFile:
        return StoredFile(
            workspace_id=workspace_id, filename=filename, content_type=content_type,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
        ).save(force_insert=True)

    def get(self, workspace_id: str, file_id: str) -> StoredFile:
        return get_in_workspace(StoredFile, workspace_id, file_id, N_("No such file."))

    def discard_unused(self, workspace_id: str, file_id: str) -> None:
        """Remove a file that was just stored for a record which then refused it, so
        nothing is left half-written."""
        StoredFile.objects(id=file_id, workspace_id=workspace_id).delete()
