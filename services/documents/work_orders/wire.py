"""Work orders on the wire: the staff view and the customer's."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.work_orders import WorkOrder as WorkOrderReply
from services.documents.work_orders.models import WorkOrder
from services.documents.work_orders.rules import CUSTOMER_LABELS


def work_order_to_wire(wo: WorkOrder) -> dict[str, Any]:
    """The staff view, internal notes included."""
    return answer(WorkOrderReply, **{
        "id": str(wo.id),
        "workspace_id": wo.workspace_id,
        "number": wo.number,
        "title": wo.title,
        "status": wo.status,
        "status_label": CUSTOMER_LABELS[wo.status],
        "description": wo.description,
        "location": wo.location,
        "customer_id": wo.customer_id,
        "estimate_id": wo.estimate_id,
        "internal_notes": wo.internal_notes,
        "completed_at": isoformat(wo.completed_at),
        "created_at": isoformat(wo.created_at),
        "updated_at": isoformat(wo.updated_at),
    })


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
