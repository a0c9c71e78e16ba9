"""Service reports: what was done on a work order, with photos and PDFs attached, completed
for the customer to sign in the portal, and the signed PDF once it is rendered. Documents
owns them."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, g

from gateway.admin.common import SHARE_LINK_LINKS, rpc, uploaded_file, wire
from gateway.admin.operations import Api
from gateway.web import content_disposition
from porchlight.contracts.notifications import NotifyCustomer
from porchlight.contracts.service_reports import (
    UPLOAD_RULES,
    CompletedServiceReport,
    ServiceReport,
    ServiceReportInput,
    ServiceReportList,
    ServiceReportPatch,
    ServiceReportQuery,
)

api = Api(Blueprint("service_reports", __name__))

# The operations a created report's id leads to (OpenAPI links, as ``common.SHARE_LINK_LINKS``).
REPORT_LINKS = {op: {"report_id": "/id"} for op in (
    "getServiceReport", "updateServiceReport", "addServiceReportAttachment", "completeServiceReport")}


@api.operation("POST", "/service-reports", "createServiceReport", tag="service reports", status=201,
               body=ServiceReportInput, reply=ServiceReport, errors=(409, 422), links=REPORT_LINKS)
def create_service_report(body: ServiceReportInput) -> Any:
    """Create a service report

    Creates a draft report on a work order, numbered SR-0001, … unless `number` is given. Checked by
    the documents service: the work order must be one of the workspace's (422); a number already
    used is a conflict (409).
    """
    with rpc() as services:
        return services.documents.create_service_report(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/service-reports", "listServiceReports", tag="service reports",
               query=ServiceReportQuery, reply=ServiceReportList, errors=(422,))
def list_service_reports(query: ServiceReportQuery) -> Any:
    """List service reports

    The workspace's service reports, newest first; filter by `work_order_id`, `status` or
    `updated_since`.
    """
    with rpc() as services:
        return services.documents.list_service_reports(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/service-reports/<report_id>", "getServiceReport", tag="service reports",
               reply=ServiceReport, errors=(404,))
def get_service_report(report_id: str) -> Any:
    """Get a service report

    One service report with its attachments, signature and PDF state.
    """
    with rpc() as services:
        return services.documents.get_service_report(g.workspace_id, report_id)


@api.operation("PATCH", "/service-reports/<report_id>", "updateServiceReport", tag="service reports",
               body=ServiceReportPatch, reply=ServiceReport, errors=(404, 409, 422))
def update_service_report(report_id: str, body: ServiceReportPatch) -> Any:
    """Change a service report

    Changes the narrative of a draft report; once completed the customer may have seen it, so
    editing is a conflict (409).
    """
    with rpc() as services:
        return services.documents.update_service_report(
            g.workspace_id, g.actor, report_id, wire(body, partial=True))


@api.operation("POST", "/service-reports/<report_id>/attachments", "addServiceReportAttachment",
               tag="service reports", status=201, upload=UPLOAD_RULES, reply=ServiceReport,
               errors=(404, 409, 413, 422),
               notes={422: "The field `file` is missing or empty, too large, of a type not allowed, "
                           "or its content does not match its type."})
def add_attachment(report_id: str) -> Any:
    """Attach a photo or PDF

    Uploads one file to a draft report as multipart/form-data in the field `file`.

    A report that is no longer a draft, or already full, is a conflict (409).
    """
    with rpc() as services:
        return services.documents.add_attachment(g.workspace_id, g.actor, report_id, uploaded_file())


@api.operation("POST", "/service-reports/<report_id>/complete", "completeServiceReport",
               tag="service reports", status=201, body=NotifyCustomer, optional_body=True,
               reply=CompletedServiceReport, errors=(404, 409, 422),
               links={**SHARE_LINK_LINKS, "getServiceReport": {"report_id": "/service_report/id"}})
def complete_service_report(report_id: str, body: NotifyCustomer) -> Any:
    """Complete a service report

    The appointment is done: the draft now awaits the customer's signature, frozen as it is, and a
    link they can view and sign with is minted; the links sent before stop working. The customer is
    emailed the link unless `notify_customer` is false or they have no address (`customer_email`
    says which); they then also get their signed copy by email. The body may be left out. Completing
    again changes nothing else; a signed report is a conflict (409). If the link cannot be made just
    now (503), the report is completed all the same: completing it again makes the link and emails
    it.
    """
    with rpc() as services:
        return services.documents.complete_service_report(
            g.workspace_id, g.actor, report_id, wire(body))


@api.operation("GET", "/service-reports/<report_id>/pdf", "getSignedServiceReportPdf", tag="service reports",
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
    """Download the signed PDF

    The PDF rendered after the customer signed. It is rendered in the background: until it is ready
    (`pdf.ready`), and before the customer has signed, this answers 409 with the reason.
    """
    with rpc() as services:
        pdf = services.documents.get_signed_pdf(g.workspace_id, report_id)
    return Response(base64.b64decode(pdf["content_b64"]), mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition("attachment", pdf["filename"]),
        "X-Content-SHA256": pdf["sha256"],
    })
