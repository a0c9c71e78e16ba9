"""The workspace: the business as its customers see it on the portal (its name, brand
colour, logo and sender) and the currency and time zone of its new records. Identity owns it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, uploaded_file, wire
from gateway.admin.operations import Api
from porchlight.contracts.workspaces import MAX_LOGO_BYTES, Workspace, WorkspacePatch

api = Api(Blueprint("workspace", __name__))

LOGO_RULES = (f"PNG, JPEG or WebP, at most {MAX_LOGO_BYTES // 1024} KB; its content must be of "
              "the type it is sent as. It is stored without its image metadata.")


@api.operation("GET", "/workspace", "getWorkspace", tag="workspace", reply=Workspace, errors=(404,))
def get_workspace() -> Any:
    """Get your workspace

    The workspace the API key belongs to: the name, brand colour and logo customers see on the
    portal, and the currency and time zone used for new records.
    """
    with rpc() as services:
        return services.identity.get_workspace(g.workspace_id)


@api.operation("PATCH", "/workspace", "updateWorkspace", tag="workspace", body=WorkspacePatch,
               reply=Workspace, errors=(404, 422))
def update_workspace(body: WorkspacePatch) -> Any:
    """Change your workspace

    Changes only the fields sent; customers see new branding on their next page view. A new currency
    or time zone applies to estimates created or re-dated afterwards: existing estimates keep their
    currency and the moment they end.
    """
    with rpc() as services:
        return services.identity.update_workspace(g.workspace_id, g.actor, wire(body, partial=True))


@api.operation("PUT", "/workspace/logo", "setWorkspaceLogo", tag="workspace", upload=LOGO_RULES,
               reply=Workspace, errors=(404, 413, 422),
               notes={422: "The field `file` is missing or empty, too large, not PNG, JPEG or "
                           "WebP, or its content does not match its type."})
def set_workspace_logo() -> Any:
    """Upload your logo

    The logo customers see on the portal's pages and in emails, sent as multipart/form-data in the
    field `file`.

    The portal serves it from its own address (`logo_url`), so no other host sees who views a page.
    The same image again changes nothing.
    """
    file = uploaded_file()
    with rpc() as services:
        return services.identity.set_workspace_logo(g.workspace_id, g.actor, {
            "content_type": file["content_type"], "content_b64": file["content_b64"]})


@api.operation("POST", "/workspace/logo/remove", "removeWorkspaceLogo", tag="workspace", reply=Workspace,
               errors=(404,))
def remove_workspace_logo() -> Any:
    """Remove your logo

    Customers see no logo from their next page view. Removing again changes nothing.
    """
    with rpc() as services:
        return services.identity.remove_workspace_logo(g.workspace_id, g.actor)
