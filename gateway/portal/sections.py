"""A signed-in contact's sections, one per kind of record: ``/portal/work-orders``,
``/portal/estimates`` (owners: money) and ``/portal/service-reports``. Each lists the
customer's records newest first, a page at a time ("Show more" is a plain link carrying
the next page's cursor: no script), filterable by state; the lines are the dashboard's
(``portal/_records.html``). The pages come from the read model; documents decides what
the contact may list (a member asking for estimates gets the 404 page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from gateway.portal.accounts import page, signed_in
from gateway.portal.language import _
from gateway.portal.reads import reads
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.words import N_

bp = Blueprint("sections", __name__)

# Each section: its list, its heading, what an empty list says (translated where shown).
SECTIONS = {
    "work-orders": ("work_orders", N_("Work orders"), N_("No work orders yet.")),
    "estimates": ("estimates", N_("Estimates"), N_("No estimates yet.")),
    "service-reports": ("service_reports", N_("Service reports"), N_("No service reports.")),
}
@bp.get("/portal/<any('work-orders', 'estimates', 'service-reports'):section>")
@signed_in
def section(section: str) -> Any:
    kind, heading, empty = SECTIONS[section]
    query = {name: request.args[name] for name in ("status", "cursor") if request.args.get(name)}
    try:
        listed = reads(current_app).customer_list(g.account, kind, query)
    except InvalidInput as exc:  # a state or cursor that is not this list's: the first page, said so
        listed = reads(current_app).customer_list(g.account, kind, {})
        return page("portal/section.html", 422, section=section, kind=kind, heading=heading,
                    empty=empty, listed=listed, state=None, paged=False, errors=exc.fields,
                    error=_("That filter or page does not exist; here is the whole list."))
    return page("portal/section.html", section=section, kind=kind, heading=heading, empty=empty,
                listed=listed, state=query.get("status"), paged="cursor" in query, error=None, errors={})
