"""Work-order storage. Every query carries the workspace id; every change is one
conditional update whose filter names the state it expects."""

from __future__ import annotations

from typing import Any

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.words import N_
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.documents.numbering.repository import create_numbered
from services.documents.work_orders.models import WorkOrder
from services.documents.work_orders.rules import can_move


class WorkOrderRepository:
    def ensure_indexes(self) -> None:
        WorkOrder.ensure_indexes()

    def create(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> WorkOrder:
        if fields.get("status") == "completed":
            fields = {**fields, "completed_at": utcnow()}
        return create_numbered(WorkOrder, "work_order", workspace_id, actor, fields)

    def create_once_for_estimate(
        self, workspace_id: str, actor: str, estimate_id: str, fields: dict[str, Any],
    ) -> tuple[WorkOrder, bool]:
        """The estimate's work order, and whether this call created it. The unique index on
        ``estimate_id`` decides between racing conversions: the loser gets the winner's."""
        existing = self.find_for_estimate(workspace_id, estimate_id)
        if existing is not None:
            return existing, False
        try:
            return self.create(workspace_id, actor, {**fields, "estimate_id": estimate_id}), True
        except me.NotUniqueError:
            existing = self.find_for_estimate(workspace_id, estimate_id)
            if existing is None:
                raise
            return existing, False

    def find_for_estimate(self, workspace_id: str, estimate_id: str) -> WorkOrder | None:
        return WorkOrder.objects(workspace_id=workspace_id, estimate_id=estimate_id).first()

    def get(self, workspace_id: str, work_order_id: str) -> WorkOrder:
        return get_in_workspace(WorkOrder, workspace_id, work_order_id, N_("No such work order."))

    def find(self, workspace_id: str, work_order_id: str | None) -> WorkOrder | None:
        if not work_order_id or not is_object_id(work_order_id):
            return None
        return WorkOrder.objects(id=work_order_id, workspace_id=workspace_id).first()

    def by_id(self, workspace_id: str, ids: list[str]) -> dict[str, WorkOrder]:
        wanted = [i for i in set(ids) if is_object_id(i)]
        return {str(wo.id): wo for wo in WorkOrder.objects(workspace_id=workspace_id, id__in=wanted)}

    def page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
             limit: int) -> tuple[list[WorkOrder], bool]:
        """A page of the workspace's work orders newest first (``page_after``), narrowed by
        ``filters`` (``list_filters``)."""
        found = WorkOrder.objects(workspace_id=workspace_id, **filters)
        return page_after(WorkOrder, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def customer_page(self, workspace_id: str, customer_id: str, status: str | None, cursor: str | None,
                      limit: int) -> tuple[list[WorkOrder], bool]:
        """A page of the customer's work orders, newest first (``page_after``)."""
        query = WorkOrder.objects(workspace_id=workspace_id, customer_id=customer_id)
        if status:
            query = query.filter(status=status)
        return page_after(WorkOrder, query, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def ids_of_customer(self, workspace_id: str, customer_id: str) -> list[str]:
        """Every work order of the customer, by id: their reports are the customer's."""
        return [str(wo.id) for wo in WorkOrder.objects(workspace_id=workspace_id, customer_id=customer_id)
                .only("id")]

    def titles(self, workspace_id: str, ids: list[str]) -> dict[str, str]:
        return {str(wo.id): wo.title for wo in WorkOrder.objects(workspace_id=workspace_id, id__in=ids)
                .only("id", "title")}

    def of_customer(self, workspace_id: str, customer_id: str, limit: int) -> list[WorkOrder]:
        return list(WorkOrder.objects(workspace_id=workspace_id, customer_id=customer_id)
                    .order_by("-created_at", "-id").limit(limit))

    def apply_changes(
        self, workspace_id: str, actor: str, work_order_id: str, changes: dict[str, Any]
    ) -> tuple[WorkOrder, str | None]:
        """Apply changes in one conditional update; returns the result and the previous
        status when the status changed. The status read is part of the filter, so a
        concurrent change makes this call retry against the new state, never skip it."""
        for _ in range(5):
            current = self.get(workspace_id, work_order_id)
            updates = {f"set__{k}": v for k, v in changes.items() if k != "status"}
            target = changes.get("status")
            moved = target is not None and target != current.status
            if moved:
                if not can_move(current.status, target):
                    raise Conflict(
                        f"A work order that is {current.status.replace('_', ' ')} "
                        f"cannot become {target.replace('_', ' ')}."
                    )
                updates["set__status"] = target
                if target == "completed":
                    updates["set__completed_at"] = utcnow()
            if not updates:
                return current, None
            updated = WorkOrder.objects(
                id=current.id, workspace_id=workspace_id, status=current.status
            ).modify(new=True, set__updated_at=utcnow(), set__updated_by=actor, **updates)
            if updated is not None:
                return updated, current.status if moved else None
        raise Conflict("The work order is changing too fast; try again.")
