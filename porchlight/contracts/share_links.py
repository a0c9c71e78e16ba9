"""Share links (owned by sharing): a token that opens one record in the portal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictStr

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import FutureTimestamp, Id, StrictInt, Timestamp, optional
from porchlight.contracts.paging import NextCursor, PageQuery

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


# A portal process sends its views every few seconds; a batch far larger than this is a
# bug or an attack, not traffic. The per-link count is bounded for the same reason.
MAX_VIEW_BATCH = 10_000
MAX_VIEWS_PER_LINK = 1_000_000


class LinkViews(Contract):
    """Views of one link that people's browsers reported to a reader since its last batch."""

    # Not checked as an id here: an unknown or malformed id is skipped by sharing, so
    # one stale entry never costs the rest of the batch its counts.
    share_token_id: StrictStr = Field(min_length=1, max_length=64,
                                      description="The link's id, as `resolve_token` gave it.")
    count: StrictInt = Field(ge=1, le=MAX_VIEWS_PER_LINK, description="How many views.")
    last_accessed_at: Timestamp = Field(description="The latest of these views. One in the future "
                                        "(clock skew) counts as sharing's now.")


class ViewBatch(Contract):
    """``sharing.record_views``: view counts gathered by a reader of links (the portal)."""

    views: list[LinkViews] = Field(max_length=MAX_VIEW_BATCH)


NAME_RECORD_OR_CUSTOMER = "Name a record (entity_type and entity_id) or a customer (customer_id)."


class ShareTokenQuery(PageQuery):
    """``sharing.list_tokens``'s query, and the admin API's query string: one record's
    links, or one customer's. Sharing also requires a record (both ``entity_type`` and
    ``entity_id``) or a customer."""

    entity_type: EntityType = Field(None, description="With `entity_id`: only this record's links.")
    entity_id: Id = None
    customer_id: Id = Field(None, description="Only the links minted for this customer's records.")
    live: Literal["true", "false"] = Field(
        None, description="`true`: only links that still open their record (neither revoked nor "
                          "expired); `false` or absent: all.")


class EntityOut(Reply):
    type: EntityType
    id: IdText


class ShareToken(Reply):
    """A share link's record. The token itself is never shown again after minting."""

    id: IdText
    workspace_id: IdText
    entity: EntityOut
    customer_id: str | None = Field(description="The record's customer when the link was minted; "
                                    "null for links minted before links knew it.")
    last4: str = Field(description="The token's last characters.")
    permissions: list[Permission]
    created_at: Moment
    created_by: str = Field(description="Who minted it, e.g. api_key:<id>.")
    expires_at: MaybeMoment
    revoked_at: MaybeMoment
    rotated_from: str | None = Field(description="The link this one replaced.")
    last_accessed_at: MaybeMoment = Field(description="When its page was last shown to a person.")
    access_count: int = Field(ge=0, description="How many times its page was shown to a person "
                              "(reported by the page once visible; a bare fetch, such as a mail "
                              "scanner's, is not a view).")


class MintedShareToken(Reply):
    """A freshly minted link: the token and its portal address appear only here."""

    token: str = Field(pattern=TOKEN_PATTERN, description="The secret token.")
    url: str = Field(json_schema_extra={"format": "uri"},
                     description="The portal address to send to the customer.")
    share_token: ShareToken


class ShareTokenList(Reply):
    share_tokens: list[ShareToken]
    next_cursor: NextCursor
