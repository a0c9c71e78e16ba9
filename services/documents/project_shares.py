"""Who may see and do what with a project from the customer's side: a signed-in contact
whose customer the project is shared with (sharing keeps the shares; documents asks it,
bounded, each time), within their share's level and their role
(``porchlight.contracts.share_grants.permissions``). Every refusal is the same
``NotFound``, as for every other record (``customer_access``)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts.errors import NotFound
from porchlight.contracts.share_grants import permissions
from porchlight.kit import grants
from porchlight.kit.grants import CustomerGrant
from services.documents import customer_access


def shared_ids(sharing: Any, grant: CustomerGrant) -> list[str]:
    """The projects shared with the grant's customer that its contact may view."""
    shares = sharing.customer_shares(grant.workspace_id, grant.customer_id, "project")["shares"]
    return [s["resource_id"] for s in shares if "view" in permissions(s["level"], grant.role)]


def allowed(sharing: Any, capability: Any, project_id: Any, permission: str) -> CustomerGrant:
    """The signed-in contact's grant, if their customer's share of the project allows
    ``permission`` to their role; ``NotFound`` otherwise."""
    grant = customer_access.session_of(capability)
    if not isinstance(project_id, str):
        raise NotFound(grants.REFUSAL)
    level = sharing.share_level(grant.workspace_id, grant.customer_id, "project", project_id)["level"]
    if permission not in permissions(level, grant.role):
        raise NotFound(grants.REFUSAL)
    return grant
