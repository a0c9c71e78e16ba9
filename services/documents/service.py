"""documents: the customer-facing records of a workspace (work orders, for now)."""

from __future__ import annotations

import re
from typing import Any

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from porchlight.clock import isoformat
from porchlight.errors import NotFound
from porchlight.events import fact
from porchlight.storage import Store
from porchlight.validation import Form
from services.documents.models import ALIAS, WorkOrder
from services.documents.repository import DocumentsRepository
from services.documents.work_orders import CUSTOMER_LABELS, STATUSES

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
WORK_ORDER_EDITABLE = ("title", "status", "description", "location", "customer_id", "internal_notes")


def work_order_to_wire(wo: WorkOrder) -> dict[str, Any]:
    """The staff view, internal notes included."""
    return {
        "id": str(wo.id),
        "workspace_id": wo.workspace_id,
        "number": wo.number,
        "title": wo.title,
        "status": wo.status,
        "status_label": CUSTOMER_LABELS[wo.status],
        "description": wo.description,
        "location": wo.location,
        "customer_id": wo.customer_id,
        "internal_notes": wo.internal_notes,
        "completed_at": isoformat(wo.completed_at),
        "created_at": isoformat(wo.created_at),
        "updated_at": isoformat(wo.updated_at),
    }


def work_order_for_customer(wo: WorkOrder) -> dict[str, Any]:
    """What a customer may see. Built field by field — never by removing fields from the
    staff view — so a field added later stays private until someone decides otherwise."""
    return {
        "number": wo.number,
        "title": wo.title,
        "status": wo.status,
        "status_label": CUSTOMER_LABELS[wo.status],
        "description": wo.description,
        "location": wo.location,
        "completed_at": isoformat(wo.completed_at),
    }


def _work_order_fields(form: Form) -> dict[str, Any]:
    fields = {
        "title": form.text("title", max_length=200),
        "status": form.choice("status", STATUSES, default=None if form.partial else "new"),
        "description": form.text("description", required=False, max_length=10_000, multiline=True),
        "location": form.text("location", required=False, max_length=500, multiline=True),
        "customer_id": form.object_id("customer_id", required=False),
        "internal_notes": form.text(
            "internal_notes", required=False, max_length=10_000, multiline=True
        ),
    }
    if form.partial:
        # Only what was sent changes; an explicit null or "" clears an optional field.
        return {k: v for k, v in fields.items() if form.has(k) and k not in form.errors}
    return fields


class DocumentsService:
    name = "documents"

    repo: DocumentsRepository = Store(ALIAS, DocumentsRepository)
    dispatch = EventDispatcher()

    @rpc
    def create_work_order(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        form = Form(data)
        form.reject_unknown(("number", *WORK_ORDER_EDITABLE))
        number = form.text("number", required=False, max_length=32)
        if number is not None and not _NUMBER.match(number):
            form.error("number", "Use letters, digits and . _ / - only (at most 32).")
        fields = _work_order_fields(form)
        form.check()
        if number:
            fields["number"] = number
        wo = self.repo.create_work_order(workspace_id, actor, fields)
        self.dispatch("work_order_created", fact(workspace_id, actor, work_order_id=str(wo.id)))
        return work_order_to_wire(wo)

    @rpc
    def update_work_order(
        self, workspace_id: str, actor: str, work_order_id: str, data: dict
    ) -> dict[str, Any]:
        form = Form(data, partial=True)
        form.reject_unknown(WORK_ORDER_EDITABLE)
        changes = _work_order_fields(form)
        if form.has("title") and changes.get("title") is None and "title" not in form.errors:
            form.error("title", "This field is required.")
        if form.has("status") and changes.get("status") is None and "status" not in form.errors:
            form.error("status", "This field is required.")
        form.check()
        wo, previous_status = self.repo.update_work_order(workspace_id, actor, work_order_id, changes)
        if set(changes) - {"status"}:
            self.dispatch("work_order_updated", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                fields=sorted(set(changes) - {"status"}),
            ))
        if previous_status is not None:
            self.dispatch("work_order_status_changed", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                from_status=previous_status, to_status=wo.status,
            ))
        return work_order_to_wire(wo)

    @rpc
    def get_work_order(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        return work_order_to_wire(self.repo.get_work_order(workspace_id, work_order_id))

    @rpc
    def get_work_order_for_customer(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        return work_order_for_customer(self.repo.get_work_order(workspace_id, work_order_id))

    @rpc
    def list_work_orders(
        self, workspace_id: str, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        form = Form({"status": status}, partial=True)
        form.choice("status", STATUSES, required=False)
        form.check()
        limit = max(1, min(int(limit), 500))
        return [work_order_to_wire(wo) for wo in self.repo.list_work_orders(workspace_id, status, limit)]

    @rpc
    def entity_exists(self, workspace_id: str, entity_type: str, entity_id: str) -> bool:
        """Whether the workspace holds this entity — asked before a share link is minted."""
        if entity_type == "work_order":
            self.repo.get_work_order(workspace_id, entity_id)
            return True
        raise NotFound("Links cannot be shared for this kind of record yet.")
