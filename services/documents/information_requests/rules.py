"""Information-request rules: what each change may do to a request and its items, as pure
functions of the request read (the repository writes the result in one conditional
update), and how a customer's files are read.

- A draft's title and items change; nothing else does.
- Sending: a draft becomes ``sent`` (sending a sent or answered request again only emails
  again); final requests are not sent.
- Answering: only an open request (sent, in progress), only an item pending or returned;
  the first answer moves the request to ``in_progress``.
- Reviewing: only a submitted item is accepted or returned; accepting the last one
  completes the request. Accepting an accepted item changes nothing (safe to repeat);
  any other review of an item not submitted is a conflict.
"""

from __future__ import annotations

from typing import Any

from porchlight.contracts import ATTENTION
from porchlight.contracts.errors import Conflict, InvalidInput
from porchlight.contracts.information_requests import ANSWERABLE, FINAL, MAX_ANSWER_BYTES, OPEN
from porchlight.contracts.words import N_
from services.documents.project_files import rules as file_rules

NO_REQUEST = N_("No such information request.")
NO_ITEM = N_("No such item in this information request.")
NOT_A_DRAFT = "Only a draft changes; this request is {status}."
CANNOT_SEND = "A request that is {status} cannot be sent."
CANNOT_CANCEL = "A request that is {status} cannot be cancelled."
NOT_OPEN = N_("This request is no longer open for answers.")
ALREADY_ANSWERED = N_("This item was answered already; it can be answered again only if it is returned.")
NOT_SUBMITTED = "Only an answered (submitted) item is accepted or returned; this one is {status}."
FILE_REFUSED = N_("%(name)s is not a kind of file we accept: send a PDF, a photo (JPEG, PNG or WebP), "
                  "a Word, Excel or PowerPoint file, or an AutoCAD drawing.")
FILE_TOO_LARGE = N_("%(name)s is too large: each file may be at most 25 MB.")
FILE_EMPTY = N_("%(name)s is empty.")
FILES_TOO_LARGE = N_("Together the files are too large: at most 25 MB per answer.")


def progress(items: list[Any]) -> tuple[int, int]:
    """(accepted items, all items)."""
    return sum(1 for item in items if item.status == "accepted"), len(items)


def ensure_draft(status: str) -> None:
    if status != "draft":
        raise Conflict(NOT_A_DRAFT.format(status=status.replace("_", " ")))


def ensure_sendable(status: str) -> None:
    if status in FINAL:
        raise Conflict(CANNOT_SEND.format(status=status))


def ensure_cancellable(status: str) -> None:
    if status in FINAL:
        raise Conflict(CANNOT_CANCEL.format(status=status))


def ensure_answerable(status: str, item_status: str) -> None:
    if status not in OPEN:
        raise Conflict(NOT_OPEN)
    if item_status not in ANSWERABLE:
        raise Conflict(ALREADY_ANSWERED)


def ensure_submitted(item_status: str) -> None:
    if item_status != "submitted":
        raise Conflict(NOT_SUBMITTED.format(status=item_status))


def read_files(uploads: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    """An answer's files, each as the project-file rules read it (name, type from the
    content, bytes without a photo's metadata); ``InvalidInput`` naming ``files`` with a
    sentence the customer reads, naming the file, otherwise."""
    read, total = [], 0
    for upload in uploads:
        name = upload["filename"]
        try:
            found = file_rules.read_upload(upload)
        except InvalidInput as exc:
            said = exc.fields.get("file", "")
            message = (FILE_TOO_LARGE if said == file_rules.TOO_LARGE else
                       FILE_EMPTY if said == "The file is empty." else FILE_REFUSED)
            raise InvalidInput(ATTENTION, {"files": message % {"name": name}}) from None
        total += len(found[2])
        if total > MAX_ANSWER_BYTES:
            raise InvalidInput(ATTENTION, {"files": FILES_TOO_LARGE})
        read.append(found)
    return read
