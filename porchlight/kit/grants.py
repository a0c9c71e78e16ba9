"""Capabilities for a customer's side of a record: what a share link or a signed-in session
allows, signed by the service that checked it, verified by the service that owns the
record.

The portal shows and answers records for people it cannot vouch for itself: it holds a raw
share token or a session cookie and nothing else. It hands that to sharing
(``resolve_token``) or identity (``resolve_session``), which answer with a **grant**: the
workspace and what it allows — one record and its permissions for a link; a customer, a
contact and their role for a session — HMAC-signed with ``PORCHLIGHT_GRANT_KEY``, a key
only sharing, identity and documents hold. documents takes the workspace, customer and
role from the verified grant, never from the caller's arguments, so a portal process that
is compromised can act only for the links and sessions people actually bring it.

A grant is short-lived (``GRANT_SECONDS``, and never past its link's end): the portal may
keep a link's grant for a while (``gateway.portal.reads``) but must ask again before it
ends. Anything but a live grant with a good signature is ``NotFound``, the same answer as
a record that is not theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from nameko.extensions import DependencyProvider
from pydantic import BaseModel, ConfigDict, ValidationError

from porchlight.contracts.clock import as_utc, utcnow
from porchlight.contracts.errors import NotFound
from porchlight.runtime.settings import get_settings

# The services that sign grants (sharing, identity) and check them (documents): the only
# processes given PORCHLIGHT_GRANT_KEY (devtools.stack, deploy/).
HOLDERS = ("documents", "identity", "sharing")
# A portal keeps a link's grant until 10 minutes before this (``gateway.portal.reads``).
GRANT_SECONDS = 30 * 60
REFUSAL = "No such record."
_CONTEXT = b"porchlight-customer-grant-v1."


class CustomerGrant(BaseModel):
    """What a grant says. A link's names its record (``share_token_id``, ``entity_type``,
    ``entity_id``, ``permissions``); a session's names its people (``customer_id``,
    ``contact_id``, ``role``), and documents decides record by record what they may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_id: str
    expires_at: int  # seconds since the epoch
    share_token_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    permissions: tuple[str, ...] = ()
    customer_id: str | None = None
    contact_id: str | None = None
    session_id: str | None = None
    role: str | None = None

    @property
    def by_link(self) -> bool:
        return self.share_token_id is not None


def _key() -> bytes:
    key = get_settings().grant_key
    if key is None:
        raise RuntimeError("PORCHLIGHT_GRANT_KEY is not set: sharing, identity and documents need "
                           "the same long random value (and no other process may hold it)")
    return key.get_secret_value().encode()


class GrantKey(DependencyProvider):
    """Declared by each holder (``grant_key = GrantKey()``): the service refuses to start
    without the key, rather than fail on its first customer."""

    def setup(self) -> None:
        _key()


def derived_key(purpose: str) -> bytes:
    """A key of its own for another secret a holder keeps out of its database (identity's
    sign-in codes), derived from ``PORCHLIGHT_GRANT_KEY``: one secret to deploy, and no
    purpose's MAC ever equals another's."""
    return hmac.new(_key(), b"porchlight-derived-key-v1." + purpose.encode(), hashlib.sha256).digest()


def _mac(payload: bytes) -> bytes:
    return hmac.new(_key(), _CONTEXT + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(*, ends_at: datetime | None = None, now: datetime | None = None,
          **claims: Any) -> tuple[str, datetime]:
    """A signed grant of ``claims`` (the fields of ``CustomerGrant`` but its end) and the
    moment it ends: ``GRANT_SECONDS`` from now, or ``ends_at`` if that comes first."""
    now = now or utcnow()
    end = now + timedelta(seconds=GRANT_SECONDS)
    if ends_at is not None:
        end = min(end, as_utc(ends_at))
    grant = CustomerGrant(expires_at=int(end.timestamp()), **claims)
    payload = json.dumps(grant.model_dump(mode="json", exclude_defaults=True), sort_keys=True,
                         separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(payload))}", end


def verify(capability: Any, now: datetime | None = None) -> CustomerGrant:
    """The grant a capability carries, or ``NotFound`` (forged, altered, ended, malformed)."""
    if not isinstance(capability, str) or len(capability) > 2048 or capability.count(".") != 1:
        raise NotFound(REFUSAL)
    payload_text, mac_text = capability.split(".")
    try:
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        raise NotFound(REFUSAL) from None
    if not hmac.compare_digest(mac, _mac(payload)):
        raise NotFound(REFUSAL)
    try:
        grant = CustomerGrant.model_validate(json.loads(payload))
    except (ValueError, ValidationError):
        raise NotFound(REFUSAL) from None
    if grant.expires_at <= (now or utcnow()).timestamp():
        raise NotFound(REFUSAL)
    return grant
