"""The staff inbox (owned by notifications): one item per customer action worth a look.

Paging is by cursor, not offset: the inbox grows at the top while staff read it, and an
offset would then show an item twice or skip one. ``next_cursor`` is the id of the last
item of a page; passing it back gives the items after it, newest first by when the
customer acted (ties by id). Notifications checks that the cursor names an item of the
workspace (422 otherwise).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PlainSerializer

from porchlight.contracts.base import Query, Reply
from porchlight.contracts.common import CertificateId, IdText, MaybeMoment, Moment
from porchlight.contracts.fields import Id, StrictStr, patterned, refuse

Kind = Literal["estimate_accepted", "estimate_declined", "service_report_signed"]
EntityType = Literal["estimate", "service_report"]

DEFAULT_PAGE = 25
MAX_PAGE = 100


def _page_size(value: str) -> int:
    size = int(value)
    if not 1 <= size <= MAX_PAGE:
        raise refuse(f"Must be between 1 and {MAX_PAGE}.")
    return size


# A query string is text: the size is digits, read as a number once it is known to be one.
PageSize = Annotated[StrictStr, Field(
    pattern=patterned(r"^[0-9]{1,3}$", f"Must be a whole number from 1 to {MAX_PAGE}."),
    description=f"How many items per page, 1 to {MAX_PAGE} (default {DEFAULT_PAGE})."),
    AfterValidator(_page_size), PlainSerializer(str, return_type=str)]


class InboxQuery(Query):
    """``notifications.list_inbox``'s query, and the admin API's query string."""

    unread: Literal["true", "false"] = Field(
        None, description="`true`: only items nobody has marked read; `false` or absent: all.")
    limit: PageSize = None
    cursor: Id = Field(None, description="`next_cursor` of the previous page: the items after it.")


class InboxEntity(Reply):
    type: EntityType
    id: IdText
    number: str | None = Field(description="The record's number, e.g. EST-0001; null if it "
                               "could not be looked up when the item was made.")


class InboxDetails(Reply):
    """What the customer added to the action; each key only where it applies."""

    signer_name: str | None = Field(None, description="The name the customer signed or answered with.")
    reason: str | None = Field(None, description="Why the customer declined, as they wrote it.")
    certificate_id: CertificateId | None = Field(None, description="The evidence of the action "
                                                 "(`GET /evidence/<certificate_id>`).")


class InboxItem(Reply):
    id: IdText
    workspace_id: IdText
    kind: Kind = Field(description="What the customer did.")
    title: str = Field(description="One line for the inbox list.")
    summary: str = Field(description="A sentence or two with what staff need to act.")
    entity: InboxEntity
    details: InboxDetails
    occurred_at: Moment = Field(description="When the customer acted.")
    created_at: Moment = Field(description="When the item reached the inbox.")
    read_at: MaybeMoment = Field(description="When staff marked it read; null while unread.")
    read_by: str | None = Field(description="Who marked it read, e.g. api_key:<id>.")


class InboxPage(Reply):
    items: list[InboxItem]
    unread_count: int = Field(ge=0, description="Unread items in the whole inbox.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class MarkedAllRead(Reply):
    marked: int = Field(ge=0, description="How many items this call marked read.")
