"""Share grants (owned by sharing): what a customer sees of a record that is not theirs
automatically — a project, and everything inside it — and at which level.

One grant names a resource (a type and an id), a customer, and a level:

- ``view``: the customer's signed-in contacts read it;
- ``comment``: they read it and post comments;
- ``approve``: they comment, and the customer's owners approve what it asks them to
  approve (members comment only).

A customer holds at most one grant per resource; stopping it keeps the grant (its level
gone) so that sharing again starts from the same record. Every change is a line of the
share audit. Documents, the resources' owner, checks each command first: that the resource
exists in the workspace, that the customer has a contact who accepted the invitation, and
that a completed project's share is not stopped or lowered (it is **locked**).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import Id, optional
from porchlight.contracts.paging import NextCursor, PageQuery

ResourceType = Literal["project"]
RESOURCE_TYPES = ("project",)
Level = Literal["view", "comment", "approve"]
# Lowest first: a level allows what every level before it allows.
LEVELS = ("view", "comment", "approve")
LEVEL_RULES = ("What the customer's contacts may do: `view` reads; `comment` reads and posts comments; "
               "`approve` comments, and the customer's owners approve what the resource asks them to "
               "approve (members comment).")
NOT_A_LEVEL = "Must be one of: " + ", ".join(LEVELS) + "."
Action = Literal["shared", "level_changed", "stopped"]
# What each level allows a signed-in contact of each role (``permissions``).
ROLE_LIMITS = {"owner": "approve", "member": "comment"}


def permissions(level: str | None, role: str | None) -> tuple[str, ...]:
    """What a contact in ``role`` may do with a resource shared at ``level``: ``view``,
    ``comment``, ``approve`` — never above their role's limit (members do not approve)."""
    if level not in LEVELS or role not in ROLE_LIMITS:
        return ()
    top = min(LEVELS.index(level), LEVELS.index(ROLE_LIMITS[role]))
    return LEVELS[:top + 1]


def lowers(before: str | None, after: str | None) -> bool:
    """Whether going from ``before`` to ``after`` (None: not shared) takes anything away."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    return before is not None and (after is None or rank[after] < rank[before])


class ResourceRef(Contract):
    type: ResourceType = Field(description="The kind of record shared.")
    id: Id


class ShareGrantInput(Contract):
    """Share a resource with a customer. Documents checks that the resource exists in the
    workspace, and that the customer is one of the workspace's with at least one contact who
    accepted their invitation (422); sharing that a live share of it with the customer does
    not exist yet (409: change its level instead)."""

    resource: ResourceRef
    customer_id: optional(Id) = Field(None, description="The customer to share with; by default the "
                                      "resource's own customer (a project's).")
    level: Level = Field("view", description=LEVEL_RULES)


class ShareGrantPatch(Contract):
    level: Level = Field(description=LEVEL_RULES + " Lowering the share of a completed project is "
                         "refused (409): it is locked.")


class ResourceOut(Reply):
    type: ResourceType
    id: IdText


class ShareGrant(Reply):
    """One customer's share of one resource. ``level`` is null once stopped."""

    id: IdText
    workspace_id: IdText
    resource: ResourceOut
    customer_id: IdText
    level: Level | None = Field(description="Null: sharing stopped.")
    revision: int = Field(ge=1, description="Grows with every change of level.")
    created_at: Moment
    created_by: str = Field(description="Who first shared it, e.g. api_key:<id>.")
    updated_at: Moment
    updated_by: str
    stopped_at: MaybeMoment = Field(description="When sharing last stopped; null while shared.")


class ShareGrantQuery(PageQuery):
    """``GET /share-grants``: a customer's shares, or a resource's, newest first."""

    customer_id: Id = Field(None, description="Only this customer's shares.")
    resource: Id = Field(None, description="Only the shares of this resource (its id).")
    live: Literal["true", "false"] = Field(
        None, description="`true`: only shares that still hold; `false` or absent: stopped ones too.")


class ShareGrantList(Reply):
    share_grants: list[ShareGrant]
    next_cursor: NextCursor


class ShareAuditEntry(Reply):
    """One share action: who did what, when, to whose share of what."""

    id: IdText
    share_grant_id: IdText
    action: Action
    resource: ResourceOut
    customer_id: IdText
    level_before: Level | None = Field(description="The level before; null when it was not shared.")
    level_after: Level | None = Field(description="The level after; null when sharing stopped.")
    actor: str = Field(description="Who did it, e.g. api_key:<id>.")
    at: Moment


class ShareAuditQuery(PageQuery):
    """``GET /share-audit``: newest first, narrowed to a customer and/or a resource."""

    customer_id: Id = Field(None, description="Only this customer's share actions.")
    resource: Id = Field(None, description="Only the share actions on this resource (its id).")


class ShareAuditList(Reply):
    share_audit: list[ShareAuditEntry]
    next_cursor: NextCursor


NAME_RESOURCE_OR_CUSTOMER = "Name a resource (resource) or a customer (customer_id)."
