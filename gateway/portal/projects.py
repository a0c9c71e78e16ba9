"""A signed-in contact's projects: ``/portal/projects``, the projects shared with their
customer as a grid of cards (the most recently active first, a page at a time: "Show more"
is a plain link carrying the next page's cursor), and ``/portal/projects/<id>``, one
project — the hours, the person to call, the progress and its tabs: tasks, documents and
comments (the form to post one when the share allows it). ``/portal/documents`` lists
the files of every shared project; a file downloads through a signed link that lives
``FILE_LINK_SECONDS`` (10 minutes) and only with the session of the contact it was shown to.

Projects are seen only through a share (sharing owns shares; documents decides, on the
session's capability, what the contact may see). Every contact sees them, members too:
hours are not money. A project not shared with their customer, another customer's, or one
whose share stopped is the 404 page. Both pages come from the read model.

The tabs are links to sections of the same page: without a script each is a heading and
its content, one after the other; the stylesheet shows the one the address names
(``:target``), the first by default.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, request, stream_with_context, url_for
from itsdangerous import BadSignature

from gateway.portal.accounts import page, signed_in
from gateway.portal.calls import documents
from gateway.portal.language import _
from gateway.portal.links import signer
from gateway.portal.reads import reads
from gateway.portal.session import current_account
from gateway.web import content_disposition
from porchlight.contracts.errors import InvalidInput, NotFound
from porchlight.contracts.project_comments import MAX_BODY
from porchlight.contracts.words import N_

bp = Blueprint("projects", __name__)

# The tabs of a project's page, in order: each a section of the page (its id), its name
# (translated where shown) and its template, which starts with its heading
# ``<h2 id="<tab>-heading">``. Each further tab adds its line here and its template.
TABS = (("tasks", N_("Tasks"), "portal/_project_tasks.html"),
        ("documents", N_("Documents"), "portal/_project_documents.html"),
        ("comments", N_("Comments"), "portal/_project_comments.html"))
FILE_SALT = "portal-project-file"


@bp.get("/portal/projects")
@signed_in
def projects() -> Any:
    query = {name: request.args[name] for name in ("status", "cursor") if request.args.get(name)}
    try:
        listed = reads(current_app).customer_projects(g.account, query)
    except InvalidInput:  # a state or cursor that is not this list's: the first page, said so
        listed = reads(current_app).customer_projects(g.account, {})
        return page("portal/projects.html", 422, listed=listed, state=None, paged=False,
                    error=_("That filter or page does not exist; here is the whole list."))
    return page("portal/projects.html", listed=listed, state=query.get("status"), paged="cursor" in query,
                error=None)


@bp.get("/portal/projects/<project_id>")
@signed_in
def project(project_id: str) -> Any:
    return project_page(project_id)


def project_page(project_id: str, *, status: int = 200, errors: dict | None = None,
                 form: dict | None = None) -> Any:
    """The project's page: its card and tabs, a page of its files and of its comments
    (``?files=`` and ``?comments=``: the cursors of further pages)."""
    portal = reads(current_app)
    shown = portal.project(g.account, project_id)  # not shared: the 404 page, asked first
    files_query = {"project_id": shown["id"], **_cursor("files")}
    comments_query = _cursor("comments")
    try:
        files = portal.project_files(g.account, files_query)
        comments = portal.project_comments(g.account, shown["id"], comments_query)
    except InvalidInput:  # a cursor that is not this project's: its first pages
        files = portal.project_files(g.account, {"project_id": shown["id"]})
        comments = portal.project_comments(g.account, shown["id"], {})
    return page("portal/project.html", status, project=shown, tabs=TABS, files=files,
                file_links=file_links(files["items"]), comments=comments,
                may_comment="comment" in shown["permissions"], errors=errors or {}, form=form or {},
                max_comment=MAX_BODY)


def _cursor(name: str) -> dict[str, str]:
    cursor = request.args.get(name)
    return {"cursor": cursor} if cursor else {}


@bp.post("/portal/projects/<project_id>/comments")
@signed_in
def post_comment(project_id: str) -> Any:
    """A comment from the form, decided by documents: refused input shows the page again
    with the words kept; a share that allows no comment is the 404 page."""
    data = {"body": request.form.get("body", ""), "key": request.form.get("form_key", "")}
    try:
        documents().post_customer_comment(g.account["capability"], project_id, data)
    except InvalidInput as exc:
        return project_page(project_id, status=422, errors=exc.fields, form={"body": data["body"]})
    # This process shows the new comment at once; the others hear of it by the event.
    reads(current_app).model.changed(("project", project_id))
    return redirect(url_for("projects.project", project_id=project_id, _anchor="comments"), code=303)


@bp.get("/portal/documents")
@signed_in
def documents_page() -> Any:
    """Every file of every project shared with the contact's customer, newest first."""
    query = _cursor("cursor")
    try:
        listed = reads(current_app).project_files(g.account, query)
    except InvalidInput:
        listed = reads(current_app).project_files(g.account, {})
        return page("portal/documents.html", 422, listed=listed, links=file_links(listed["items"]),
                    paged=False, error=_("That page does not exist; here is the whole list."))
    return page("portal/documents.html", listed=listed, links=file_links(listed["items"]),
                paged=bool(query), error=None)


def file_links(files: list[dict[str, Any]]) -> dict[str, str]:
    """Each file's download address: signed, naming the file, its project and the contact
    it is shown to, never the session; it works for ``FILE_LINK_SECONDS`` with that
    contact's session only (a mail scanner or a link preview holds none: what it fetches
    is the sign-in page, and nothing is counted)."""
    signed = signer(FILE_SALT)
    account = g.account
    return {f["id"]: url_for("projects.download", signed=signed.dumps(
        [account["workspace_id"], f["project_id"], f["id"], account["contact"]["id"]])) for f in files}


@bp.get("/portal/project-files/<signed>")
def download(signed: str) -> Any:
    """A project's file, to the contact it was shown to, while the project is still shared
    with their customer and the file still there; documents records the download as the
    customer opening the document. Sent in pieces, never held whole."""
    try:
        workspace_id, project_id, file_id, contact_id = signer(FILE_SALT).loads(
            signed, max_age=int(current_app.config["FILE_LINK_SECONDS"]))
    except (BadSignature, ValueError, TypeError):
        raise NotFound("Unknown link.") from None
    account = current_account()
    if account is None or account["contact"]["id"] != contact_id or account["workspace_id"] != workspace_id:
        raise NotFound("Unknown link.")
    capability = account["capability"]
    opened = documents().open_project_file(capability, project_id, file_id)

    def pieces() -> Iterator[bytes]:
        for n in range(opened["pieces"]):
            piece = documents().project_file_piece(capability, project_id, file_id, n)
            yield base64.b64decode(piece["content_b64"])

    return Response(stream_with_context(pieces()), mimetype=opened["content_type"], headers={
        "Content-Disposition": content_disposition("attachment", opened["name"]),
        "Content-Length": str(opened["size"]), "Cache-Control": "no-store"})
