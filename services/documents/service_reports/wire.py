"""Service reports on the wire: the staff view, and the customer's — built from what was
frozen at completion, and also the snapshot the customer's signature is recorded against."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.service_reports import ServiceReport as ServiceReportReply
from services.documents.files.rules import IMAGE_TYPES
from services.documents.service_reports.models import FrozenReport, ServiceReport
from services.documents.service_reports.rules import STATUS_LABELS
from services.documents.work_orders.models import WorkOrder


def service_report_to_wire(report: ServiceReport, work_order: WorkOrder | None) -> dict[str, Any]:
    """The staff view. Until the report is completed it follows its work order
    (``work_order``); from then on it shows the work order as it was frozen."""
    shown = report.frozen or work_order
    return answer(ServiceReportReply, **{
        "id": str(report.id),
        "workspace_id": report.workspace_id,
        "number": report.number,
        "work_order_id": report.work_order_id,
        "work_order_number": _work_order_field(shown, "number"),
        "work_order_title": _work_order_field(shown, "title"),
        "narrative": report.narrative,
        "status": report.status,
        "attachments": [
            {"id": a.file_id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in report.attachments
        ],
        "completed_at": isoformat(report.completed_at),
        "signed_by": report.signed_by,
        "signed_at": isoformat(report.signed_at),
        "signed_ip": report.signed_ip,
        "signed_user_agent": report.signed_user_agent,
        "certificate_id": report.certificate_id,
        "snapshot_sha256": report.snapshot_sha256,
        "pdf": {"ready": bool(report.pdf_file_id), "file_id": report.pdf_file_id,
                "sha256": report.pdf_sha256},
        "created_at": isoformat(report.created_at),
    })


def signature_display(report: ServiceReport) -> dict[str, Any]:
    """What ``service_report_signed`` shows of a signed report besides its ids
    (``porchlight.contracts.events.ServiceReportSigned``), as the staff view shows it."""
    staff = service_report_to_wire(report, None)  # signed, so shown as frozen at completion
    return {"number": staff["number"], "signer_name": staff["signed_by"],
            "work_order_number": staff["work_order_number"], "work_order_title": staff["work_order_title"]}


def _work_order_field(shown: FrozenReport | WorkOrder | None, name: str) -> str | None:
    if shown is None:
        return None
    return getattr(shown, f"work_order_{name}" if isinstance(shown, FrozenReport) else name)


def customer_view(report: ServiceReport) -> dict[str, Any]:
    """What the customer is shown of a completed report — only ever what was frozen when
    it was completed — and, when they sign, the snapshot they signed."""
    frozen = report.frozen
    view = {
        "number": frozen.number,
        "work_order_number": frozen.work_order_number,
        "work_order_title": frozen.work_order_title,
        "location": frozen.location,
        "narrative": frozen.narrative or "",
        "attachments": [
            {"id": a.file_id, "filename": a.filename, "content_type": a.content_type,
             "size": a.size, "sha256": a.sha256, "is_image": a.content_type in IMAGE_TYPES}
            for a in frozen.attachments
        ],
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "completed_at": isoformat(frozen.completed_at),
    }
    if report.status == "signed":
        view["signed"] = {"signer_name": report.signed_by, "signed_at": isoformat(report.signed_at),
                          "certificate_id": report.certificate_id}
    return view


def snapshot(view: dict[str, Any]) -> dict[str, Any]:
    """The part of the customer view that is the report itself (not its signing state)."""
    return {k: v for k, v in view.items() if k not in ("status", "status_label", "signed")}
