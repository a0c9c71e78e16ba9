"""The work-order RPC methods of the documents service."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.work_orders import WorkOrderInput, WorkOrderPatch, WorkOrderQuery
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import list_filters, next_cursor
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.work_orders.wire import work_order_for_customer, work_order_to_wire
from services.documents.workspace import ensure_customer


class WorkOrderRpc(DocumentsDependencies):
    @rpc(expected_exceptions=(InvalidInput, Conflict, Unavailable))
    @idempotent()
    def create_work_order(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        order = parse(WorkOrderInput, data)
        fields = order.model_dump(exclude={"number"} if order.number is None else set())
        ensure_customer(self.identity, workspace_id, order.customer_id)
        wo = self.repo.work_orders.create(workspace_id, actor, fields)
        self.dispatch("work_order_created", fact(workspace_id, actor, work_order_id=str(wo.id),
                                                 customer_id=wo.customer_id))
        return work_order_to_wire(wo)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    @idempotent()
    def update_work_order(
        self, workspace_id: str, actor: str, work_order_id: str, data: dict
    ) -> dict[str, Any]:
        patch = parse(WorkOrderPatch, data)
        changes = patch.model_dump(include=patch.sent())
        self.repo.work_orders.get(workspace_id, work_order_id)  # an unknown one is 404, not 422
        ensure_customer(self.identity, workspace_id, changes.get("customer_id"))
        wo, previous_status = self.repo.work_orders.apply_changes(
            workspace_id, actor, work_order_id, changes)
        if set(changes) - {"status"}:
            self.dispatch("work_order_updated", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                fields=sorted(set(changes) - {"status"}), customer_id=wo.customer_id,
            ))
        if previous_status is not None:
            self.dispatch("work_order_status_changed", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                from_status=previous_status, to_status=wo.status,
            ))
        return work_order_to_wire(wo)

    @rpc(expected_exceptions=(NotFound,))
    def get_work_order(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        return work_order_to_wire(self.repo.work_orders.get(workspace_id, work_order_id))

    @rpc(expected_exceptions=(NotFound,))
    def get_work_order_for_customer(self, capability: str, work_order_id: str) -> dict[str, Any]:
        """What the customer sees, for a grant that allows viewing it (``customer_access``)."""
        grant = customer_access.allowed(self.repo, capability, "work_order", work_order_id, "view")
        workspace_id = grant.workspace_id
        return work_order_for_customer(self.repo.work_orders.get(workspace_id, work_order_id))

    @rpc(expected_exceptions=(InvalidInput,))
    def list_work_orders(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's work orders newest first, a page at a time (``WorkOrderQuery``)."""
        request = parse(WorkOrderQuery, query, message=QUERY_ATTENTION)
        found, more = self.repo.work_orders.page(workspace_id, list_filters(request), cursor=request.cursor,
                                                 limit=request.limit or DEFAULT_PAGE)
        return {"work_orders": [work_order_to_wire(wo) for wo in found],
                "next_cursor": next_cursor(found, more)}
