"""The share-link token format: ``<prefix>_<40 lowercase hex>``.

The prefix names the entity type; the 160 random bits come from ``secrets``. Only the
SHA-256 of a token is stored. ``redact`` is what logs may show instead.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIXES: dict[str, str] = {
    "work_order": "wo",
    "estimate": "est",
    "service_report": "srp",
}
ENTITY_TYPES = tuple(PREFIXES)
PERMISSIONS = ("view", "respond", "sign")
# What a link to each kind of record can grant: a work order is only ever viewed.
ALLOWED_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "work_order": ("view",),
    "estimate": ("view", "respond"),
    "service_report": ("view", "sign"),
}
# Where each kind of link opens in the portal.
PORTAL_PATHS: dict[str, str] = {
    "work_order": "/portal/fsm/{token}",
    "estimate": "/portal/fsm/estimate/{token}",
    "service_report": "/portal/fsm/service-report/{token}",
}

_TOKEN = re.compile(r"^(?P<prefix>[a-z]{2,4})_(?P<secret>[0-9a-f]{40})$")
# The portal's sign-in links (identity's): as secret as a share link, redacted the same way.
SIGN_IN_PREFIX = "psi"
# Anything that looks like a token inside a longer string (a URL, a log line).
TOKEN_IN_TEXT = re.compile(r"\b(" + "|".join((*PREFIXES.values(), SIGN_IN_PREFIX)) + r")_[0-9A-Za-z]{8,}")


def mint(entity_type: str) -> str:
    return f"{PREFIXES[entity_type]}_{secrets.token_hex(20)}"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def entity_type_of(raw: str) -> str | None:
    """The entity type a well-formed token names, or None for anything malformed."""
    if not isinstance(raw, str) or len(raw) > 45:
        return None
    match = _TOKEN.fullmatch(raw)
    if not match:
        return None
    for entity_type, prefix in PREFIXES.items():
        if prefix == match["prefix"]:
            return entity_type
    return None


def portal_url(base_url: str, entity_type: str, raw: str) -> str:
    return base_url.rstrip("/") + PORTAL_PATHS[entity_type].format(token=raw)


# A report's file link (signed, valid for minutes): as good as a token while it lives.
FILE_LINK_IN_TEXT = re.compile(r"(/portal/files/)[^/\s?#\"']+")


def redact(text: str) -> str:
    text = TOKEN_IN_TEXT.sub(lambda m: f"{m.group(1)}_[redacted]", text)
    return FILE_LINK_IN_TEXT.sub(r"\1[redacted]", text)
