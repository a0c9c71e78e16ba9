"""An uploaded file as a service takes it: base64 decoded within a size bound (checked on
the text before decoding and on the bytes after), and an image without its metadata."""

from __future__ import annotations

import base64
import binascii

from porchlight.contracts import ATTENTION
from porchlight.contracts.errors import InvalidInput
from porchlight.kit import image_metadata


def decoded(content_b64: str, max_bytes: int, too_large: str) -> bytes:
    """The bytes, or ``InvalidInput`` naming ``file`` (``too_large``) or ``content_b64``."""
    if len(content_b64) > (max_bytes * 4) // 3 + 8:
        raise InvalidInput(ATTENTION, {"file": too_large})
    try:
        content = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(ATTENTION, {"content_b64": "Must be base64."}) from None
    if len(content) > max_bytes:
        raise InvalidInput(ATTENTION, {"file": too_large})
    return content


def without_metadata(content_type: str, content: bytes, unreadable: str) -> bytes:
    """``image_metadata.strip``, or ``InvalidInput`` naming ``file`` (``unreadable``)."""
    try:
        return image_metadata.strip(content_type, content)
    except image_metadata.UnreadableImage:
        raise InvalidInput(ATTENTION, {"file": unreadable}) from None
