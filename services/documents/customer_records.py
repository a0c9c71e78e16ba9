"""A signed-in customer's records: what the portal's dashboard and lists show a contact,
scoped to their customer and to their role. A ``member`` never receives money — no
estimates, no prices — because this service leaves it out of its answer, not because a
page hides it."""

from __future__ import annotations

from typing import Any

from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.errors import NotFound
from porchlight.kit.service_rpc import rpc
from services.documents.dependencies import DocumentsDependencies
from services.documents.estimates.rules import STATUS_LABELS as ESTIMATE_LABELS
from services.documents.estimates.wire import customer_view
from services.documents.service_reports.rules import STATUS_LABELS as REPORT_LABELS
from services.documents.work_orders.rules import CUSTOMER_LABELS

ROLES_SEEING_MONEY = ("owner",)
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
    }


class CustomerRecordsRpc(DocumentsDependencies):
    @rpc
    def customer_records(self, workspace_id: str, customer_id: str, role: str) -> dict[str, Any]:
        """The customer's work orders, estimates (owners only) and completed service
        reports, newest first, each with the plain-words status the customer reads and
        whether it waits on them."""
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
        if role in ROLES_SEEING_MONEY:
            now = utcnow()
            estimates = self.repo.estimates.sent_to_customer(workspace_id, customer_id, LIST_LIMIT)
            answer["estimates"] = [_estimate_line(e, now) for e in estimates]
        return answer

    @rpc(expected_exceptions=(NotFound,))
    def customer_record_grant(self, workspace_id: str, customer_id: str, role: str,
                              entity_type: str, record_id: str) -> dict[str, Any]:
        """What a signed-in contact of ``customer_id`` may do with one record, as a share
        link would grant it: a work order to view; an estimate (not a draft) to view and
        answer — owners only; a completed report to view and sign. Anything else,
        another customer's record included, is NotFound."""
        permissions = self._customer_permissions(workspace_id, customer_id, role, entity_type, record_id)
        if permissions is None:
            raise NotFound("No such record.")
        return {"workspace_id": workspace_id, "entity_type": entity_type, "entity_id": record_id,
                "permissions": permissions, "share_token_id": None}

    def _customer_permissions(self, workspace_id: str, customer_id: str, role: str,
                              entity_type: str, record_id: str) -> list[str] | None:
        if entity_type == "work_order":
            wo = self.repo.work_orders.get(workspace_id, record_id)
            return ["view"] if wo.customer_id == customer_id else None
        if entity_type == "estimate":
            estimate = self.repo.estimates.get(workspace_id, record_id)
            theirs = estimate.customer_id == customer_id and estimate.status != "draft"
            return ["view", "respond"] if theirs and role in ROLES_SEEING_MONEY else None
        if entity_type == "service_report":
            report = self.repo.service_reports.get(workspace_id, record_id)
            if report.status not in ("awaiting_signature", "signed"):
                return None
            wo = self.repo.work_orders.get(workspace_id, report.work_order_id)
            return ["view", "sign"] if wo.customer_id == customer_id else None
        return None
