"""Comments on a project (owned by documents): the conversation between the team and the
customer's contacts. Plain text only — shown with its line breaks and its web addresses as
links, never as HTML. Staff may hide a comment; it then reads "comment removed" for the
customer. A customer's contact posts only while the project is shared with their customer
at the ``comment`` level or higher."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import patterned, text
from porchlight.contracts.paging import NextCursor, PageQuery
from porchlight.contracts.words import N_

MAX_BODY = 2000
Body = text(MAX_BODY, multiline=True,
            description=f"Plain text, 1 to {MAX_BODY} characters; line breaks kept.")
# A form's one-time key (the portal's ``form_key``): a double click, or a form sent twice,
# posts one comment.
EXPIRED_FORM = N_("This form has expired; please write your comment again.")
FormKey = Field(pattern=patterned(r"^form-[0-9a-f]{32}$", EXPIRED_FORM),
                description="The posting form's one-time key (`form-`, 32 hex digits): it posts once.")


class StaffCommentInput(Contract):
    """A comment by a member of the team, shown with their name."""

    body: Body
    author_name: text(120, description="The name the customer sees beside the comment.")


class CustomerCommentInput(Contract):
    """A comment by a customer's signed-in contact, from the portal's form."""

    body: Body
    key: str = FormKey


class CommentAuthor(Reply):
    kind: Literal["contact", "staff"]
    name: str
    contact_id: str | None = Field(description="The contact who wrote it; null for staff.")


class Comment(Reply):
    """A comment as staff see it: a hidden one keeps its text for them."""

    id: IdText
    project_id: IdText
    body: str
    author: CommentAuthor
    created_at: Moment
    hidden_at: MaybeMoment = Field(description="When staff hid it; the customer then reads "
                                               "\"comment removed\".")
    hidden_by: str | None


class CommentList(Reply):
    comments: list[Comment]
    next_cursor: NextCursor


class CommentQuery(PageQuery):
    """``GET /projects/<id>/comments``: newest first."""
