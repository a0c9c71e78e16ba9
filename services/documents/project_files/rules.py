"""Which files a project takes: a file is what its content says it is — never what its
name or the type it was sent as claims — of one of ``project_files.FILE_TYPES``, at most
25 MB, and a photo loses its camera's metadata (where it was taken, by what)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from porchlight.contracts import ATTENTION, parse
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.project_files import FILE_TYPES, MAX_FILE_BYTES, ProjectFileUpload
from porchlight.kit import uploads
from services.documents.files.rules import IMAGE_TYPES
from services.documents.files.rules import sniff as sniff_image_or_pdf

NO_PIECE = "No such piece of this file."
TOO_LARGE = f"Files may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB."
NOT_ALLOWED = "This kind of file is not accepted. Allowed: " + ", ".join(FILE_TYPES.values()) + "."
# An Office Open XML file is a ZIP holding its main part under a name its kind decides.
_OFFICE_PARTS = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# A DWG drawing starts with its format's version: AC1012 (R13) to AC1032 (2018 and later).
_DWG_VERSIONS = tuple(f"AC10{n}".encode() for n in ("12", "14", "15", "18", "21", "24", "27", "32"))


def sniff(content: bytes) -> str | None:
    """The file's type, read from its bytes; None when it is none of the accepted ones."""
    found = sniff_image_or_pdf(content)
    if found is not None:
        return found
    if content.startswith(_DWG_VERSIONS):
        return "image/vnd.dwg"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            for part, content_type in _OFFICE_PARTS.items():
                if part in names:
                    return content_type
    return None


def read_upload(data: Any) -> tuple[str, str, bytes]:
    """An uploaded project file: its name, its type as read from the content, and its
    bytes (a photo's without metadata); ``InvalidInput`` naming ``file`` otherwise."""
    upload = parse(ProjectFileUpload, data)
    content = uploads.decoded(upload.content_b64, MAX_FILE_BYTES, TOO_LARGE)
    if not content:
        raise InvalidInput(ATTENTION, {"file": "The file is empty."})
    content_type = sniff(content)
    if content_type is None:
        raise InvalidInput(ATTENTION, {"file": NOT_ALLOWED})
    if content_type in IMAGE_TYPES:
        content = uploads.without_metadata(content_type, content,
                                           f"The file is not a readable {FILE_TYPES[content_type]}.")
    return upload.filename, content_type, content
