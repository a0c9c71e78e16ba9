"""A signed-in contact's projects: ``/portal/projects``, the projects shared with their
customer as a grid of cards (the most recently active first, a page at a time: "Show more"
is a plain link carrying the next page's cursor), and ``/portal/projects/<id>``, one
project — the hours, the person to call, the progress and its tabs.

Projects are seen only through a share (sharing owns shares; documents decides, on the
session's capability, what the contact may see). Every contact sees them, members too:
hours are not money. A project not shared with their customer, another customer's, or one
whose share stopped is the 404 page. Both pages come from the read model.

The tabs are links to sections of the same page: without a script each is a heading and
its content, one after the other; the stylesheet shows the one the address names
(``:target``), the first by default.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from gateway.portal.accounts import page, signed_in
from gateway.portal.language import _
from gateway.portal.reads import reads
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.words import N_

bp = Blueprint("projects", __name__)

# The tabs of a project's page, in order: each a section of the page (its id), its name
# (translated where shown) and its template, which starts with its heading
# ``<h2 id="<tab>-heading">``. Each further tab adds its line here and its template.
TABS = (("tasks", N_("Tasks"), "portal/_project_tasks.html"),)


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
    return page("portal/project.html", project=reads(current_app).project(g.account, project_id), tabs=TABS)
