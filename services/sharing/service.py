"""sharing: share tokens for link access — mint, replace, resolve, revoke, rotate, list —
and share grants: what a customer's signed-in contacts see of a resource (a project) that
is not theirs automatically, at which level, with the audit of every change.

Links are minted on the word of the record's owner: documents checks that the record exists
in the workspace and says when it ends (``documents.share_record``, and sending a record to
its customer), and only documents may ask for a new link (the broker's rights, from
``porchlight.operator.broker_access``). Sharing asks nobody: calls flow one way, documents → sharing.
Every link gets an expiry (``services.sharing.lifetimes``). Grants are the same: documents
checks the resource, the customer and the lock, then tells sharing (``share_resource``,
``change_share``), and asks sharing which of a customer's resources are shared
(``customer_shares``, ``share_level``) when it answers the customer; notifications asks
which customers a project is shared with (``resource_shares``) before it emails them its
changes.
"""

from __future__ import annotations

from typing import Any

from porchlight.contracts import ATTENTION, answer, parse, share_grants, share_tokens
from porchlight.contracts.clock import as_utc, isoformat, parse_iso, to_millis, utcnow
from porchlight.contracts.errors import CONTRACT_ERRORS, Conflict, InvalidInput, NotFound
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.share_grants import (
    NAME_RESOURCE_OR_CUSTOMER,
    ShareAuditEntry,
    ShareAuditQuery,
    ShareGrantQuery,
)
from porchlight.contracts.share_grants import ShareGrant as ShareGrantReply
from porchlight.contracts.share_links import (
    NAME_RECORD_OR_CUSTOMER,
    ShareTokenInput,
    ShareTokenQuery,
    ViewBatch,
)
from porchlight.contracts.share_links import ShareToken as ShareTokenReply
from porchlight.kit import grants
from porchlight.kit.grants import GrantKey
from porchlight.kit.idempotency import idempotent
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import EventDispatcher, RequestTracing
from porchlight.kit.service_ops import Observed
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import Store, list_filters, next_cursor
from porchlight.runtime.settings import get_settings
from services.sharing import lifetimes
from services.sharing.models import ALIAS, ShareAudit, ShareGrant, ShareToken
from services.sharing.repository import SharingRepository


def token_to_wire(token: ShareToken) -> dict[str, Any]:
    """Everything staff may see about a token (the ``ShareToken`` reply); never the token
    or its hash."""
    return answer(
        ShareTokenReply, id=str(token.id), workspace_id=token.workspace_id,
        entity={"type": token.entity_type, "id": token.entity_id}, customer_id=token.customer_id,
        last4=token.last4,
        permissions=list(token.permissions), created_at=isoformat(token.created_at),
        created_by=token.created_by, expires_at=isoformat(token.expires_at),
        revoked_at=isoformat(token.revoked_at), rotated_from=token.rotated_from,
        last_accessed_at=isoformat(token.last_accessed_at), access_count=token.access_count)


def grant_to_wire(grant: ShareGrant) -> dict[str, Any]:
    return answer(
        ShareGrantReply, id=str(grant.id), workspace_id=grant.workspace_id,
        resource={"type": grant.resource_type, "id": grant.resource_id}, customer_id=grant.customer_id,
        level=grant.level, revision=grant.revision, created_at=isoformat(grant.created_at),
        created_by=grant.created_by, updated_at=isoformat(grant.updated_at), updated_by=grant.updated_by,
        stopped_at=isoformat(grant.stopped_at))


def audit_to_wire(line: ShareAudit) -> dict[str, Any]:
    return answer(
        ShareAuditEntry, id=str(line.id), share_grant_id=line.share_grant_id, action=line.action,
        resource={"type": line.resource_type, "id": line.resource_id}, customer_id=line.customer_id,
        level_before=line.level_before, level_after=line.level_after, actor=line.actor,
        at=isoformat(line.at))


def minted(raw: str, token: ShareToken) -> dict[str, Any]:
    """A new link as its minter sees it, once: the raw token, its portal address, the record."""
    url = share_tokens.portal_url(get_settings().portal_base_url, token.entity_type, raw)
    return {"token": raw, "url": url,
            "share_token": token_to_wire(token)}


class SharingService(Ping, Observed):
    name = "sharing"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: SharingRepository = Store(ALIAS, SharingRepository)
    dispatch = EventDispatcher()
    grant_key = GrantKey()  # signs or checks customers' grants (porchlight.kit.grants)

    def _mint(self, workspace_id: str, actor: str, data: dict,
              ends_at: str | None, customer_id: str | None) -> tuple[ShareToken, str]:
        """Check a mint request and store the token. ``ends_at`` is when the record itself
        stops being answerable (ISO 8601; ``None``: never), and ``customer_id`` whose record
        it is, as its owner says."""
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
        if expires_at is None:
            ends_at = parse_iso(ends_at) if ends_at else None
            expires_at = lifetimes.default_expiry(entity_type, ends_at, now)
            if expires_at <= now:
                raise InvalidInput("Some fields need attention.", {"expires_at": (
                    f"This {entity_type.replace('_', ' ')} ended on {isoformat(ends_at)}, more than "
                    f"{lifetimes.LIFETIME_AFTER_END[entity_type].days} days ago; "
                    "give an expiry for the link explicitly.")})
        return self.repo.mint(workspace_id, actor, entity_type, entity_id, permissions, expires_at,
                              customer_id=customer_id)

    def _announce_minted(self, workspace_id: str, actor: str, token: ShareToken) -> None:
        self.dispatch("share_token_minted", fact(
            workspace_id, actor, share_token_id=str(token.id),
            entity_type=token.entity_type, entity_id=token.entity_id,
        ))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def mint_token(self, workspace_id: str, actor: str, data: dict,
                   ends_at: str | None = None, customer_id: str | None = None) -> dict[str, Any]:
        """Mint a link to a record of the workspace, which documents (its owner, the only
        caller) has checked; ``ends_at`` is the record's own end, ``customer_id`` its
        customer. Without ``expires_at`` the link gets its kind's default lifetime. Returns
        the raw token — the only time it is ever visible."""
        token, raw = self._mint(workspace_id, actor, data, ends_at, customer_id)
        self._announce_minted(workspace_id, actor, token)
        return minted(raw, token)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def replace_token(self, workspace_id: str, actor: str, data: dict,
                      ends_at: str | None = None, customer_id: str | None = None) -> dict[str, Any]:
        """Mint like ``mint_token``, then revoke every live link to the same record with the
        same permissions that was minted before this one: sending an estimate or a report
        again leaves the customer one working link, the newest. Of two concurrent
        replacements the later-minted link survives; neither revokes the other's."""
        token, raw = self._mint(workspace_id, actor, data, ends_at, customer_id)
        replaced = self.repo.revoke_replaced(workspace_id, actor, token)
        self._announce_minted(workspace_id, actor, token)
        for old in replaced:
            self.dispatch("share_token_revoked", fact(
                workspace_id, actor, share_token_id=str(old.id), replaced_by=str(token.id),
                entity_type=old.entity_type, entity_id=old.entity_id,
            ))
        return minted(raw, token)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def resolve_token(self, raw: str, entity_type: str, permission: str = "view") -> dict[str, Any]:
        """Answer what a presented token grants; every refusal is the same NotFound so a
        caller cannot tell unknown from revoked or expired. Resolving counts nothing: mail
        scanners and link previews resolve links too; a view is counted when the page is
        shown to a person (``record_views``, sent by the portal).

        ``expires_at`` (ISO 8601, or null for a link without one) lets a reader that keeps
        the grant check expiry on every later view against its own clock; revocation it
        learns from ``share_token_revoked``. ``capability`` is the same grant signed for
        documents (``porchlight.kit.grants``), which shows and answers the record on it
        alone, until ``capability_expires_at``: a reader that keeps the grant asks again
        before then."""
        if share_tokens.entity_type_of(raw) != entity_type or permission not in share_tokens.PERMISSIONS:
            raise NotFound("Unknown link.")
        token = self.repo.live(raw, entity_type, permission)
        if token is None:
            raise NotFound("Unknown link.")
        claims = {"share_token_id": str(token.id), "workspace_id": token.workspace_id,
                  "entity_type": token.entity_type, "entity_id": token.entity_id,
                  "permissions": tuple(token.permissions)}
        capability, capability_ends = grants.issue(ends_at=token.expires_at, **claims)
        # The record's customer, whose language the page is written in.
        return {**claims, "permissions": list(token.permissions), "customer_id": token.customer_id,
                "expires_at": isoformat(token.expires_at),
                "capability": capability, "capability_expires_at": isoformat(capability_ends)}

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
            (v.share_token_id, v.count, min(to_millis(v.last_accessed_at), now)) for v in views)
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
        and expiry (a link without one: its kind's default, from now). Rotating an already
        revoked token is refused: it could resurrect access that someone deliberately ended."""
        current = self.repo.get(workspace_id, token_id)
        if current.revoked_at is not None:
            raise Conflict("This link is already revoked; mint a new one instead.")
        if current.expires_at is not None and as_utc(current.expires_at) <= utcnow():
            raise Conflict("This link has expired; mint a new one instead.")
        old, changed = self.repo.revoke(workspace_id, actor, token_id)
        if not changed:  # a concurrent revoke or rotate won the race
            raise Conflict("This link is already revoked; mint a new one instead.")
        # A link from before every link had an end gets the default one from now.
        expires_at = old.expires_at or lifetimes.default_expiry(old.entity_type, None, utcnow())
        token, raw = self.repo.mint(
            workspace_id, actor, old.entity_type, old.entity_id, list(old.permissions),
            expires_at, rotated_from=str(old.id), customer_id=old.customer_id,
        )
        self.dispatch("share_token_revoked", fact(
            workspace_id, actor, share_token_id=str(old.id),
            entity_type=old.entity_type, entity_id=old.entity_id,
        ))
        self.dispatch("share_token_rotated", fact(
            workspace_id, actor, share_token_id=str(token.id), rotated_from=str(old.id),
            entity_type=token.entity_type, entity_id=token.entity_id,
        ))
        return minted(raw, token)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_tokens(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """A record's links, or a customer's, newest first, revoked and expired ones too
        unless ``live``, a page at a time (``ShareTokenQuery``)."""
        request = parse(ShareTokenQuery, query, message=QUERY_ATTENTION)
        filters = list_filters(request)
        live = filters.pop("live", None) == "true"
        if "customer_id" not in filters and not {"entity_type", "entity_id"} <= set(filters):
            missing = [name for name in ("entity_type", "entity_id") if name not in filters]
            raise InvalidInput(QUERY_ATTENTION, dict.fromkeys(missing, NAME_RECORD_OR_CUSTOMER))
        # Whether the workspace holds the record or the customer is for their owners to say
        # (the admin gateway asks first); here, another workspace's ids simply have no links.
        found, more = self.repo.page(workspace_id, filters, live_at=utcnow() if live else None,
                                     cursor=request.cursor, limit=request.limit or DEFAULT_PAGE)
        return {"share_tokens": [token_to_wire(t) for t in found], "next_cursor": next_cursor(found, more)}

    # -- share grants ---------------------------------------------------------------------
    def _announce_share(self, workspace_id: str, actor: str, grant: ShareGrant) -> None:
        self.dispatch("share_changed", fact(
            workspace_id, actor, share_grant_id=str(grant.id), customer_id=grant.customer_id,
            resource_type=grant.resource_type, resource_id=grant.resource_id, level=grant.level))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def share_resource(self, workspace_id: str, actor: str, resource_type: str, resource_id: str,
                       customer_id: str, level: str) -> dict[str, Any]:
        """Share a resource with a customer at ``level`` — on the word of the resource's
        owner (documents, the only caller), which checked the resource and the customer.
        A live share of the same is ``Conflict``; a stopped one is shared again."""
        if resource_type not in share_grants.RESOURCE_TYPES or level not in share_grants.LEVELS:
            raise InvalidInput(ATTENTION, {"level": share_grants.NOT_A_LEVEL})
        grant, changed = self.repo.grants.share(workspace_id, actor, resource_type, resource_id, customer_id,
                                                level)
        if changed:
            self._announce_share(workspace_id, actor, grant)
        return grant_to_wire(grant)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def change_share(self, workspace_id: str, actor: str, grant_id: str, level: str | None,
                     locked: bool = False) -> dict[str, Any]:
        """Change a share's level, or stop it (``level`` None), on the word of the
        resource's owner: ``locked`` when the resource may no longer be taken from the
        customer (a completed project): stopping or lowering is then ``Conflict``. Stopping
        takes effect at once: the next read of the resource by the customer is refused."""
        if level is not None and level not in share_grants.LEVELS:
            raise InvalidInput(ATTENTION, {"level": share_grants.NOT_A_LEVEL})
        grant, changed = self.repo.grants.set_level(workspace_id, actor, grant_id, level, locked=locked)
        if changed:
            self._announce_share(workspace_id, actor, grant)
        return grant_to_wire(grant)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_share(self, workspace_id: str, grant_id: str) -> dict[str, Any]:
        return grant_to_wire(self.repo.grants.get(workspace_id, grant_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_shares(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """A customer's shares or a resource's, newest first, a page at a time (``ShareGrantQuery``)."""
        request = parse(ShareGrantQuery, query, message=QUERY_ATTENTION)
        filters = list_filters(request)
        if "customer_id" not in filters and "resource" not in filters:
            raise InvalidInput(QUERY_ATTENTION, {"resource": NAME_RESOURCE_OR_CUSTOMER})
        found, more = self.repo.grants.page(workspace_id, filters, cursor=request.cursor,
                                            limit=request.limit or DEFAULT_PAGE)
        return {"share_grants": [grant_to_wire(g) for g in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def share_audit(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's share actions newest first, for a customer and/or a resource, a
        page at a time (``ShareAuditQuery``)."""
        request = parse(ShareAuditQuery, query, message=QUERY_ATTENTION)
        found, more = self.repo.grants.audit_page(workspace_id, list_filters(request), cursor=request.cursor,
                                                  limit=request.limit or DEFAULT_PAGE)
        return {"share_audit": [audit_to_wire(line) for line in found],
                "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_shares(self, workspace_id: str, customer_id: str, resource_type: str) -> dict[str, Any]:
        """Every resource of this type shared with the customer now, newest share first,
        with its level: documents asks, on a signed-in contact's verified grant, before it
        lists the customer's projects."""
        live = self.repo.grants.live_of_customer(workspace_id, customer_id, resource_type)
        return {"shares": [{"resource_id": g.resource_id, "level": g.level} for g in live]}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def resource_shares(self, workspace_id: str, resource_type: str, resource_id: str) -> dict[str, Any]:
        """The customers one resource is shared with now, with their levels, newest share
        first: notifications asks before it emails a project's customers its changes."""
        live = self.repo.grants.live_of_resource(workspace_id, resource_type, resource_id)
        return {"shares": [{"customer_id": g.customer_id, "level": g.level} for g in live]}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def share_level(self, workspace_id: str, customer_id: str, resource_type: str,
                    resource_id: str) -> dict[str, Any]:
        """The level at which one resource is shared with the customer now (``level`` None:
        not shared): documents asks before it shows or answers the resource."""
        return {"level": self.repo.grants.level(workspace_id, customer_id, resource_type, resource_id)}
