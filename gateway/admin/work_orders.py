"""Work orders: the jobs, with the status customers follow in the portal. Documents owns
them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.work_orders import (
    WorkOrder,
    WorkOrderInput,
    WorkOrderList,
    WorkOrderPatch,
    WorkOrderQuery,
)

api = Api(Blueprint("work_orders", __name__))


@api.operation("POST", "/work-orders", "createWorkOrder", tag="work orders", status=201, body=WorkOrderInput,
               reply=WorkOrder, errors=(409, 422),
               links={"getWorkOrder": {"work_order_id": "/id"}, "updateWorkOrder": {"work_order_id": "/id"}})
def create_work_order(body: WorkOrderInput) -> Any:
    """Create a work order

    Creates a work order, numbered WO-0001, WO-0002, … unless `number` is given. Checked by the
    documents service: `customer_id` must be a customer of the workspace (422); a number already
    used in the workspace is a conflict (409).
    """
    with rpc() as services:
        return services.documents.create_work_order(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/work-orders", "listWorkOrders", tag="work orders", query=WorkOrderQuery,
               reply=WorkOrderList, errors=(422,))
def list_work_orders(query: WorkOrderQuery) -> Any:
    """List work orders

    The workspace's work orders, newest first; filter by `status`, `customer_id` or `updated_since`.
    """
    with rpc() as services:
        return services.documents.list_work_orders(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/work-orders/<work_order_id>", "getWorkOrder", tag="work orders", reply=WorkOrder,
               errors=(404,))
def get_work_order(work_order_id: str) -> Any:
    """Get a work order

    One work order, internal notes included.
    """
    with rpc() as services:
        return services.documents.get_work_order(g.workspace_id, work_order_id)


@api.operation("PATCH", "/work-orders/<work_order_id>", "updateWorkOrder", tag="work orders",
               body=WorkOrderPatch, reply=WorkOrder, errors=(404, 409, 422))
def update_work_order(work_order_id: str, body: WorkOrderPatch) -> Any:
    """Change a work order

    Changes only the fields sent. Checked by the documents service: a status change must be an
    allowed move, and completed and cancelled work orders are final (409); `customer_id` must be a
    customer of the workspace (422).
    """
    with rpc() as services:
        return services.documents.update_work_order(
            g.workspace_id, g.actor, work_order_id, wire(body, partial=True))
