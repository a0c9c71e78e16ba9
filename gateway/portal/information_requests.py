"""A signed-in contact's information requests: ``/portal/information-requests``, the
requests of the projects shared with their customer in two tabs — Open (sent or in
progress) and Completed — each a plain link to the same page (``?tab=``), the latest sent
first, a page at a time ("Show more" carries the next page's cursor); and
``/portal/information-requests/<id>``, one request with its items, staff's note on a
returned item, and a form per item the contact may answer.

Documents decides everything on the session's capability: a draft, a cancelled request,
another customer's or one whose project is no longer shared is the 404 page; a ``view``
share reads, ``comment`` or higher answers (members too). Both pages come from the read
model; an answer goes to documents, synchronously, every time.

The answer form works without a script: text, files (multipart), or both. A refused
answer — empty, over 5,000 characters, a file of a refused kind, too many or too large —
is the page again (422) with the reason beside the field and the words typed kept;
nothing is stored.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, current_app, g, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.portal.accounts import page, signed_in
from gateway.portal.calls import documents
from gateway.portal.language import _
from gateway.portal.reads import reads
from porchlight.contracts.errors import Conflict, InvalidInput
from porchlight.contracts.information_requests import MAX_ANSWER, MAX_ANSWER_BYTES, MAX_ANSWER_FILES
from porchlight.contracts.words import N_

bp = Blueprint("information_requests", __name__)

# The tabs of the list, in order: the value of ``?tab=`` and its name (translated where shown).
TABS = (("open", N_("Open")), ("completed", N_("Completed")))
# An answer's files may weigh 25 MB together; multipart framing and the text add a little.
MAX_FORM_BYTES = MAX_ANSWER_BYTES + 1024 * 1024
# What the file picker offers (the service reads each file's type from its content).
ACCEPTED_FILES = ".pdf,.jpg,.jpeg,.png,.webp,.docx,.xlsx,.pptx,.dwg"
TOO_LARGE = N_("Together the files are too large: at most 25 MB per answer.")


@bp.get("/portal/information-requests")
@signed_in
def information_requests() -> Any:
    tab = request.args.get("tab") or "open"
    query = {"tab": tab, **({"cursor": request.args["cursor"]} if request.args.get("cursor") else {})}
    try:
        listed = reads(current_app).customer_information_requests(g.account, query)
    except InvalidInput:  # a tab or cursor that is not this list's: the first page, said so
        listed = reads(current_app).customer_information_requests(g.account, {"tab": "open"})
        return page("portal/information_requests.html", 422, listed=listed, tab="open", tabs=TABS,
                    paged=False, error=_("That filter or page does not exist; here is the whole list."))
    return page("portal/information_requests.html", listed=listed, tab=tab, tabs=TABS,
                paged="cursor" in query, error=None)


def _request_page(request_id: str, status: int = 200, **context: Any) -> Any:
    found = reads(current_app).information_request(g.account, request_id)
    context.setdefault("errors", {})
    context.setdefault("typed", {})
    return page("portal/information_request.html", status, ir=found, max_answer=MAX_ANSWER,
                max_files=MAX_ANSWER_FILES, accepted_files=ACCEPTED_FILES,
                answered=request.args.get("answered"), **context)


@bp.get("/portal/information-requests/<request_id>")
@signed_in
def information_request(request_id: str) -> Any:
    return _request_page(request_id)


@bp.post("/portal/information-requests/<request_id>/items/<item_id>")
@signed_in
def answer_item(request_id: str, item_id: str) -> Any:
    """One item's answer: to documents, then back to the request's page (303)."""
    request.max_content_length = MAX_FORM_BYTES
    try:
        # The form's token, checked here rather than before the view: only here is the
        # answer's bound raised (gateway.portal.app).
        current_app.extensions["csrf"].protect()
        text = request.form.get("text", "").replace("\r\n", "\n").replace("\r", "\n")
        files = [f for f in request.files.getlist("files") if f.filename]
    except RequestEntityTooLarge:
        return _request_page(request_id, 413, errors={item_id: {"files": TOO_LARGE}})
    data = {"text": text, "files": [_upload(f) for f in files]}
    try:
        answered = documents().answer_information_item(g.account["capability"], request_id, item_id, data)
    except InvalidInput as exc:
        return _request_page(request_id, 422, errors={item_id: _form_errors(exc.fields)},
                             typed={item_id: text})
    except Conflict as exc:  # answered meanwhile, or the request closed: the page as it is now
        reads(current_app).model.changed(("information_request", request_id))
        return _request_page(request_id, 409, errors={item_id: {"text": exc.message}}, typed={item_id: text})
    # This process's copy goes now; the event drops the others'.
    reads(current_app).model.changed(("information_request", request_id), ("project", answered["project_id"]))
    return redirect(url_for("information_requests.information_request", request_id=request_id,
                            answered=item_id, _anchor=f"item-{item_id}"), code=303)


def _upload(found: Any) -> dict[str, str]:
    """A file of the form as documents takes it: its name, its declared type, its bytes."""
    with found.stream:
        return {"filename": found.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file",
                "content_type": (found.mimetype or "application/octet-stream")[:200],
                "content_b64": base64.b64encode(found.read()).decode("ascii")}


def _form_errors(fields: dict[str, str]) -> dict[str, str]:
    """Documents' reasons as the form shows them: under the text or under the files (a
    reason about one file, or about the answer as a whole, under the field it concerns)."""
    shown: dict[str, str] = {}
    for name, message in fields.items():
        target = "files" if name.startswith("files") else "text"
        shown.setdefault(target, message)
    return shown
