"""Share grants: what a customer sees of a project, and at which level, decided per
project. Documents, the projects' owner, checks each command (the project, the customer's
portal contacts, the lock on a completed project); sharing keeps the grants and the audit
of every change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.share_grants import (
    ShareAuditList,
    ShareAuditQuery,
    ShareGrant,
    ShareGrantInput,
    ShareGrantList,
    ShareGrantPatch,
    ShareGrantQuery,
)

api = Api(Blueprint("share_grants", __name__))
TAG = "share grants"
GRANT_LINKS = {"getShareGrant": {"grant_id": "/id"}, "changeShareGrant": {"grant_id": "/id"},
               "stopShareGrant": {"grant_id": "/id"}}


@api.operation("POST", "/share-grants", "shareResource", tag=TAG, status=201, body=ShareGrantInput,
               reply=ShareGrant, errors=(409, 422), links=GRANT_LINKS)
def share_resource(body: ShareGrantInput) -> Any:
    """Share a project with a customer

    Lets the customer's signed-in contacts see the project — its hours, tasks, files, comments and
    information requests — at a level: `view`, `comment` or `approve`. Without `customer_id` the
    project is shared with its own customer. Checked by the documents service: the project is one of
    the workspace's, and the customer has at least one contact who accepted their invitation to the
    portal (422). A project already shared with the customer is a conflict (409): change its level.
    A share stopped earlier is shared again. Recorded in the share audit.
    """
    with rpc() as services:
        return services.documents.share_resource(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/share-grants", "listShareGrants", tag=TAG, query=ShareGrantQuery,
               reply=ShareGrantList, errors=(404, 422))
def list_share_grants(query: ShareGrantQuery) -> Any:
    """List a customer's or a project's shares

    Name a customer (`customer_id`) or a project (`resource`), or both; newest first, stopped shares
    too unless `live=true`. A customer or project the workspace does not hold answers 404.
    """
    with rpc() as services:
        if query.customer_id is not None:
            services.identity.get_customer(g.workspace_id, query.customer_id)
        if query.resource is not None:
            services.documents.get_project(g.workspace_id, query.resource)
        return services.sharing.list_shares(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/share-grants/<grant_id>", "getShareGrant", tag=TAG, reply=ShareGrant, errors=(404,))
def get_share_grant(grant_id: str) -> Any:
    """Get a share

    One customer's share of one project: its level (null once stopped) and who changed it last.
    """
    with rpc() as services:
        return services.sharing.get_share(g.workspace_id, grant_id)


@api.operation("PATCH", "/share-grants/<grant_id>", "changeShareGrant", tag=TAG, body=ShareGrantPatch,
               reply=ShareGrant, errors=(404, 409, 422))
def change_share_grant(grant_id: str, body: ShareGrantPatch) -> Any:
    """Change a share's level

    Takes effect on the customer's next page. A completed project's share is locked: it may be raised
    but not lowered (409). A stopped share has no level to change (409): share the project again.
    Setting the level it has changes nothing. Recorded in the share audit.
    """
    with rpc() as services:
        return services.documents.change_share(g.workspace_id, g.actor, grant_id, wire(body))


@api.operation("POST", "/share-grants/<grant_id>/stop", "stopShareGrant", tag=TAG, reply=ShareGrant,
               errors=(404, 409))
def stop_share_grant(grant_id: str) -> Any:
    """Stop sharing

    Ends the customer's access at once: their next view of the project is the not-found page and the
    download links of its files stop working. A completed project's share is locked and cannot be
    stopped (409). Stopping a stopped share changes nothing. Recorded in the share audit.
    """
    with rpc() as services:
        return services.documents.stop_share(g.workspace_id, g.actor, grant_id)


@api.operation("GET", "/share-audit", "listShareAudit", tag=TAG, query=ShareAuditQuery,
               reply=ShareAuditList, errors=(422,))
def list_share_audit(query: ShareAuditQuery) -> Any:
    """List share actions

    Every share action — shared, level changed, stopped — newest first, with the staff member (the
    API key) and the time; narrow it to a customer (`customer_id`) and/or a project (`resource`).
    """
    with rpc() as services:
        return services.sharing.share_audit(g.workspace_id, wire(query, partial=True))
