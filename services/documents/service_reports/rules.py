"""Service-report rules: states, which files a report may carry, what is frozen when the
appointment is done, and what a signature must hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.answers import ReportSignature
from porchlight.contracts.words import N_
from services.documents.service_reports.models import Attachment, FrozenReport, ServiceReport
from services.documents.work_orders.models import WorkOrder

# Each state as the customer reads it (translated where it is shown).
STATUS_LABELS = {"draft": N_("In preparation"), "awaiting_signature": N_("Awaiting your signature"),
                 "signed": N_("Signed")}


def freeze(report: ServiceReport, work_order: WorkOrder | None, completed_at: datetime) -> FrozenReport:
    """What the customer will be shown and asked to sign, fixed when the appointment is
    marked done: later edits of the work order do not change what they sign."""
    return FrozenReport(
        number=report.number,
        work_order_number=work_order.number if work_order else None,
        work_order_title=work_order.title if work_order else None,
        location=work_order.location if work_order else None,
        narrative=report.narrative or "",
        completed_at=completed_at,
        attachments=[Attachment(file_id=a.file_id, filename=a.filename, content_type=a.content_type,
                                size=a.size, sha256=a.sha256) for a in report.attachments],
    )


def read_signature(data: Any) -> dict[str, Any]:
    """A customer's drawn signature as the portal sends it; the path is parsed here too,
    before anything changes, not only by the signatures service."""
    return parse(ReportSignature, data).model_dump()
