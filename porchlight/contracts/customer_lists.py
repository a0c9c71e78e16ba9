"""A signed-in customer's lists of records, a page at a time (``documents.customer_list``):
the kinds a contact may list, the states each can be filtered by, and the query. A member
may not list estimates (money): documents answers that as an unknown list."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.estimates import STATUSES as ESTIMATE_STATUSES
from porchlight.contracts.paging import PageQuery
from porchlight.contracts.projects import Status as ProjectStatus
from porchlight.contracts.service_reports import STATUSES as REPORT_STATUSES
from porchlight.contracts.words import N_
from porchlight.contracts.work_orders import STATUSES as WORK_ORDER_STATUSES

Kind = Literal["work_orders", "estimates", "service_reports"]
# The states each list can be filtered by: what a customer can see of each kind.
FILTERS: dict[str, tuple[str, ...]] = {
    "work_orders": WORK_ORDER_STATUSES,
    "estimates": tuple(s for s in ESTIMATE_STATUSES if s != "draft"),
    "service_reports": tuple(s for s in REPORT_STATUSES if s != "draft"),
}


ALL_STATES = tuple(sorted({state for states in FILTERS.values() for state in states}))
State = Literal[ALL_STATES]  # type: ignore[valid-type]
NOT_A_STATE = N_("Not a state of this list.")


class CustomerListQuery(PageQuery):
    """Documents also refuses a state that is not one of the list's (``FILTERS``)."""

    status: State = Field(None, description="Only records in this state.")


class CustomerProjectQuery(PageQuery):
    """``documents.customer_projects``: the projects shared with the customer, a page at a
    time, the most recently active first."""

    status: ProjectStatus = Field(None, description="Only projects in this state.")
