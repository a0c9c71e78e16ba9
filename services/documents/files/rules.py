"""Which files may be stored: a file is what its content says it is, not what its name
claims, and each is capped in size."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from porchlight.contracts import ATTENTION, parse
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.service_reports import FILE_TYPES, MAX_FILE_BYTES, AttachmentUpload
from porchlight.kit import uploads

# The first bytes of every type we accept. The declared type must agree with them.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
ALLOWED_TYPES = FILE_TYPES
assert set(_SIGNATURES) == set(FILE_TYPES), "every allowed type needs its signature bytes"


def sniff(content: bytes) -> str | None:
    for content_type, prefixes in _SIGNATURES.items():
        if any(content.startswith(prefix) for prefix in prefixes):
            if content_type == "image/webp" and content[8:12] != b"WEBP":
                continue
            return content_type
    return None


def read_upload(data: Any) -> tuple[str, str, bytes]:
    """An uploaded photo or PDF: its filename, its declared type — which must match the
    content — and the decoded bytes, size-checked before and after decoding; a photo
    without its camera's metadata (``porchlight.kit.uploads``)."""
    upload = parse(AttachmentUpload, data)
    content = uploads.decoded(upload.content_b64, MAX_FILE_BYTES,
                              f"Files may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if not content:
        raise InvalidInput(ATTENTION, {"file": "The file is empty."})
    if sniff(content) != upload.content_type:
        raise InvalidInput(ATTENTION, {"file": f"The file's content is not a {upload.content_type} file."})
    content = uploads.without_metadata(upload.content_type, content,
                                       f"The file is not a readable {upload.content_type} file.")
    return upload.filename, upload.content_type, content


def read_signed_pdf(data: dict[str, Any]) -> bytes:
    """A rendered PDF with the SHA-256 its renderer computed; both must hold."""
    try:
        content = base64.b64decode(data.get("content_b64") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidInput("Some fields need attention.", {"content_b64": "Must be base64."}) from None
    if not content.startswith(b"%PDF-") or hashlib.sha256(content).hexdigest() != data.get("sha256"):
        raise InvalidInput("Some fields need attention.",
                           {"content_b64": "Not a PDF, or it does not match its sha256."})
    return content
