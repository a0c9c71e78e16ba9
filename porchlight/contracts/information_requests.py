"""Information requests (owned by documents): a project asks its customer for things — a
list of items, each a prompt the customer answers with text and/or files.

A request is written as a ``draft`` (staff may still change its title and items), then
``sent`` to the customer's signed-in contacts, ``in_progress`` from the customer's first
answer, and ``completed`` once staff accepted every item; it may be ``cancelled`` until
then. Completed and cancelled are final. Each item is ``pending`` until answered,
``submitted`` once answered, then ``accepted`` — or ``returned`` with staff's note, to be
answered again. Progress is the accepted items out of all.

Customers see requests only through a share of the project (drafts and cancelled
requests never): ``view`` reads them, ``comment`` or higher answers them (an answer is
the customer writing to the project, as a comment is). An answer holds 1 to 5,000
characters of text, or up to 5 files, or both; each file follows the project-file rules
(``porchlight.contracts.project_files``) and one answer's files together weigh at most
25 MB.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import optional_text, refuse, text
from porchlight.contracts.notifications import CustomerEmail
from porchlight.contracts.paging import NextCursor, PageQuery
from porchlight.contracts.project_files import MAX_FILE_BYTES, ProjectFileUpload
from porchlight.contracts.words import N_

STATUSES = ("draft", "sent", "in_progress", "completed", "cancelled")
Status = Literal["draft", "sent", "in_progress", "completed", "cancelled"]
FINAL = frozenset({"completed", "cancelled"})
# What the customer sees: never a draft nor a cancelled request.
SHOWN = ("sent", "in_progress", "completed")
OPEN = ("sent", "in_progress")
ITEM_STATUSES = ("pending", "submitted", "accepted", "returned")
ItemStatus = Literal["pending", "submitted", "accepted", "returned"]
# Items the customer may answer (again).
ANSWERABLE = frozenset({"pending", "returned"})

MAX_ITEMS = 50
MAX_ANSWER = 5000
MAX_ANSWER_FILES = 5
MAX_ANSWER_BYTES = MAX_FILE_BYTES  # one answer's files together
ANSWER_RULES = (f"Text of 1 to {MAX_ANSWER} characters, up to {MAX_ANSWER_FILES} files, or both. Each file "
                "follows the project-file rules (its type read from its content); one answer's files "
                f"together weigh at most {MAX_ANSWER_BYTES // (1024 * 1024)} MB.")
STATUS_RULES = ("`draft`: staff may still change it, the customer sees nothing; `sent`: the customer's "
                "contacts may answer; `in_progress`: at least one item was answered; `completed`: every "
                "item accepted (final); `cancelled`: withdrawn (final, the customer no longer sees it).")
ITEM_STATUS_RULES = ("`pending`: not answered yet; `submitted`: answered, for staff to review; "
                     "`accepted`: staff took the answer (final); `returned`: staff asked for a new answer "
                     "(see `note`).")
EMPTY_ANSWER = N_("Write an answer or attach a file.")

Title = text(200, description="What the request is about, e.g. \"Documents for the building permit\".")
Prompt = text(2000, multiline=True, description="What the customer is asked for; may span lines.")
Note = text(1000, multiline=True, description="Why the answer is returned: what is missing or wrong.")


class ItemInput(Contract):
    """One thing the customer is asked for."""

    prompt: Prompt


Items = Field(min_length=1, max_length=MAX_ITEMS,
              description=f"1 to {MAX_ITEMS} items, in the order the customer reads them.")


class InformationRequestInput(Contract):
    """A new request, a draft: nothing reaches the customer until it is sent. Documents also
    checks that the project exists (404) and is not completed or cancelled (409)."""

    title: Title
    items: list[ItemInput] = Items


class InformationRequestPatch(Contract):
    """Only a draft changes (409 otherwise); only the fields sent change. `items`, when
    sent, replaces every item."""

    title: Title = None
    items: list[ItemInput] = Field(None, min_length=1, max_length=MAX_ITEMS,
                                   description="Every item of the request, replacing those it had.")


class ReturnItemInput(Contract):
    """A submitted answer sent back to the customer, with what to change."""

    note: Note


class InformationRequestQuery(PageQuery):
    """``GET /projects/<id>/information-requests``: newest first."""

    status: Status = Field(None, description="Only requests in this state.")


class CustomerRequestQuery(PageQuery):
    """``documents.customer_information_requests``: one tab of the customer's list."""

    tab: Literal["open", "completed"] = Field(None, description="`open` (sent or in progress; the default) "
                                                                 "or `completed`.")


class AnswerInput(Contract):
    """A customer's answer to one item, from the portal's form: text, files or both."""

    text: optional_text(MAX_ANSWER, multiline=True, description=f"1 to {MAX_ANSWER} characters.") = None
    files: list[ProjectFileUpload] = Field(default_factory=list, max_length=MAX_ANSWER_FILES)

    @model_validator(mode="after")
    def _something(self) -> AnswerInput:
        if self.text is None and not self.files:
            raise refuse(EMPTY_ANSWER)
        return self


class AnswerFile(Reply):
    id: IdText
    name: str = Field(description="The file's name as uploaded.")
    content_type: str = Field(description="Read from the content: one of the project files' types.")
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="Bytes.")


class Item(Reply):
    id: IdText
    position: int = Field(ge=1, description="Its place in the request, from 1.")
    prompt: str
    status: ItemStatus = Field(description=ITEM_STATUS_RULES)
    answer_text: str | None = Field(description="The customer's latest answer in words.")
    files: list[AnswerFile] = Field(description="The files of the customer's latest answer.")
    answered_at: MaybeMoment
    answered_by: str | None = Field(description="Who answered, e.g. contact:<id>.")
    note: str | None = Field(description="Staff's note when they returned the answer.")
    reviewed_at: MaybeMoment = Field(description="When staff last accepted or returned it.")


class Progress(Reply):
    accepted: int = Field(ge=0)
    total: int = Field(ge=1)


class InformationRequest(Reply):
    """A request as staff see it."""

    id: IdText
    number: str = Field(description="Human number, e.g. IR-0001.")
    title: str
    project_id: IdText
    status: Status = Field(description=STATUS_RULES)
    progress: Progress = Field(description="Accepted items out of all.")
    items: list[Item]
    sent_at: MaybeMoment = Field(description="When it was first sent.")
    completed_at: MaybeMoment
    cancelled_at: MaybeMoment
    created_at: Moment
    updated_at: Moment


class InformationRequestList(Reply):
    information_requests: list[InformationRequest]
    next_cursor: NextCursor


class SentInformationRequest(Reply):
    """The sent request, and the email to each customer the project is shared with."""

    information_request: InformationRequest
    customer_emails: list[CustomerEmail] = Field(
        description="One per customer the project is shared with who has a portal contact: the "
                    "emails to its contacts, each with a link to the request in their account "
                    "(no secret: it opens nothing until they sign in).")
