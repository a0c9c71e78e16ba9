"""Sharing's storage: share tokens (only the SHA-256 of a token is ever stored or
queried), share grants and their audit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo import UpdateOne

from porchlight.contracts import share_grants, share_tokens
from porchlight.contracts.clock import as_utc, utcnow
from porchlight.contracts.errors import Conflict, NotFound
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.kit.idempotency import CommandLog
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.sharing import lifetimes
from services.sharing.models import ShareAudit, ShareGrant, ShareToken, SharingCommand


class SharingRepository:
    def __init__(self) -> None:
        self.commands = CommandLog(SharingCommand)
        self.grants = Grants()

    def ensure_indexes(self) -> None:
        ShareToken.ensure_indexes()
        ShareGrant.ensure_indexes()
        ShareAudit.ensure_indexes()
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


NO_GRANT = "No such share grant."
STOPPED = "Sharing this with the customer has stopped; share it again instead."
LOCKED = ("The project is completed, so its share is locked: it cannot be stopped or lowered, and the "
          "customer keeps the record of the finished work.")
# A change that keeps losing its conditional update to others gives up after this many tries.
TRIES = 20


def _shared_already(level: str) -> str:
    return f"Already shared with this customer at the {level} level; change its level instead."


class Grants:
    """Share grants and their audit (``porchlight.contracts.share_grants``). Every change
    of level is one conditional update on the grant's ``revision``, then its audit line:
    two staff changing the same share at once each get their change in turn, one line
    each, and the share ends at the later one."""

    def get(self, workspace_id: str, grant_id: str) -> ShareGrant:
        return get_in_workspace(ShareGrant, workspace_id, grant_id, NO_GRANT)

    def share(self, workspace_id: str, actor: str, resource_type: str, resource_id: str,
              customer_id: str, level: str) -> tuple[ShareGrant, bool]:
        """Share a resource with a customer: a new grant, or a stopped one shared again;
        the grant and whether this call changed it. ``Conflict`` when it is shared already."""
        now = utcnow()
        try:
            grant = ShareGrant(workspace_id=workspace_id, resource_type=resource_type,
                               resource_id=resource_id, customer_id=customer_id, level=level,
                               created_at=now, created_by=actor, updated_at=now, updated_by=actor).save()
        except NotUniqueError:
            existing = ShareGrant.objects(workspace_id=workspace_id, resource_type=resource_type,
                                          resource_id=resource_id, customer_id=customer_id).first()
            if existing.level is not None:
                raise Conflict(_shared_already(existing.level)) from None
            return self._change(workspace_id, actor, str(existing.id), level, locked=False, again=True)
        self._audit(grant, "shared", None, level, actor, now)
        return grant, True

    def set_level(self, workspace_id: str, actor: str, grant_id: str, level: str | None, *,
                  locked: bool) -> tuple[ShareGrant, bool]:
        """Change a live share's level (``level`` None: stop it). ``locked``, as the
        resource's owner says: then nothing may be taken away (``Conflict``). Setting the
        level it has changes nothing and records nothing; stopping a stopped share neither.
        The grant, and whether this call changed it."""
        return self._change(workspace_id, actor, grant_id, level, locked=locked, again=False)

    def _change(self, workspace_id: str, actor: str, grant_id: str, level: str | None, *,
                locked: bool, again: bool) -> tuple[ShareGrant, bool]:
        for _ in range(TRIES):
            grant = self.get(workspace_id, grant_id)
            before = grant.level
            if before == level:
                return grant, False
            if again and before is not None:
                raise Conflict(_shared_already(before))
            if not again and before is None:
                raise Conflict(STOPPED)
            if locked and share_grants.lowers(before, level):
                raise Conflict(LOCKED)
            now = utcnow()
            changed = ShareGrant.objects(id=grant.id, revision=grant.revision).modify(
                set__level=level, inc__revision=1, set__updated_at=now, set__updated_by=actor,
                set__stopped_at=now if level is None else None, new=True)
            if changed is not None:
                action = "shared" if before is None else "stopped" if level is None else "level_changed"
                self._audit(changed, action, before, level, actor, now)
                return changed, True
        raise Conflict("This share is changing too often right now; try again.")

    def _audit(self, grant: ShareGrant, action: str, before: str | None, after: str | None,
               actor: str, at: datetime) -> None:
        ShareAudit(workspace_id=grant.workspace_id, share_grant_id=str(grant.id), action=action,
                   resource_type=grant.resource_type, resource_id=grant.resource_id,
                   customer_id=grant.customer_id, level_before=before, level_after=after,
                   actor=actor, at=at).save()

    def live_of_customer(self, workspace_id: str, customer_id: str, resource_type: str) -> list[ShareGrant]:
        """Every live share of the customer's of this type (a customer holds a handful: a
        project each), newest first."""
        return list(ShareGrant.objects(workspace_id=workspace_id, customer_id=customer_id,
                                       resource_type=resource_type, level__ne=None)
                    .order_by("-created_at", "-id"))

    def live_of_resource(self, workspace_id: str, resource_type: str, resource_id: str) -> list[ShareGrant]:
        """Every live share of one resource (a project is shared with a customer or a few),
        newest first."""
        return list(ShareGrant.objects(workspace_id=workspace_id, resource_id=resource_id,
                                       resource_type=resource_type, level__ne=None)
                    .order_by("-created_at", "-id"))

    def level(self, workspace_id: str, customer_id: str, resource_type: str, resource_id: str) -> str | None:
        grant = ShareGrant.objects(workspace_id=workspace_id, resource_type=resource_type,
                                   resource_id=resource_id, customer_id=customer_id).only("level").first()
        return grant.level if grant is not None else None

    def page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
             limit: int) -> tuple[list[ShareGrant], bool]:
        """A page of the workspace's shares, newest first; ``live`` "true": only live ones."""
        live = filters.pop("live", None) == "true"
        if "resource" in filters:
            filters["resource_id"] = filters.pop("resource")
        found = ShareGrant.objects(workspace_id=workspace_id, **filters)
        if live:
            found = found.filter(level__ne=None)
        return page_after(ShareGrant, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def audit_page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
                   limit: int) -> tuple[list[ShareAudit], bool]:
        """A page of the workspace's share actions, newest first."""
        if "resource" in filters:
            filters["resource_id"] = filters.pop("resource")
        return page_after(ShareAudit, ShareAudit.objects(workspace_id=workspace_id, **filters), workspace_id,
                          cursor, order="-at", limit=limit, not_a_cursor=NOT_A_CURSOR)
