"""Stored files on the wire: the file itself, base64-encoded, with its fingerprint."""

from __future__ import annotations

import base64
from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.service_reports import StoredFile as StoredFileReply
from services.documents.files.models import StoredFile


def file_to_wire(stored: StoredFile) -> dict[str, Any]:
    return answer(StoredFileReply, id=str(stored.id), filename=stored.filename,
                  content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                  content_b64=base64.b64encode(stored.content).decode("ascii"))
