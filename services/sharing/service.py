"""sharing: share tokens for link access — mint, replace, resolve, revoke, rotate, list.

Before minting, sharing asks documents (``get_link_target``) whether the record exists in
the workspace and when it ends; every link gets an expiry (``services.sharing.lifetimes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight import share_tokens
from porchlight.clock import as_utc, isoformat, parse_iso, utcnow
from porchlight.contracts import ATTENTION, parse
from porchlight.contracts.share_links import ShareTokenInput, ViewBatch
from porchlight.errors import CONTRACT_ERRORS, Conflict, InvalidInput, NotFound
from porchlight.events import fact
from porchlight.idempotency import idempotent
from porchlight.ping import Ping
from porchlight.request_tracing import EventDispatcher, RequestTracing
from porchlight.service_calls import TimedRpcProxy
from porchlight.service_ops import Observed
from porchlight.service_rpc import rpc
from porchlight.storage import Store
from services.sharing import lifetimes
from services.sharing.models import ALIAS, ShareToken
from services.sharing.repository import SharingRepository

# How long minting waits for documents. Below the callers' RPC timeout (10 s by default),
# so staff get this service's answer rather than their own timeout; the request expires
# with the wait, so documents never answers a question nobody is waiting for.
LINK_TARGET_TIMEOUT = 4.0
LINK_TARGET_UNAVAILABLE = "Links cannot be made just now; nothing was changed. Try again shortly."


def token_to_wire(token: ShareToken) -> dict[str, Any]:
    """Everything staff may see about a token; never the token or its hash."""
    return {
        "id": str(token.id),
        "workspace_id": token.workspace_id,
        "entity": {"type": token.entity_type, "id": token.entity_id},
        "last4": token.last4,
        "permissions": list(token.permissions),
        "created_at": isoformat(token.created_at),
        "created_by": token.created_by,
        "expires_at": isoformat(token.expires_at),
        "revoked_at": isoformat(token.revoked_at),
        "rotated_from": token.rotated_from,
        "last_accessed_at": isoformat(token.last_accessed_at),
        "access_count": token.access_count,
    }


def _to_millis(moment: datetime) -> datetime:
    # Stored times keep milliseconds (see porchlight.clock.utcnow).
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class SharingService(Ping, Observed):
    name = "sharing"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: SharingRepository = Store(ALIAS, SharingRepository)
    dispatch = EventDispatcher()
    documents = TimedRpcProxy("documents", timeout=LINK_TARGET_TIMEOUT, refusal=LINK_TARGET_UNAVAILABLE)

    def _mint(self, workspace_id: str, actor: str, data: dict) -> tuple[ShareToken, str]:
        """Check a mint request, ask documents about the record, and store the token."""
        now = utcnow()
        request = parse(ShareTokenInput, data)
        entity_type, entity_id = request.entity.type, request.entity.id
        allowed = share_tokens.ALLOWED_PERMISSIONS[entity_type]
        errors = {}
        if not set(request.permissions) <= set(allowed):
            errors["permissions"] = (f"A link to a {entity_type.replace('_', ' ')} can only grant: "
                                     + ", ".join(allowed) + ".")
        permissions = [p for p in allowed if p in request.permissions]  # stable, no duplicates
        expires_at = request.expires_at
        if expires_at is not None and expires_at > lifetimes.latest_expiry(now):
            errors["expires_at"] = (f"Must be at most {lifetimes.MAX_LINK_LIFETIME.days} days from now "
                                    f"(no later than {isoformat(lifetimes.latest_expiry(now))}).")
        if errors:
            raise InvalidInput(ATTENTION, errors)
        ends_at = self._link_target(workspace_id, entity_type, entity_id)
        if expires_at is None:
            expires_at = lifetimes.default_expiry(entity_type, ends_at, now)
            if expires_at <= now:
                raise InvalidInput("Some fields need attention.", {"expires_at": (
                    f"This {entity_type.replace('_', ' ')} ended on {isoformat(ends_at)}, more than "
                    f"{lifetimes.LIFETIME_AFTER_END[entity_type].days} days ago; "
                    "give an expiry for the link explicitly.")})
        return self.repo.mint(workspace_id, actor, entity_type, entity_id, permissions, expires_at)

    def _target(self, workspace_id: str, entity_type: str, entity_id: str) -> dict[str, Any]:
        """What documents says of the record; NotFound for one the workspace does not hold."""
        return self.documents.get_link_target(workspace_id, entity_type, entity_id)

    def _link_target(self, workspace_id: str, entity_type: str, entity_id: str) -> datetime | None:
        """The record's own end (``None``: it has none). An unknown record is a field error,
        named as the mint request names it."""
        try:
            target = self._target(workspace_id, entity_type, entity_id)
        except NotFound:
            raise InvalidInput(ATTENTION, {"entity.id": "No such record in this workspace."}) from None
        return parse_iso(target["ends_at"]) if target.get("ends_at") else None

    def _announce_minted(self, workspace_id: str, actor: str, token: ShareToken) -> None:
        self.dispatch("share_token_minted", fact(
            workspace_id, actor, share_token_id=str(token.id),
            entity_type=token.entity_type, entity_id=token.entity_id,
        ))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def mint_token(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Mint a link to a record of the workspace (documents confirms it exists). Without
        ``expires_at`` it gets its kind's default lifetime. Returns the raw token — the
        only time it is ever visible."""
        token, raw = self._mint(workspace_id, actor, data)
        self._announce_minted(workspace_id, actor, token)
        return {"token": raw, "share_token": token_to_wire(token)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def replace_token(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Mint like ``mint_token``, then revoke every live link to the same record with the
        same permissions that was minted before this one: sending an estimate or a report
        again leaves the customer one working link, the newest. Of two concurrent
        replacements the later-minted link survives; neither revokes the other's."""
        token, raw = self._mint(workspace_id, actor, data)
        replaced = self.repo.revoke_replaced(workspace_id, actor, token)
        self._announce_minted(workspace_id, actor, token)
        for old in replaced:
            self.dispatch("share_token_revoked", fact(
                workspace_id, actor, share_token_id=str(old.id), replaced_by=str(token.id),
                entity_type=old.entity_type, entity_id=old.entity_id,
            ))
        return {"token": raw, "share_token": token_to_wire(token)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def resolve_token(self, raw: str, entity_type: str, permission: str = "view") -> dict[str, Any]:
        """Answer what a presented token grants, counting the access; every refusal is
        the same NotFound so a caller cannot tell unknown from revoked or expired.

        ``expires_at`` (ISO 8601, or null for a link without one) lets a reader that keeps
        the grant check expiry on every later view against its own clock; revocation it
        learns from ``share_token_revoked``."""
        if share_tokens.entity_type_of(raw) != entity_type or permission not in share_tokens.PERMISSIONS:
            raise NotFound("Unknown link.")
        token = self.repo.use(raw, entity_type, permission)
        if token is None:
            raise NotFound("Unknown link.")
        return {
            "share_token_id": str(token.id),
            "workspace_id": token.workspace_id,
            "entity_type": token.entity_type,
            "entity_id": token.entity_id,
            "permissions": list(token.permissions),
            "expires_at": isoformat(token.expires_at),
        }

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def record_views(self, batch: dict) -> dict[str, int]:
        """Add the views a reader served from its own copy of a grant (``ViewBatch``):
        counts add up whatever the order or number of readers, and ``last_accessed_at``
        only moves forward — never past this service's now, whatever the reader's clock
        says. Entries naming no link are skipped. Returns ``{"updated": <links reached>}``.
        Views are not facts anyone subscribes to: nothing is dispatched."""
        views = parse(ViewBatch, batch).views
        now = utcnow()
        updated = self.repo.add_views(
            (v.share_token_id, v.count, min(_to_millis(v.last_accessed_at), now)) for v in views)
        return {"updated": updated}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def check_token(self, workspace_id: str, token_id: str) -> bool:
        """Whether a token is still live (not revoked, not expired), without counting a
        view: for things a page handed out, like its photo links, which must stop working
        the moment the link itself is revoked."""
        try:
            token = self.repo.get(workspace_id, token_id)
        except NotFound:
            return False
        return token.revoked_at is None and (
            token.expires_at is None or as_utc(token.expires_at) > utcnow())

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def revoke_token(self, workspace_id: str, actor: str, token_id: str) -> dict[str, Any]:
        token, changed = self.repo.revoke(workspace_id, actor, token_id)
        if changed:
            self.dispatch("share_token_revoked", fact(
                workspace_id, actor, share_token_id=str(token.id),
                entity_type=token.entity_type, entity_id=token.entity_id,
            ))
        return token_to_wire(token)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def rotate_token(self, workspace_id: str, actor: str, token_id: str) -> dict[str, Any]:
        """Revoke a live token and mint its replacement with the same entity, permissions
        and expiry. Rotating an already revoked token is refused: it could resurrect
        access that someone deliberately ended."""
        current = self.repo.get(workspace_id, token_id)
        if current.revoked_at is not None:
            raise Conflict("This link is already revoked; mint a new one instead.")
        if current.expires_at is not None and as_utc(current.expires_at) <= utcnow():
            raise Conflict("This link has expired; mint a new one instead.")
        old, changed = self.repo.revoke(workspace_id, actor, token_id)
        if not changed:  # a concurrent revoke or rotate won the race
            raise Conflict("This link is already revoked; mint a new one instead.")
        token, raw = self.repo.mint(
            workspace_id, actor, old.entity_type, old.entity_id, list(old.permissions),
            old.expires_at, rotated_from=str(old.id),
        )
        self.dispatch("share_token_revoked", fact(
            workspace_id, actor, share_token_id=str(old.id),
            entity_type=old.entity_type, entity_id=old.entity_id,
        ))
        self.dispatch("share_token_rotated", fact(
            workspace_id, actor, share_token_id=str(token.id), rotated_from=str(old.id),
            entity_type=token.entity_type, entity_id=token.entity_id,
        ))
        return {"token": raw, "share_token": token_to_wire(token)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_tokens(self, workspace_id: str, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        if entity_type not in share_tokens.ENTITY_TYPES:
            raise NotFound("Unknown entity type.")
        # Another workspace's record is as unknown as one that never existed.
        self._target(workspace_id, entity_type, entity_id)
        return [
            token_to_wire(t)
            for t in self.repo.list_for_entity(workspace_id, entity_type, entity_id)
        ]
