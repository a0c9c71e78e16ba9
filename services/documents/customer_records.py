"""A signed-in customer's records: what the portal's dashboard and lists show a contact,
scoped to their customer and to their role. A ``member`` never receives money — no
estimates, no prices — because this service leaves it out of its answer, not because a
page hides it."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.customer_lists import FILTERS, NOT_A_STATE, CustomerListQuery
from porchlight.contracts.errors import InvalidInput, NotFound, Unavailable
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.words import N_
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.estimates.rules import STATUS_LABELS as ESTIMATE_LABELS
from services.documents.estimates.wire import customer_view
from services.documents.service_reports.rules import STATUS_LABELS as REPORT_LABELS
from services.documents.work_orders.rules import CUSTOMER_LABELS

FINISHED = ("completed", "cancelled")
# Each list's states as its customer reads them.
LABELS = {"work_orders": CUSTOMER_LABELS, "estimates": ESTIMATE_LABELS, "service_reports": REPORT_LABELS}
LIST_LIMIT = 200
NO_LIST = N_("No such list.")
NO_RECORD = N_("No such record.")


def _estimate_line(estimate: Any, now: Any) -> dict[str, Any]:
    # A sent estimate past its end reads "Expired" before the sweep has marked it so.
    lapsed = estimate.status == "sent" and as_utc(estimate.expires_at) <= now
    return {
        "id": str(estimate.id), "number": estimate.number, "title": estimate.title,
        "status": "expired" if lapsed else estimate.status,
        "status_label": ESTIMATE_LABELS["expired" if lapsed else estimate.status],
        "valid_until": estimate.valid_until, "currency": estimate.currency,
        "total_minor": customer_view(estimate, None)["total_minor"],
        "awaiting": estimate.status == "sent" and not lapsed,
        # Awaiting an answer until then; a reader keeping this line keeps it no longer.
        "open_until": isoformat(estimate.expires_at) if estimate.status == "sent" and not lapsed else None,
    }


def _work_order_line(wo: Any) -> dict[str, Any]:
    return {"id": str(wo.id), "number": wo.number, "title": wo.title, "status": wo.status,
            "status_label": CUSTOMER_LABELS[wo.status], "open": wo.status not in FINISHED,
            "updated_at": isoformat(wo.updated_at)}


def _report_line(report: Any, titles: dict[str, str]) -> dict[str, Any]:
    return {"id": str(report.id), "number": report.number, "work_order_id": report.work_order_id,
            "work_order_title": titles.get(report.work_order_id), "status": report.status,
            "status_label": REPORT_LABELS[report.status], "awaiting": report.status == "awaiting_signature",
            "completed_at": isoformat(report.completed_at)}


class CustomerRecordsRpc(DocumentsDependencies):
    @rpc(expected_exceptions=(NotFound,))
    def customer_records(self, capability: str) -> dict[str, Any]:
        """The customer's work orders, estimates (owners only) and completed service
        reports, newest first, each with the plain-words status the customer reads and
        whether it waits on them: for the customer and role of a signed-in contact's grant."""
        grant = customer_access.session_of(capability)
        workspace_id, customer_id = grant.workspace_id, grant.customer_id
        orders = self.repo.work_orders.of_customer(workspace_id, customer_id, LIST_LIMIT)
        titles = {str(wo.id): wo.title for wo in orders}
        answer: dict[str, Any] = {
            "work_orders": [_work_order_line(wo) for wo in orders],
            "service_reports": [_report_line(r, titles) for r in
                                self.repo.service_reports.shown_on(workspace_id, list(titles), LIST_LIMIT)],
        }
        if grant.role in customer_access.ROLES_SEEING_MONEY:
            now = utcnow()
            estimates = self.repo.estimates.sent_to_customer(workspace_id, customer_id, LIST_LIMIT)
            answer["estimates"] = [_estimate_line(e, now) for e in estimates]
        return answer

    @rpc(expected_exceptions=(NotFound, InvalidInput))
    def customer_list(self, capability: str, kind: str, query: dict | None = None) -> dict[str, Any]:
        """One of a signed-in contact's lists — ``work_orders``, ``estimates`` (owners only:
        money), ``service_reports`` (completed ones) — a page at a time, newest first,
        filtered by state if asked (``CustomerListQuery``): ``items`` as the dashboard's
        lines, and ``next_cursor`` for the page after. A list the contact may not see is
        ``NotFound``, like an unknown one."""
        grant = customer_access.session_of(capability)
        money = grant.role in customer_access.ROLES_SEEING_MONEY
        if kind not in FILTERS or (kind == "estimates" and not money):
            raise NotFound(NO_LIST)
        request = parse(CustomerListQuery, query or {}, message=QUERY_ATTENTION)
        if request.status is not None and request.status not in FILTERS[kind]:
            raise InvalidInput(QUERY_ATTENTION, {"status": NOT_A_STATE})
        workspace_id, customer_id = grant.workspace_id, grant.customer_id
        limit, cursor = request.limit or DEFAULT_PAGE, request.cursor
        if kind == "work_orders":
            page, more = self.repo.work_orders.customer_page(workspace_id, customer_id, request.status,
                                                             cursor, limit)
            items = [_work_order_line(wo) for wo in page]
        elif kind == "estimates":
            page, more = self.repo.estimates.customer_page(workspace_id, customer_id, request.status,
                                                           cursor, limit)
            now = utcnow()
            items = [_estimate_line(e, now) for e in page]
        else:
            orders = self.repo.work_orders.ids_of_customer(workspace_id, customer_id)
            page, more = self.repo.service_reports.customer_page(workspace_id, orders, request.status,
                                                                 cursor, limit)
            titles = self.repo.work_orders.titles(workspace_id, [r.work_order_id for r in page])
            items = [_report_line(r, titles) for r in page]
        labels = LABELS[kind]
        return {"items": items, "next_cursor": next_cursor(page, more),
                # What the list can be filtered by, each state as the customer reads it.
                "filters": [[state, labels[state]] for state in FILTERS[kind]]}

    @rpc(expected_exceptions=(NotFound, Unavailable))
    def customer_record_grant(self, capability: str, entity_type: str, record_id: str) -> dict[str, Any]:
        """What a signed-in contact may do with one record, as a share link would grant it
        (``customer_access.permissions``). Anything else, another customer's record
        included, is NotFound."""
        grant = customer_access.session_of(capability)
        allowed = customer_access.permissions(self.repo, grant, entity_type, record_id, self.sharing) \
            if isinstance(record_id, str) else ()
        if not allowed:
            raise NotFound(NO_RECORD)
        return {"workspace_id": grant.workspace_id, "entity_type": entity_type, "entity_id": record_id,
                "permissions": list(allowed), "share_token_id": None}
