"""A signed-in customer's records: what the portal's dashboard and lists show a contact,
scoped to their customer and to their role. A ``member`` never receives money — no
estimates, no prices — because this service leaves it out of its answer, not because a
page hides it."""

from __future__ import annotations

from typing import Any

from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.errors import NotFound
from porchlight.kit.service_rpc import rpc
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.estimates.rules import STATUS_LABELS as ESTIMATE_LABELS
from services.documents.estimates.wire import customer_view
from services.documents.service_reports.rules import STATUS_LABELS as REPORT_LABELS
from services.documents.work_orders.rules import CUSTOMER_LABELS

FINISHED = ("completed", "cancelled")
LIST_LIMIT = 200


def _estimate_line(estimate: Any, now: Any) -> dict[str, Any]:
    # A sent estimate past its end reads "Expired" before the sweep has marked it so.
    lapsed = estimate.status == "sent" and as_utc(estimate.expires_at) <= now
    return {
        "id": str(estimate.id), "number": estimate.number, "title": estimate.title,
        "status": "expired" if lapsed else estimate.status,
        "status_label": ESTIMATE_LABELS["expired" if lapsed else estimate.status],
        "valid_until": estimate.valid_until, "currency": estimate.currency,
        "total": customer_view(estimate, None)["total"],
        "awaiting": estimate.status == "sent" and not lapsed,
        # Awaiting an answer until then; a reader keeping this line keeps it no longer.
        "open_until": isoformat(estimate.expires_at) if estimate.status == "sent" and not lapsed else None,
    }


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
            "work_orders": [{
                "id": str(wo.id), "number": wo.number, "title": wo.title, "status": wo.status,
                "status_label": CUSTOMER_LABELS[wo.status], "open": wo.status not in FINISHED,
                "updated_at": isoformat(wo.updated_at),
            } for wo in orders],
            "service_reports": [{
                "id": str(r.id), "number": r.number, "work_order_id": r.work_order_id,
                "work_order_title": titles.get(r.work_order_id), "status": r.status,
                "status_label": REPORT_LABELS[r.status], "awaiting": r.status == "awaiting_signature",
                "completed_at": isoformat(r.completed_at),
            } for r in self.repo.service_reports.shown_on(workspace_id, list(titles), LIST_LIMIT)],
        }
        if grant.role in customer_access.ROLES_SEEING_MONEY:
            now = utcnow()
            estimates = self.repo.estimates.sent_to_customer(workspace_id, customer_id, LIST_LIMIT)
            answer["estimates"] = [_estimate_line(e, now) for e in estimates]
        return answer

    @rpc(expected_exceptions=(NotFound,))
    def customer_record_grant(self, capability: str, entity_type: str, record_id: str) -> dict[str, Any]:
        """What a signed-in contact may do with one record, as a share link would grant it
        (``customer_access.permissions``). Anything else, another customer's record
        included, is NotFound."""
        grant = customer_access.session_of(capability)
        allowed = customer_access.permissions(self.repo, grant, entity_type, record_id) \
            if isinstance(record_id, str) else ()
        if not allowed:
            raise NotFound("No such record.")
        return {"workspace_id": grant.workspace_id, "entity_type": entity_type, "entity_id": record_id,
                "permissions": list(allowed), "share_token_id": None}
