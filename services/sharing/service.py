"""sharing: share tokens for link access — mint, resolve, revoke, rotate, list."""

from __future__ import annotations

from typing import Any

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from porchlight import share_tokens
from porchlight.clock import as_utc, isoformat, utcnow
from porchlight.errors import Conflict, NotFound
from porchlight.events import fact
from porchlight.storage import Store
from porchlight.validation import Form
from services.sharing.models import ALIAS, ShareToken
from services.sharing.repository import SharingRepository


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


class SharingService:
    name = "sharing"

    repo: SharingRepository = Store(ALIAS, SharingRepository)
    dispatch = EventDispatcher()

    @rpc
    def mint_token(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Mint a token for an entity the caller has already checked exists in the
        workspace. Returns the raw token — the only time it is ever visible."""
        form = Form(data)
        form.reject_unknown(("entity_type", "entity_id", "permissions", "expires_at"))
        entity_type = form.choice("entity_type", share_tokens.ENTITY_TYPES)
        entity_id = form.object_id("entity_id")
        permissions = form.subset(
            "permissions",
            share_tokens.ALLOWED_PERMISSIONS.get(entity_type or "", share_tokens.PERMISSIONS),
        )
        expires_at = form.future_datetime("expires_at")
        form.check()
        token, raw = self.repo.mint(
            workspace_id, actor, entity_type, entity_id, permissions, expires_at
        )
        self.dispatch("share_token_minted", fact(
            workspace_id, actor, share_token_id=str(token.id),
            entity_type=entity_type, entity_id=entity_id,
        ))
        return {"token": raw, "share_token": token_to_wire(token)}

    @rpc
    def resolve_token(self, raw: str, entity_type: str, permission: str = "view") -> dict[str, Any]:
        """Answer what a presented token grants, counting the access; every refusal is
        the same NotFound so a caller cannot tell unknown from revoked or expired."""
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
        }

    @rpc
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

    @rpc
    def revoke_token(self, workspace_id: str, actor: str, token_id: str) -> dict[str, Any]:
        token, changed = self.repo.revoke(workspace_id, actor, token_id)
        if changed:
            self.dispatch("share_token_revoked", fact(
                workspace_id, actor, share_token_id=str(token.id),
                entity_type=token.entity_type, entity_id=token.entity_id,
            ))
        return token_to_wire(token)

    @rpc
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

    @rpc
    def list_tokens(self, workspace_id: str, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        if entity_type not in share_tokens.ENTITY_TYPES:
            raise NotFound("Unknown entity type.")
        return [
            token_to_wire(t)
            for t in self.repo.list_for_entity(workspace_id, entity_type, entity_id)
        ]
