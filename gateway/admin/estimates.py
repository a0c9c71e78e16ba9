"""Estimates: priced offers a customer accepts or declines in the portal. Staff draft and
change them, send one with a link to answer by, and turn an accepted one into a work order.
Documents owns them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import SHARE_LINK_LINKS, rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.estimates import (
    ConvertedEstimate,
    Estimate,
    EstimateInput,
    EstimateList,
    EstimatePatch,
    EstimateQuery,
    SentEstimate,
)
from porchlight.contracts.notifications import NotifyCustomer

api = Api(Blueprint("estimates", __name__))

# The operations a created estimate's id leads to (OpenAPI links, as ``common.SHARE_LINK_LINKS``).
ESTIMATE_LINKS = {op: {"estimate_id": "/id"} for op in (
    "getEstimate", "updateEstimate", "sendEstimate", "convertEstimate")}


@api.operation("POST", "/estimates", "createEstimate", tag="estimates", status=201, body=EstimateInput,
               reply=Estimate, errors=(409, 422), links=ESTIMATE_LINKS)
def create_estimate(body: EstimateInput) -> Any:
    """Create an estimate

    Creates a draft estimate in the workspace's currency (unless `currency` is given), numbered
    EST-0001, … unless `number` is given. Checked by the documents service (422): `customer_id` must
    be a customer of the workspace; `valid_until` must be today or later and within 5 years in the
    workspace's time zone; unit prices may have at most as many decimal places as the currency; the
    total must fit. A number already used in the workspace is a conflict (409).
    """
    with rpc() as services:
        return services.documents.create_estimate(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/estimates", "listEstimates", tag="estimates", query=EstimateQuery, reply=EstimateList,
               errors=(422,))
def list_estimates(query: EstimateQuery) -> Any:
    """List estimates

    The workspace's estimates, newest first; filter by `status`, `customer_id` or `updated_since`.
    """
    with rpc() as services:
        return services.documents.list_estimates(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/estimates/<estimate_id>", "getEstimate", tag="estimates", reply=Estimate,
               errors=(404,))
def get_estimate(estimate_id: str) -> Any:
    """Get an estimate

    One estimate with its priced lines and the customer's answer, if any. An open estimate past its
    date shows as expired.
    """
    with rpc() as services:
        return services.documents.get_estimate(g.workspace_id, estimate_id)


@api.operation("PATCH", "/estimates/<estimate_id>", "updateEstimate", tag="estimates", body=EstimatePatch,
               reply=Estimate, errors=(404, 409, 422))
def update_estimate(estimate_id: str, body: EstimatePatch) -> Any:
    """Change an estimate

    Changes only the fields sent, while the estimate is draft or sent; otherwise, or if it changed
    meanwhile, 409. Every edit makes a new revision the customer sees at once. The documents service
    checks the same rules as on create (422).
    """
    with rpc() as services:
        return services.documents.update_estimate(
            g.workspace_id, g.actor, estimate_id, wire(body, partial=True))


@api.operation("POST", "/estimates/<estimate_id>/send", "sendEstimate", tag="estimates", status=201,
               body=NotifyCustomer, optional_body=True, reply=SentEstimate, errors=(404, 409, 422),
               links={**SHARE_LINK_LINKS, "getEstimate": {"estimate_id": "/estimate/id"}})
def send_estimate(estimate_id: str, body: NotifyCustomer) -> Any:
    """Send an estimate

    Marks a draft sent (sending a sent one again changes nothing else) and mints a link the customer
    can view and answer with; the links sent before stop working. The customer is emailed the link
    unless `notify_customer` is false or they have no address (`customer_email` says which); they
    then also get one reminder 48 hours before the estimate ends. The body may be left out. Any
    other state is a conflict (409). If the link cannot be made just now (503), the estimate is sent
    all the same: sending it again makes the link and emails it.
    """
    with rpc() as services:
        return services.documents.send_estimate(g.workspace_id, g.actor, estimate_id, wire(body))


@api.operation("POST", "/estimates/<estimate_id>/convert", "convertEstimate", tag="estimates",
               reply=ConvertedEstimate, errors=(404, 409))
def convert_estimate(estimate_id: str) -> Any:
    """Turn an estimate into a work order

    Creates a work order from an accepted estimate and links the two. Repeating it returns the same
    work order; an estimate that is not accepted, or whose acceptance is still being recorded, is a
    conflict (409).
    """
    with rpc() as services:
        work_order = services.documents.convert_estimate(g.workspace_id, g.actor, estimate_id)
        return {"work_order": work_order,
                "estimate": services.documents.get_estimate(g.workspace_id, estimate_id)}
