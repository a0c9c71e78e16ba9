"""Paging, the one way every list pages: by cursor, not offset. ``next_cursor`` is the id
of a page's last item; passing it back as ``cursor`` gives the items after it, in the
list's order (newest first, or by name; ties by id), so items added while someone reads are
neither shown twice nor skipped. The owner checks that a cursor names an item of the
list's workspace (422 otherwise); ``porchlight.kit.storage.page_after`` makes the page."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer

from porchlight.contracts.base import Query
from porchlight.contracts.fields import Id, StrictStr, Timestamp, patterned, refuse
from porchlight.contracts.words import N_

DEFAULT_PAGE = 25
NOT_A_CURSOR = N_("Not a cursor of this list.")
QUERY_ATTENTION = N_("Some query parameters need attention.")
MAX_PAGE = 100


def _page_size(value: str) -> int:
    size = int(value)
    if not 1 <= size <= MAX_PAGE:
        raise refuse(N_("Must be between 1 and %(max)s.") % {"max": MAX_PAGE})
    return size


# A query string is text: the size is digits, read as a number once it is known to be one.
PageSize = Annotated[StrictStr, Field(
    pattern=patterned(r"^[0-9]{1,3}$", N_("Must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE}),
    description=f"How many items per page, 1 to {MAX_PAGE} (default {DEFAULT_PAGE})."),
    AfterValidator(_page_size), PlainSerializer(str, return_type=str)]


class PageQuery(Query):
    """A list's query string: how many items a page holds and where it starts. Each list's
    query adds its own filters."""

    limit: PageSize = None
    cursor: Id = Field(None, description="`next_cursor` of the previous page: the items after it.")


UpdatedSince = Annotated[Timestamp, Field(
    description="Only records changed at or after this moment, e.g. 2026-01-31T17:00:00Z.")]
NextCursor = Annotated[str | None, Field(description="Pass as `cursor` for the next page; null on the last.")]
