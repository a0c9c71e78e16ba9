"""The tenancy's rules: how staff API keys are made and hashed, and what a logo may be."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.workspaces import MAX_LOGO_BYTES, LogoUpload
from porchlight.kit import uploads

API_KEY_PREFIX = "plk_"
TOO_LARGE = f"A logo may be at most {MAX_LOGO_BYTES // 1024} KB."


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(raw: str) -> str:
    # Keys are 256 random bits, so a plain SHA-256 is enough to make a leaked table
    # useless; a slow password hash would only slow down every API call.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def looks_like_api_key(raw: Any) -> bool:
    """Whether ``raw`` could be a key at all (anything else is refused unread)."""
    return isinstance(raw, str) and raw.startswith(API_KEY_PREFIX) and len(raw) <= 100


def read_logo(data: Any) -> tuple[str, bytes]:
    """The logo's type and its bytes without metadata, or ``InvalidInput``."""
    upload = parse(LogoUpload, data)
    content = uploads.decoded(upload.content_b64, MAX_LOGO_BYTES, TOO_LARGE)
    return upload.content_type, uploads.without_metadata(
        upload.content_type, content, f"The file is not a readable {upload.content_type} image.")
