"""Share-token storage. Only the SHA-256 of a token is ever stored or queried."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne

from porchlight.contracts import share_tokens
from porchlight.contracts.clock import as_utc, utcnow
from porchlight.contracts.errors import NotFound
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.kit.idempotency import CommandLog
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.sharing import lifetimes
from services.sharing.models import ShareToken, SharingCommand


class SharingRepository:
    def __init__(self) -> None:
        self.commands = CommandLog(SharingCommand)

    def ensure_indexes(self) -> None:
        ShareToken.ensure_indexes()
        self.commands.ensure_indexes()

    def migrate(self, now: datetime | None = None) -> int:
        """Give every link still without an end one (``lifetimes.end_for_an_unending_link``);
        a link given one meanwhile by another replica is left as it is. Returns how many
        were given an end; run at every start, it finds none after the first."""
        now = now or utcnow()
        given = 0
        # Across workspaces, the one query here that is: a migration of the whole store.
        for token in ShareToken.objects(expires_at=None).only("id", "entity_type", "created_at"):
            ends = lifetimes.end_for_an_unending_link(token.entity_type, as_utc(token.created_at), now)
            given += ShareToken.objects(id=token.id, expires_at=None).update(set__expires_at=ends)
        return given

    def mint(
        self, workspace_id: str, actor: str, entity_type: str, entity_id: str,
        permissions: list[str], expires_at: datetime | None, rotated_from: str | None = None,
        customer_id: str | None = None,
    ) -> tuple[ShareToken, str]:
        raw = share_tokens.mint(entity_type)
        token = ShareToken(
            workspace_id=workspace_id, entity_type=entity_type, entity_id=entity_id, customer_id=customer_id,
            token_hash=share_tokens.digest(raw), last4=raw[-4:], permissions=permissions,
            expires_at=expires_at, created_by=actor, rotated_from=rotated_from,
        ).save()
        return token, raw

    def live(self, raw: str, entity_type: str, permission: str) -> ShareToken | None:
        """The live token a raw link names, with the kind and permission asked for.

        Revocation, expiry, entity type and permission are all part of the filter, so a
        token revoked a microsecond ago is refused. Nothing is counted here: a view counts
        when a person's browser shows the page (``add_views``), not when a link is resolved.
        """
        return ShareToken.objects(
            token_hash=share_tokens.digest(raw),
            entity_type=entity_type,
            permissions=permission,
            revoked_at=None,
        ).filter(
            __raw__={"$or": [{"expires_at": None}, {"expires_at": {"$gt": utcnow()}}]}
        ).first()

    def add_views(self, views: Iterable[tuple[str, int, datetime]]) -> int:
        """Add counted views — ``(token id, count, latest view)`` — to their links in one
        bulk write; returns how many links it reached. Each link gets one atomic update
        (``$inc`` the count, ``$max`` the time), so batches from any number of readers add
        up, in any order. Revoked and expired links are counted too: the views happened.

        The one method not scoped by workspace, like the expiry sweep: a reader's batch
        spans workspaces, and a token id names exactly one link."""
        merged: dict[str, tuple[int, datetime]] = {}
        for token_id, count, last in views:
            if not is_object_id(token_id):
                continue  # an id that could name no link is skipped, not an error
            total, latest = merged.get(token_id, (0, last))
            merged[token_id] = (total + count, max(latest, last))
        if not merged:
            return 0
        result = ShareToken._get_collection().bulk_write([
            UpdateOne({"_id": ObjectId(token_id)},
                      {"$inc": {"access_count": count}, "$max": {"last_accessed_at": last}})
            for token_id, (count, last) in merged.items()
        ], ordered=False)
        return result.matched_count

    def get(self, workspace_id: str, token_id: str) -> ShareToken:
        return get_in_workspace(ShareToken, workspace_id, token_id, "No such share token.")

    def revoke(self, workspace_id: str, actor: str, token_id: str) -> tuple[ShareToken, bool]:
        """Revoke; returns the token and whether this call did it (repeats are harmless)."""
        if not is_object_id(token_id):
            raise NotFound("No such share token.")
        token = ShareToken.objects(id=token_id, workspace_id=workspace_id, revoked_at=None).modify(
            set__revoked_at=utcnow(), set__revoked_by=actor, new=True
        )
        if token is not None:
            return token, True
        return self.get(workspace_id, token_id), False

    def revoke_replaced(self, workspace_id: str, actor: str, newer: ShareToken) -> list[ShareToken]:
        """Revoke the live tokens ``newer`` replaces: same record, same permissions, minted
        before it (a smaller id). Each revocation is one conditional update on
        ``revoked_at``, so a token revoked meanwhile is neither revoked twice nor returned."""
        now = utcnow()
        candidates = ShareToken.objects(
            workspace_id=workspace_id, entity_type=newer.entity_type, entity_id=newer.entity_id,
            permissions__all=list(newer.permissions), permissions__size=len(newer.permissions),
            id__lt=newer.id, revoked_at=None,
        ).filter(__raw__={"$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}]})
        revoked = []
        for candidate in candidates:
            token = ShareToken.objects(id=candidate.id, revoked_at=None).modify(
                set__revoked_at=now, set__revoked_by=actor, new=True)
            if token is not None:
                revoked.append(token)
        return revoked

    def page(self, workspace_id: str, filters: dict[str, Any], *, live_at: datetime | None,
             cursor: str | None, limit: int) -> tuple[list[ShareToken], bool]:
        """A page of the workspace's links newest first (``page_after``), narrowed by
        ``filters`` (``list_filters``); with ``live_at``, only those neither revoked nor
        expired then."""
        found = ShareToken.objects(workspace_id=workspace_id, **filters)
        if live_at is not None:
            found = found.filter(revoked_at=None, expires_at__gt=live_at)
        return page_after(ShareToken, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)
