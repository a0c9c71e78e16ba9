"""Which files may be stored: a file is what its content says it is, not what its name
claims, and each is capped in size."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from porchlight.errors import InvalidInput
from porchlight.validation import Form

MAX_FILE_BYTES = 5 * 1024 * 1024

# The first bytes of every type we accept. The declared type must agree with them.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
ALLOWED_TYPES = tuple(_SIGNATURES)


def sniff(content: bytes) -> str | None:
    for content_type, prefixes in _SIGNATURES.items():
        if any(content.startswith(prefix) for prefix in prefixes):
            if content_type == "image/webp" and content[8:12] != b"WEBP":
                continue
            return content_type
    return None


def read_upload(form: Form) -> tuple[str | None, str | None, bytes]:
    """An uploaded photo or PDF: its filename, its declared type — which must match the
    content — and the decoded bytes, size-checked before and after decoding."""
    filename = form.text("filename", max_length=200)
    content_type = form.choice("content_type", ALLOWED_TYPES)
    encoded = form.data.get("content_b64")
    too_large = f"Files may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB."
    content = b""
    if not isinstance(encoded, str) or not encoded:
        form.error("content_b64", "The file is missing.")
    elif len(encoded) > (MAX_FILE_BYTES * 4) // 3 + 8:
        form.error("file", too_large)
    else:
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            form.error("content_b64", "Must be base64.")
    if content and len(content) > MAX_FILE_BYTES:
        form.error("file", too_large)
    elif encoded and not content and "content_b64" not in form.errors:
        form.error("file", "The file is empty.")
    if content and content_type and sniff(content) != content_type:
        form.error("file", "The file's content is not a " + content_type + " file.")
    return filename, content_type, content


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
