"""Who may see and answer a record from the customer's side, decided here, by the records'
owner, from a verified grant (``porchlight.kit.grants``) and never from what the caller
says about workspace, customer or role.

- A link's grant names one record and its permissions: it allows exactly those, on that
  record.
- A session's grant names a customer and the contact's role: a work order of that customer
  to view; an estimate of theirs that was sent (not a draft) to view and answer — owners
  only, as estimates carry money; a completed report of one of their work orders to view
  and sign. These follow the record's customer automatically.
- A project is never theirs automatically: only a live share of it with the grant's
  customer, asked of sharing (which owns shares) on every decision, allows anything — at
  the share's level, capped by the contact's role (``share_grants.permissions``: members
  never approve). Members see shared projects too: hours are not money.

Every refusal — forged or ended grant, another customer's record, a permission not held —
is the same ``NotFound``: the asker learns nothing about records that are not theirs.
Each record type added later answers the customer through ``allowed``.
"""

from __future__ import annotations

from typing import Any

from porchlight.contracts import share_grants
from porchlight.contracts.errors import NotFound
from porchlight.kit import grants
from porchlight.kit.grants import CustomerGrant

ROLES = ("owner", "member")
ROLES_SEEING_MONEY = ("owner",)


def readers(entity_type: str) -> list[str]:
    """The roles of a customer's contacts who may read a record of this kind: only owners
    see money (an estimate); everyone sees work orders and service reports."""
    return list(ROLES_SEEING_MONEY if entity_type == "estimate" else ROLES)


def session_of(capability: Any) -> CustomerGrant:
    """A signed-in contact's grant (a link's is refused: it names no customer)."""
    grant = grants.verify(capability)
    if grant.by_link or grant.customer_id is None:
        raise NotFound(grants.REFUSAL)
    return grant


def permissions(repo: Any, grant: CustomerGrant, entity_type: str, record_id: str,
                sharing: Any = None) -> tuple[str, ...]:
    """What ``grant`` allows on one record (nothing: the empty tuple). ``sharing`` (the
    service's bounded proxy) answers for records shared per resource — projects; without
    it they allow nothing."""
    if grant.by_link:
        same = grant.entity_type == entity_type and grant.entity_id == record_id
        return grant.permissions if same else ()
    workspace_id, customer_id = grant.workspace_id, grant.customer_id
    if customer_id is None:  # names neither a link nor a customer: allows nothing
        return ()
    if entity_type == "work_order":
        wo = repo.work_orders.get(workspace_id, record_id)
        return ("view",) if wo.customer_id == customer_id else ()
    if entity_type == "estimate":
        estimate = repo.estimates.get(workspace_id, record_id)
        theirs = estimate.customer_id == customer_id and estimate.status != "draft"
        return ("view", "respond") if theirs and grant.role in ROLES_SEEING_MONEY else ()
    if entity_type == "service_report":
        report = repo.service_reports.get(workspace_id, record_id)
        if report.status not in ("awaiting_signature", "signed"):
            return ()
        wo = repo.work_orders.get(workspace_id, report.work_order_id)
        return ("view", "sign") if wo.customer_id == customer_id else ()
    if entity_type == "project" and sharing is not None:
        repo.projects.get(workspace_id, record_id)  # a project of the grant's workspace, or NotFound
        return share_grants.permissions(shared_level(sharing, grant, record_id), grant.role)
    return ()


def shared_level(sharing: Any, grant: CustomerGrant, project_id: str) -> str | None:
    """The level at which the project is shared with the grant's customer now (None: not
    shared, or shared no more), as sharing says."""
    return sharing.share_level(grant.workspace_id, grant.customer_id, "project", project_id)["level"]


def shared_projects(sharing: Any, grant: CustomerGrant) -> dict[str, str]:
    """The projects shared with the grant's customer now, each with its level, as
    sharing says (every live share: a customer holds a handful)."""
    shares = sharing.customer_shares(grant.workspace_id, grant.customer_id, "project")["shares"]
    return {share["resource_id"]: share["level"] for share in shares}


def allowed(repo: Any, capability: Any, entity_type: str, record_id: Any, permission: str,
            sharing: Any = None) -> CustomerGrant:
    """The grant ``capability`` carries, if it allows ``permission`` on the record (its
    ``workspace_id`` is the record's workspace), or ``NotFound``."""
    grant = grants.verify(capability)
    if not isinstance(record_id, str) or permission not in permissions(repo, grant, entity_type, record_id,
                                                                       sharing):
        raise NotFound(grants.REFUSAL)
    return grant


def vouched_by(grant: CustomerGrant) -> dict[str, str | None]:
    """What the evidence of an answer records about who vouched for it: the link, or the
    signed-in contact and their session."""
    return {"share_token_id": grant.share_token_id, "contact_id": grant.contact_id,
            "session_id": grant.session_id}
