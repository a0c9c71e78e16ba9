"""The tenancy's records as the wire contracts describe them (``porchlight.contracts``)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.customers import Customer as CustomerReply
from porchlight.contracts.notifications import MailWorkspace
from porchlight.contracts.workspaces import ApiKey as ApiKeyReply
from porchlight.contracts.workspaces import Workspace as WorkspaceReply
from services.identity.tenancy.models import ApiKey, Customer, Workspace


def workspace_to_wire(ws: Workspace) -> dict[str, Any]:
    return answer(WorkspaceReply, **{
        "id": str(ws.id),
        "name": ws.name,
        "currency": ws.currency,
        "timezone": ws.timezone,
        "locale": ws.locale,
        "brand_colour": ws.brand_colour,
        "logo_url": ws.logo_url,
        "logo_sha256": ws.logo_sha256,
        "notification_addresses": list(ws.notification_addresses or []),
        "sender_name": ws.sender_name,
        "reply_to": ws.reply_to,
        "created_at": isoformat(ws.created_at),
    })


def api_key_to_wire(key: ApiKey) -> dict[str, Any]:
    return answer(ApiKeyReply, **{
        "id": str(key.id),
        "workspace_id": key.workspace_id,
        "label": key.label,
        "last4": key.last4,
        "created_at": isoformat(key.created_at),
        "revoked_at": isoformat(key.revoked_at),
    })


def customer_to_wire(customer: Customer) -> dict[str, Any]:
    return answer(CustomerReply, **{
        "id": str(customer.id),
        "workspace_id": customer.workspace_id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "preferred_language": customer.preferred_language,
        "created_at": isoformat(customer.created_at),
    })


def mail_workspace(workspace: Workspace) -> dict[str, Any]:
    """What an email needs of the workspace: the fields ``MailWorkspace`` names."""
    return {name: str(workspace.id) if name == "id" else getattr(workspace, name)
            for name in MailWorkspace.model_fields}
