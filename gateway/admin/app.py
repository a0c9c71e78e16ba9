"""The staff-facing JSON API. A bearer API key names the workspace; every call is
scoped to it, and another workspace's ids answer 404 exactly like ids that never existed.

This gateway only translates HTTP to RPC and back: it checks each request against its
contract (``porchlight.contracts``), and every rule about the data — does the customer
exist, may this link be minted, which currency applies — is the owning service's.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway.admin.openapi import Api, BadBody
from gateway.web import amqp_client, configure, content_disposition, install_security_headers, status_for
from porchlight.client import ServiceUnavailable, typed
from porchlight.contracts import Contract, Query
from porchlight.contracts.callers.admin import AdminServices
from porchlight.contracts.common import Health
from porchlight.contracts.contacts import (
    Contact,
    ContactInput,
    ContactList,
    ContactPatch,
    ContactQuery,
    Invitation,
    TemporaryPassword,
)
from porchlight.contracts.customers import Customer, CustomerInput, CustomerList, CustomerQuery
from porchlight.contracts.errors import InvalidInput, PorchlightError, TooManyRequests, Unauthorized
from porchlight.contracts.estimates import (
    ConvertedEstimate,
    Estimate,
    EstimateInput,
    EstimateList,
    EstimatePatch,
    EstimateQuery,
    SentEstimate,
)
from porchlight.contracts.evidence import Evidence
from porchlight.contracts.notifications import (
    EmailDetail,
    EmailPage,
    EmailQuery,
    InboxItem,
    InboxPage,
    InboxQuery,
    MarkedAllRead,
    NotifyCustomer,
)
from porchlight.contracts.service_reports import (
    UPLOAD_RULES,
    CompletedServiceReport,
    ServiceReport,
    ServiceReportInput,
    ServiceReportList,
    ServiceReportPatch,
    ServiceReportQuery,
)
from porchlight.contracts.share_links import (
    MintedShareToken,
    ShareToken,
    ShareTokenInput,
    ShareTokenList,
    ShareTokenQuery,
)
from porchlight.contracts.work_orders import (
    WorkOrder,
    WorkOrderInput,
    WorkOrderList,
    WorkOrderPatch,
    WorkOrderQuery,
)
from porchlight.contracts.workspaces import MAX_LOGO_BYTES, Workspace, WorkspacePatch

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
api = Api(blueprint)

# Where the id of what an operation created is found, for the operations that use it
# (OpenAPI links: they also guide the stateful phase of the API's contract test).
SHARE_LINK_LINKS = {"revokeShareToken": {"token_id": "/share_token/id"},
                    "rotateShareToken": {"token_id": "/share_token/id"}}
ESTIMATE_LINKS = {op: {"estimate_id": "/id"} for op in (
    "getEstimate", "updateEstimate", "sendEstimate", "convertEstimate")}
REPORT_LINKS = {op: {"report_id": "/id"} for op in (
    "getServiceReport", "updateServiceReport", "addServiceReportAttachment", "completeServiceReport")}


def error(status: int, code: str, message: str, fields: dict | None = None) -> Any:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


PAGED = ("A page holds `limit` items (1 to 100, 25 by default); pass its `next_cursor` as `cursor` "
         "for the next page (a cursor that names no item of this list is 422).")


@contextmanager
def rpc() -> Iterator[AdminServices]:
    """The services, as the admin API declared its calls to them."""
    yield typed(amqp_client(current_app), AdminServices)


def wire(model: Contract | Query, *, partial: bool = False) -> dict[str, Any]:
    """What the caller sent, as checked: trimmed, blank as null; in a PATCH (``partial``)
    the fields that were not sent are left out, so they do not change."""
    return model.model_dump(mode="json", exclude_unset=partial)


@blueprint.before_request
def authenticate() -> Any:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your staff API key as 'Authorization: Bearer <key>'.")
    with rpc() as services:
        who = services.identity.authenticate_api_key(key.strip())
    g.workspace_id = who["workspace_id"]
    g.actor = f"api_key:{who['api_key_id']}"
    return None


# -- the workspace --------------------------------------------------------------------
@api.operation("GET", "/workspace", "getWorkspace", tag="workspace", summary="Get your workspace",
               description="The workspace the API key belongs to: the name, brand colour and logo "
               "customers see on the portal, and the currency and time zone used for new records.",
               reply=Workspace, errors=(404,))
def get_workspace() -> Any:
    with rpc() as services:
        return services.identity.get_workspace(g.workspace_id)


@api.operation("PATCH", "/workspace", "updateWorkspace", tag="workspace",
               summary="Change your workspace",
               description="Changes only the fields sent; customers see new branding on their next "
               "page view. A new currency or time zone applies to estimates created or re-dated "
               "afterwards: existing estimates keep their currency and the moment they end.",
               body=WorkspacePatch, reply=Workspace, errors=(404, 422))
def update_workspace(body: WorkspacePatch) -> Any:
    with rpc() as services:
        return services.identity.update_workspace(g.workspace_id, g.actor, wire(body, partial=True))


LOGO_RULES = (f"PNG, JPEG or WebP, at most {MAX_LOGO_BYTES // 1024} KB; its content must be of "
              "the type it is sent as. It is stored without its image metadata.")
LOGO_UPLOAD = {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": LOGO_RULES}}},
}}


@api.operation("PUT", "/workspace/logo", "setWorkspaceLogo", tag="workspace",
               summary="Upload your logo",
               description="The logo customers see on the portal's pages and in emails, sent as "
               "multipart/form-data in the field `file`. " + LOGO_RULES + " The portal serves it "
               "from its own address (`logo_url`), so no other host sees who views a page. The "
               "same image again changes nothing.",
               upload=LOGO_UPLOAD, reply=Workspace, errors=(404, 413, 422),
               notes={422: "The field `file` is missing or empty, too large, not PNG, JPEG or "
                           "WebP, or its content does not match its type."})
def set_workspace_logo() -> Any:
    file = uploaded_file()
    with rpc() as services:
        return services.identity.set_workspace_logo(g.workspace_id, g.actor, {
            "content_type": file["content_type"], "content_b64": file["content_b64"]})


@api.operation("POST", "/workspace/logo/remove", "removeWorkspaceLogo", tag="workspace",
               summary="Remove your logo",
               description="Customers see no logo from their next page view. Removing again "
                           "changes nothing.",
               reply=Workspace, errors=(404,))
def remove_workspace_logo() -> Any:
    with rpc() as services:
        return services.identity.remove_workspace_logo(g.workspace_id, g.actor)


# -- customers ------------------------------------------------------------------------
@api.operation("POST", "/customers", "createCustomer", tag="customers", summary="Add a customer",
               description="Creates a customer in the workspace. Identity requires an email "
               "address or a phone number (or both).",
               status=201, body=CustomerInput, reply=Customer, errors=(422,),
               links={"getCustomer": {"customer_id": "/id"}})
def create_customer(body: CustomerInput) -> Any:
    with rpc() as services:
        return services.identity.create_customer(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/customers", "listCustomers", tag="customers", summary="List customers",
               description="The workspace's customers by name; `q` finds those whose name or email "
               "address contains it. " + PAGED, query=CustomerQuery, reply=CustomerList, errors=(422,))
def list_customers(query: CustomerQuery) -> Any:
    with rpc() as services:
        return services.identity.list_customers(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/customers/<customer_id>", "getCustomer", tag="customers",
               summary="Get a customer", description="One customer of the workspace.",
               reply=Customer, errors=(404,))
def get_customer(customer_id: str) -> Any:
    with rpc() as services:
        return services.identity.get_customer(g.workspace_id, customer_id)


# -- portal contacts ------------------------------------------------------------------
CONTACT = "/customers/<customer_id>/contacts/<contact_id>"


@api.operation("POST", "/customers/<customer_id>/contacts", "createContact", tag="contacts",
               summary="Add a portal contact",
               description="A person of the customer who may sign in to the portal once invited. "
               "Their address must not belong to another contact of the workspace who has access "
               "(409). An `owner` sees everything shared with the customer; a `member` never sees "
               "money.",
               status=201, body=ContactInput, reply=Contact, errors=(404, 409, 422))
def create_contact(customer_id: str, body: ContactInput) -> Any:
    with rpc() as services:
        return services.identity.create_contact(g.workspace_id, g.actor, customer_id, wire(body))


@api.operation("GET", "/customers/<customer_id>/contacts", "listContacts", tag="contacts",
               summary="List a customer's portal contacts",
               description="Every contact of the customer, by name, those whose access was removed "
               "included. " + PAGED,
               query=ContactQuery, reply=ContactList, errors=(404, 422))
def list_contacts(customer_id: str, query: ContactQuery) -> Any:
    with rpc() as services:
        return services.identity.list_contacts(g.workspace_id, customer_id, wire(query, partial=True))


@api.operation("GET", CONTACT, "getContact", tag="contacts", summary="Get a portal contact",
               description="One contact, with their invitation status and last sign-in.",
               reply=Contact, errors=(404,))
def get_contact(customer_id: str, contact_id: str) -> Any:
    with rpc() as services:
        return services.identity.get_contact(g.workspace_id, customer_id, contact_id)


@api.operation("PATCH", CONTACT, "updateContact", tag="contacts", summary="Change a portal contact",
               description="Changes the name, phone or role. A contact whose access was removed "
               "cannot change (409).",
               body=ContactPatch, reply=Contact, errors=(404, 409, 422))
def update_contact(customer_id: str, contact_id: str, body: ContactPatch) -> Any:
    with rpc() as services:
        return services.identity.update_contact(
            g.workspace_id, g.actor, customer_id, contact_id, wire(body, partial=True))


@api.operation("POST", CONTACT + "/invite", "inviteContact", tag="contacts",
               summary="Invite a contact to the portal",
               description="Emails the contact a sign-in link and a 6-digit code (for another "
               "device), valid once for 3 days. Inviting again sends a new invitation and the "
               "old one stops working once the new one is on its way. At most 50 invitations sent "
               "by staff per workspace in any 24 hours (a customer's owners have their own window "
               "in the portal): the next answers 429 with `Retry-After` and the invitation that was "
               "out keeps working. A contact whose access was removed is a conflict (409).",
               reply=Invitation, errors=(404, 409, 429))
def invite_contact(customer_id: str, contact_id: str) -> Any:
    with rpc() as services:
        return services.identity.invite_contact(g.workspace_id, g.actor, customer_id, contact_id)


@api.operation("POST", CONTACT + "/temporary-password", "setTemporaryPassword", tag="contacts",
               summary="Give a contact a temporary password",
               description="Returns a one-time password, shown only here, for a contact who cannot "
               "receive email; they must choose their own when they sign in with it. Their open "
               "sessions end.",
               reply=TemporaryPassword, errors=(404, 409))
def set_temporary_password(customer_id: str, contact_id: str) -> Any:
    with rpc() as services:
        return services.identity.set_temporary_password(g.workspace_id, g.actor, customer_id, contact_id)


@api.operation("POST", CONTACT + "/remove-access", "removeContactAccess", tag="contacts",
               summary="Remove a contact's access",
               description="Ends every session of the contact at once and stops their links and "
               "codes; what they asked for or answered stays. Their address is free for a new "
               "contact. Removing again changes nothing.",
               reply=Contact, errors=(404,))
def remove_contact_access(customer_id: str, contact_id: str) -> Any:
    with rpc() as services:
        return services.identity.remove_access(g.workspace_id, g.actor, customer_id, contact_id)


# -- work orders ----------------------------------------------------------------------
@api.operation("POST", "/work-orders", "createWorkOrder", tag="work orders",
               summary="Create a work order",
               description="Creates a work order, numbered WO-0001, WO-0002, … unless `number` is "
               "given. Checked by the documents service: `customer_id` must be a customer of the "
               "workspace (422); a number already used in the workspace is a conflict (409).",
               status=201, body=WorkOrderInput, reply=WorkOrder, errors=(409, 422),
               links={"getWorkOrder": {"work_order_id": "/id"}, "updateWorkOrder": {"work_order_id": "/id"}})
def create_work_order(body: WorkOrderInput) -> Any:
    with rpc() as services:
        return services.documents.create_work_order(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/work-orders", "listWorkOrders", tag="work orders", summary="List work orders",
               description="The workspace's work orders, newest first; filter by `status`, "
               "`customer_id` or `updated_since`. " + PAGED,
               query=WorkOrderQuery, reply=WorkOrderList, errors=(422,))
def list_work_orders(query: WorkOrderQuery) -> Any:
    with rpc() as services:
        return services.documents.list_work_orders(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/work-orders/<work_order_id>", "getWorkOrder", tag="work orders",
               summary="Get a work order", description="One work order, internal notes included.",
               reply=WorkOrder, errors=(404,))
def get_work_order(work_order_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_work_order(g.workspace_id, work_order_id)


@api.operation("PATCH", "/work-orders/<work_order_id>", "updateWorkOrder", tag="work orders",
               summary="Change a work order",
               description="Changes only the fields sent. Checked by the documents service: a status "
               "change must be an allowed move, and completed and cancelled work orders are final "
               "(409); `customer_id` must be a customer of the workspace (422).",
               body=WorkOrderPatch, reply=WorkOrder, errors=(404, 409, 422))
def update_work_order(work_order_id: str, body: WorkOrderPatch) -> Any:
    with rpc() as services:
        return services.documents.update_work_order(
            g.workspace_id, g.actor, work_order_id, wire(body, partial=True))


# -- share links ----------------------------------------------------------------------
@api.operation("POST", "/share-tokens", "mintShareToken", tag="share links", summary="Mint a share link",
               description="Creates a link that opens one record in the customer portal; the token "
               "is returned only here. The documents service checks that the record exists in the "
               "workspace, the sharing service that the permissions suit its kind and the expiry "
               "is within the maximum (422). Without `expires_at` a link lives 180 days for a work "
               "order, until 30 days after the valid-until day for an estimate, 60 days for a "
               "service report; never more than two years.",
               status=201, body=ShareTokenInput, reply=MintedShareToken, errors=(422,),
               links=SHARE_LINK_LINKS)
def mint_share_token(body: ShareTokenInput) -> Any:
    with rpc() as services:
        return services.documents.share_record(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/share-tokens", "listShareTokens", tag="share links",
               summary="List a record's or a customer's share links",
               description="The links minted for one record (`entity_type` and `entity_id`) or for "
               "a customer's records (`customer_id`: the staff overview of what a customer was "
               "sent), newest first, revoked and expired ones included unless `live=true`. A "
               "record or customer the workspace does not hold answers 404. " + PAGED,
               query=ShareTokenQuery, reply=ShareTokenList, errors=(404, 422))
def list_share_tokens(query: ShareTokenQuery) -> Any:
    with rpc() as services:
        # their owners say whether the workspace holds the record or the customer (404
        # otherwise); sharing refuses a query that names neither
        if query.entity_type is not None and query.entity_id is not None:
            services.documents.entity_exists(g.workspace_id, query.entity_type, query.entity_id)
        if query.customer_id is not None:
            services.identity.get_customer(g.workspace_id, query.customer_id)
        return services.sharing.list_tokens(g.workspace_id, wire(query, partial=True))


@api.operation("POST", "/share-tokens/<token_id>/revoke", "revokeShareToken", tag="share links",
               summary="Revoke a share link",
               description="Stops the link from working at once. Revoking a revoked link changes nothing.",
               reply=ShareToken, errors=(404,))
def revoke_share_token(token_id: str) -> Any:
    with rpc() as services:
        return services.sharing.revoke_token(g.workspace_id, g.actor, token_id)


@api.operation("POST", "/share-tokens/<token_id>/rotate", "rotateShareToken", tag="share links",
               summary="Replace a share link",
               description="Revokes a live link and mints a new one with the same record, permissions "
               "and expiry. A revoked or expired link cannot be rotated (409).",
               status=201, reply=MintedShareToken, errors=(404, 409),
               links=SHARE_LINK_LINKS)
def rotate_share_token(token_id: str) -> Any:
    with rpc() as services:
        return services.sharing.rotate_token(g.workspace_id, g.actor, token_id)


# -- estimates ------------------------------------------------------------------------
@api.operation("POST", "/estimates", "createEstimate", tag="estimates", summary="Create an estimate",
               description="Creates a draft estimate in the workspace's currency (unless `currency` "
               "is given), numbered EST-0001, … unless `number` is given. Checked by the documents "
               "service (422): `customer_id` must be a customer of the workspace; `valid_until` must "
               "be today or later and within 5 years in the workspace's time zone; unit prices may "
               "have at most as many decimal places as the currency; the total must fit. A number "
               "already used in the workspace is a conflict (409).",
               status=201, body=EstimateInput, reply=Estimate, errors=(409, 422),
               links=ESTIMATE_LINKS)
def create_estimate(body: EstimateInput) -> Any:
    with rpc() as services:
        return services.documents.create_estimate(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/estimates", "listEstimates", tag="estimates", summary="List estimates",
               description="The workspace's estimates, newest first; filter by `status`, "
               "`customer_id` or `updated_since`. " + PAGED,
               query=EstimateQuery, reply=EstimateList, errors=(422,))
def list_estimates(query: EstimateQuery) -> Any:
    with rpc() as services:
        return services.documents.list_estimates(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/estimates/<estimate_id>", "getEstimate", tag="estimates",
               summary="Get an estimate",
               description="One estimate with its priced lines and the customer's answer, if any. An "
               "open estimate past its date shows as expired.",
               reply=Estimate, errors=(404,))
def get_estimate(estimate_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_estimate(g.workspace_id, estimate_id)


@api.operation("PATCH", "/estimates/<estimate_id>", "updateEstimate", tag="estimates",
               summary="Change an estimate",
               description="Changes only the fields sent, while the estimate is draft or sent; "
               "otherwise, or if it changed meanwhile, 409. Every edit makes a new revision the "
               "customer sees at once. The documents service checks the same rules as on create (422).",
               body=EstimatePatch, reply=Estimate, errors=(404, 409, 422))
def update_estimate(estimate_id: str, body: EstimatePatch) -> Any:
    with rpc() as services:
        return services.documents.update_estimate(
            g.workspace_id, g.actor, estimate_id, wire(body, partial=True))


@api.operation("POST", "/estimates/<estimate_id>/send", "sendEstimate", tag="estimates",
               summary="Send an estimate",
               description="Marks a draft sent (sending a sent one again changes nothing else) and "
               "mints a link the customer can view and answer with; the links sent before stop "
               "working. The customer is emailed the link unless `notify_customer` is false or "
               "they have no address (`customer_email` says which); they then also get one "
               "reminder 48 hours before the estimate ends. The body may be left out. Any other "
               "state is a conflict (409). If the link cannot be made just now (503), the estimate "
               "is sent all the same: sending it again makes the link and emails it.",
               status=201, body=NotifyCustomer, optional_body=True, reply=SentEstimate,
               errors=(404, 409, 422),
               links={**SHARE_LINK_LINKS, "getEstimate": {"estimate_id": "/estimate/id"}})
def send_estimate(estimate_id: str, body: NotifyCustomer) -> Any:
    with rpc() as services:
        return services.documents.send_estimate(g.workspace_id, g.actor, estimate_id, wire(body))


@api.operation("POST", "/estimates/<estimate_id>/convert", "convertEstimate", tag="estimates",
               summary="Turn an estimate into a work order",
               description="Creates a work order from an accepted estimate and links the two. "
               "Repeating it returns the same work order; an estimate that is not accepted, or whose "
               "acceptance is still being recorded, is a conflict (409).",
               reply=ConvertedEstimate, errors=(404, 409))
def convert_estimate(estimate_id: str) -> Any:
    with rpc() as services:
        work_order = services.documents.convert_estimate(g.workspace_id, g.actor, estimate_id)
        return {"work_order": work_order,
                "estimate": services.documents.get_estimate(g.workspace_id, estimate_id)}


# -- service reports ------------------------------------------------------------------
@api.operation("POST", "/service-reports", "createServiceReport", tag="service reports",
               summary="Create a service report",
               description="Creates a draft report on a work order, numbered SR-0001, … unless "
               "`number` is given. Checked by the documents service: the work order must be one of "
               "the workspace's (422); a number already used is a conflict (409).",
               status=201, body=ServiceReportInput, reply=ServiceReport, errors=(409, 422),
               links=REPORT_LINKS)
def create_service_report(body: ServiceReportInput) -> Any:
    with rpc() as services:
        return services.documents.create_service_report(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/service-reports", "listServiceReports", tag="service reports",
               summary="List service reports",
               description="The workspace's service reports, newest first; filter by "
               "`work_order_id`, `status` or `updated_since`. " + PAGED,
               query=ServiceReportQuery, reply=ServiceReportList, errors=(422,))
def list_service_reports(query: ServiceReportQuery) -> Any:
    with rpc() as services:
        return services.documents.list_service_reports(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/service-reports/<report_id>", "getServiceReport", tag="service reports",
               summary="Get a service report",
               description="One service report with its attachments, signature and PDF state.",
               reply=ServiceReport, errors=(404,))
def get_service_report(report_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_service_report(g.workspace_id, report_id)


@api.operation("PATCH", "/service-reports/<report_id>", "updateServiceReport", tag="service reports",
               summary="Change a service report",
               description="Changes the narrative of a draft report; once completed the customer may "
               "have seen it, so editing is a conflict (409).",
               body=ServiceReportPatch, reply=ServiceReport, errors=(404, 409, 422))
def update_service_report(report_id: str, body: ServiceReportPatch) -> Any:
    with rpc() as services:
        return services.documents.update_service_report(
            g.workspace_id, g.actor, report_id, wire(body, partial=True))


UPLOAD = {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": UPLOAD_RULES}}},
}}


@api.operation("POST", "/service-reports/<report_id>/attachments", "addServiceReportAttachment",
               tag="service reports", summary="Attach a photo or PDF",
               description="Uploads one file to a draft report as multipart/form-data in the field "
               "`file`. " + UPLOAD_RULES + " A report that is no longer a draft, or already full, is "
               "a conflict (409).",
               status=201, upload=UPLOAD, reply=ServiceReport, errors=(404, 409, 413, 422),
               notes={422: "The field `file` is missing or empty, too large, of a type not allowed, "
                           "or its content does not match its type."})
def add_attachment(report_id: str) -> Any:
    with rpc() as services:
        return services.documents.add_attachment(g.workspace_id, g.actor, report_id, uploaded_file())


def uploaded_file() -> dict[str, str]:
    """The multipart field ``file`` as a service takes an upload: its name, its declared
    type and its bytes in base64. The service checks them."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Some fields need attention.",
                           {"file": "Send the file as multipart/form-data in the field 'file'."})
    return {
        "filename": (upload.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file",
        "content_type": upload.mimetype,
        "content_b64": base64.b64encode(upload.read()).decode("ascii"),
    }


@api.operation("POST", "/service-reports/<report_id>/complete", "completeServiceReport",
               tag="service reports", summary="Complete a service report",
               description="The appointment is done: the draft now awaits the customer's signature, "
               "frozen as it is, and a link they can view and sign with is minted; the links sent "
               "before stop working. The customer is emailed the link unless `notify_customer` is "
               "false or they have no address (`customer_email` says which); they then also get "
               "their signed copy by email. The body may be left out. Completing again changes "
               "nothing else; a signed report is a conflict (409). If the link cannot be made just "
               "now (503), the report is completed all the same: completing it again makes the "
               "link and emails it.",
               status=201, body=NotifyCustomer, optional_body=True, reply=CompletedServiceReport,
               errors=(404, 409, 422),
               links={**SHARE_LINK_LINKS, "getServiceReport": {"report_id": "/service_report/id"}})
def complete_service_report(report_id: str, body: NotifyCustomer) -> Any:
    with rpc() as services:
        return services.documents.complete_service_report(
            g.workspace_id, g.actor, report_id, wire(body))


@api.operation("GET", "/service-reports/<report_id>/pdf", "getSignedServiceReportPdf",
               tag="service reports", summary="Download the signed PDF",
               description="The PDF rendered after the customer signed. It is rendered in the "
               "background: until it is ready (`pdf.ready`), and before the customer has signed, "
               "this answers 409 with the reason.",
               media="application/pdf", errors=(404, 409),
               reply_schema={"type": "string", "contentMediaType": "application/pdf"},
               reply_headers={
                   "X-Content-SHA256": {"description": "SHA-256 of the PDF, as in `pdf.sha256`.",
                                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                   "Content-Disposition": {"description": "attachment, with the file's name.",
                                           "schema": {"type": "string"}}},
               notes={409: "The report is not signed yet, or its PDF is still being rendered "
                           "(retry shortly)."})
def service_report_pdf(report_id: str) -> Any:
    with rpc() as services:
        pdf = services.documents.get_signed_pdf(g.workspace_id, report_id)
    return Response(base64.b64decode(pdf["content_b64"]), mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition("attachment", pdf["filename"]),
        "X-Content-SHA256": pdf["sha256"],
    })


# -- evidence -------------------------------------------------------------------------
@api.operation("GET", "/evidence/<certificate_id>", "getEvidence", tag="evidence",
               summary="Get the evidence of an answer",
               description="Everything recorded when a customer accepted or declined an estimate or "
               "signed a report, IP address and device included: for disputes.",
               reply=Evidence, errors=(404,))
def get_evidence(certificate_id: str) -> Any:
    with rpc() as services:
        return services.signatures.get_evidence(g.workspace_id, certificate_id)


# -- the staff inbox ------------------------------------------------------------------
@api.operation("GET", "/notifications/inbox", "listInbox", tag="inbox", summary="List the inbox",
               description="What customers did that staff should look at — an estimate accepted or "
               "declined, a service report signed — newest first by when the customer acted. "
               "`unread=true` leaves out the items marked read. " + PAGED,
               query=InboxQuery, reply=InboxPage, errors=(422,))
def list_inbox(query: InboxQuery) -> Any:
    with rpc() as services:
        return services.notifications.list_inbox(g.workspace_id, wire(query, partial=True))


@api.operation("POST", "/notifications/inbox/<item_id>/read", "markInboxItemRead", tag="inbox",
               summary="Mark an inbox item read",
               description="Marks one item read. Repeating it changes nothing: the item keeps the "
               "first `read_at` and `read_by`.",
               reply=InboxItem, errors=(404,))
def mark_inbox_item_read(item_id: str) -> Any:
    with rpc() as services:
        return services.notifications.mark_read(g.workspace_id, g.actor, item_id)


@api.operation("POST", "/notifications/inbox/read-all", "markInboxRead", tag="inbox",
               summary="Mark the whole inbox read",
               description="Marks every unread item read and answers how many it marked; nothing "
               "left to mark answers 0.",
               reply=MarkedAllRead)
def mark_inbox_read() -> Any:
    with rpc() as services:
        return services.notifications.mark_all_read(g.workspace_id, g.actor)


# -- the outbox -----------------------------------------------------------------------
@api.operation("GET", "/notifications/emails", "listEmails", tag="emails", summary="List emails",
               description="Every email Porchlight was asked to send for the workspace — to customers "
               "and to the office — newest first, with its delivery state. Filter by `recipient`, "
               "`status` or `customer_id`. " + PAGED,
               query=EmailQuery, reply=EmailPage, errors=(422,))
def list_emails(query: EmailQuery) -> Any:
    with rpc() as services:
        return services.notifications.list_emails(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/notifications/emails/<email_id>", "getEmail", tag="emails",
               summary="Get an email",
               description="One email with both parts as sent — except its share link, which is "
               "never kept — its attempts and the mail server's last refusal.",
               reply=EmailDetail, errors=(404,))
def get_email(email_id: str) -> Any:
    with rpc() as services:
        return services.notifications.get_email(g.workspace_id, email_id)


@api.operation("POST", "/notifications/emails/<email_id>/resend", "resendEmail", tag="emails",
               summary="Resend a failed email",
               description="Queues a failed email for delivery again. One that carried a share link "
               "gets a new link, and the old one stops working. An email that is not failed, or "
               "whose link was since replaced, revoked or has expired, is a conflict (409).",
               reply=EmailDetail, errors=(404, 409))
def resend_email(email_id: str) -> Any:
    with rpc() as services:
        return services.notifications.resend_email(g.workspace_id, g.actor, email_id)


INFO = {
    "title": "Porchlight staff API",
    "description": "Manage one workspace — its branding, customers, work orders, estimates, "
    "service reports and share links — and read the evidence of customers' answers. The API key names the "
    "workspace; records of other workspaces answer 404. Errors are JSON "
    "`{\"error\": {\"code\", \"message\", \"fields\"}}`.",
}
TAGS = [
    {"name": "workspace", "description": "Your business as customers see it on the portal."},
    {"name": "customers", "description": "The people and companies you work for."},
    {"name": "contacts", "description": "The customers' people who sign in to the portal."},
    {"name": "work orders", "description": "Jobs, with the status customers follow."},
    {"name": "estimates", "description": "Priced offers customers accept or decline."},
    {"name": "service reports", "description": "What was done, with photos, signed by the customer."},
    {"name": "evidence", "description": "The record behind every answer and signature."},
    {"name": "share links", "description": "Links that open a record in the portal."},
    {"name": "inbox", "description": "Customers' answers and signatures for staff to look at."},
    {"name": "emails", "description": "What Porchlight emailed customers and the office, and how it went."},
    {"name": "meta", "description": "About the API itself."},
]
BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "plk_...",
          "description": "A staff API key (plk_...) sent as `Authorization: Bearer <key>`."}
_TEXT = {"schema": {"type": "string"}}
META_PATHS = {
    "/api/v1/openapi.json": {"get": {
        "operationId": "getOpenApiDocument", "tags": ["meta"], "summary": "This description",
        "description": "The OpenAPI document of this API. Needs no API key.", "security": [],
        "responses": {"200": {"description": "An OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/healthz": {"get": {
        "operationId": "healthCheck", "tags": ["meta"], "summary": "Liveness check",
        "description": "Answers while the gateway process runs; it does not call the services.",
        "security": [],
        "responses": {"200": {"description": "The gateway is up.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    # Probes for the orchestrator (gateway/ops.py): plain text, the same on every process.
    "/livez": {"get": {
        "operationId": "liveness", "tags": ["meta"], "summary": "Liveness probe",
        "description": "Answers while the gateway process serves requests.", "security": [],
        "responses": {"200": {"description": "`ok`", "content": {"text/plain": _TEXT}}}}},
    "/readyz": {"get": {
        "operationId": "readiness", "tags": ["meta"], "summary": "Readiness probe",
        "description": "Whether the gateway is connected to the message broker, so it can reach the "
                       "services.", "security": [],
        "responses": {
            "200": {"description": "`ok`", "content": {"text/plain": _TEXT}},
            "503": {"description": "One line per failed check.", "content": {"text/plain": _TEXT}}}}},
}


@blueprint.get("/openapi.json")
def openapi() -> Any:
    return api.document(request.host_url.rstrip("/"), info=INFO, tags=TAGS, security_scheme=BEARER,
                        extra_paths=META_PATHS, extra_models=(Health,))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # An attachment may be 5 MB; multipart framing adds a little.
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    configure(app, test_config)
    app.register_blueprint(blueprint)
    install_security_headers(app)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.errorhandler(PorchlightError)
    def service_error(exc: PorchlightError) -> Any:
        fields = exc.fields if isinstance(exc, InvalidInput) else None
        response = error(status_for(exc), exc.code, exc.message, fields)
        if isinstance(exc, Unauthorized):
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="porchlight"'
        if response[1] == 503:
            response[0].headers["Retry-After"] = "10"
        if isinstance(exc, TooManyRequests):
            response[0].headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(BadBody)
    def bad_body(_exc: Exception) -> Any:
        return error(400, "bad_request", "The request body must be a JSON object "
                     "(send Content-Type: application/json).")

    @app.errorhandler(ServiceUnavailable)
    def unavailable(exc: Exception) -> Any:
        current_app.logger.warning("service unavailable: %s", exc)
        response = error(503, "unavailable", "A Porchlight service is not answering; try again shortly.")
        response[0].headers["Retry-After"] = "10"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        response, status = error(exc.code or 500, code, exc.description or exc.name)
        # Keep what the exception says about itself: a 405 names the methods it allows.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    return app
