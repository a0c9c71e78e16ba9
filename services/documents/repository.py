"""Documents storage. Every query carries the workspace id."""

from __future__ import annotations

from typing import Any

import mongoengine as me

from porchlight.clock import utcnow
from porchlight.errors import Conflict, NotFound
from porchlight.validation import is_object_id
from services.documents.models import Counter, WorkOrder
from services.documents.work_orders import can_move

NUMBER_PREFIX = {"work_order": "WO"}


class DocumentsRepository:
    def ensure_indexes(self) -> None:
        for model in (Counter, WorkOrder):
            model.ensure_indexes()

    def _next_number(self, workspace_id: str, kind: str) -> str:
        counter = Counter.objects(id=f"{workspace_id}:{kind}").modify(
            upsert=True, new=True, inc__seq=1
        )
        return f"{NUMBER_PREFIX[kind]}-{counter.seq:04d}"

    # -- work orders ------------------------------------------------------------------
    def create_work_order(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> WorkOrder:
        number = fields.pop("number", None)
        now = utcnow()
        if fields.get("status") == "completed":
            fields["completed_at"] = now
        for _ in range(1000):
            candidate = number or self._next_number(workspace_id, "work_order")
            try:
                return WorkOrder(
                    workspace_id=workspace_id, number=candidate, created_by=actor,
                    updated_by=actor, created_at=now, updated_at=now, **fields,
                ).save(force_insert=True)
            except me.NotUniqueError:
                if number:
                    raise Conflict(
                        f"Work order number {number} is already used in this workspace."
                    ) from None
                # A number typed by hand took this slot in the sequence: take the next.
        raise Conflict("Could not allocate a work-order number.")

    def get_work_order(self, workspace_id: str, work_order_id: str) -> WorkOrder:
        work_order = (
            WorkOrder.objects(id=work_order_id, workspace_id=workspace_id).first()
            if is_object_id(work_order_id) else None
        )
        if work_order is None:
            raise NotFound("No such work order.")
        return work_order

    def list_work_orders(self, workspace_id: str, status: str | None, limit: int) -> list[WorkOrder]:
        query = WorkOrder.objects(workspace_id=workspace_id)
        if status:
            query = query.filter(status=status)
        return list(query.order_by("-created_at").limit(limit))

    def update_work_order(
        self, workspace_id: str, actor: str, work_order_id: str, changes: dict[str, Any]
    ) -> tuple[WorkOrder, str | None]:
        """Apply changes in one conditional update; returns the result and the previous
        status when the status changed. The status read is part of the filter, so a
        concurrent change makes this call retry against the new state, never skip it."""
        for _ in range(5):
            current = self.get_work_order(workspace_id, work_order_id)
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
