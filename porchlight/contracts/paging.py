"""Paging, the one way every list pages: by cursor, not offset. ``next_cursor`` is the id
of a page's last item; passing it back as ``cursor`` gives the items after it, in the
list's order (newest first, ties by id), so items arriving at the top while someone reads
are neither shown twice nor skipped. The owner checks that a cursor names an item of the
list's workspace (422 otherwise); ``porchlight.kit.storage.newest_first`` makes the page."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer

from porchlight.contracts.fields import StrictStr, patterned, refuse

DEFAULT_PAGE = 25
NOT_A_CURSOR = "Not a cursor of this list."
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
