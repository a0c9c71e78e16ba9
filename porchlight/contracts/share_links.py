"""Share links (owned by sharing): a token that opens one record in the portal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Query, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import FutureTimestamp, Id, optional

EntityType = Literal["work_order", "estimate", "service_report"]
Permission = Literal["view", "respond", "sign"]
PERMISSION_RULES = ("What the link lets its holder do: a work order link can only view; an "
                    "estimate link can view and respond; a service report link can view and sign.")
TOKEN_PATTERN = r"^(wo|est|srp)_[0-9a-f]{40}$"


class EntityRef(Contract):
    type: EntityType = Field(description="Kind of record the link opens.")
    id: Id


class ShareTokenInput(Contract):
    """A new link. Sharing also checks that the record exists in the workspace (422), that
    the permissions suit its kind, and that the expiry is within the maximum for its kind."""

    entity: EntityRef
    permissions: list[Permission] = Field(["view"], min_length=1, max_length=3,
                                          description=PERMISSION_RULES)
    expires_at: optional(FutureTimestamp) = Field(
        None, description="When the link stops working, in the future. Null: the default "
        "lifetime of the record's kind.")


class ShareTokenQuery(Query):
    entity_type: EntityType
    entity_id: Id


class EntityOut(Reply):
    type: EntityType
    id: IdText


class ShareToken(Reply):
    """A share link's record. The token itself is never shown again after minting."""

    id: IdText
    workspace_id: IdText
    entity: EntityOut
    last4: str = Field(description="The token's last characters.")
    permissions: list[Permission]
    created_at: Moment
    created_by: str = Field(description="Who minted it, e.g. api_key:<id>.")
    expires_at: MaybeMoment
    revoked_at: MaybeMoment
    rotated_from: str | None = Field(description="The link this one replaced.")
    last_accessed_at: MaybeMoment
    access_count: int = Field(ge=0)


class MintedShareToken(Reply):
    """A freshly minted link: the token and its portal address appear only here."""

    token: str = Field(pattern=TOKEN_PATTERN, description="The secret token.")
    url: str = Field(json_schema_extra={"format": "uri"},
                     description="The portal address to send to the customer.")
    share_token: ShareToken


class ShareTokenList(Reply):
    share_tokens: list[ShareToken]
