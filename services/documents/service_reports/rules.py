"""Service-report rules: states, which files a report may carry, what is frozen when the
appointment is done, and what a signature must hold."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from porchlight import signature_path
from porchlight.validation import Form
from services.documents.service_reports.models import Attachment, FrozenReport, ServiceReport
from services.documents.work_orders.models import WorkOrder

STATUSES = ("draft", "awaiting_signature", "signed")
STATUS_LABELS = {"draft": "In preparation", "awaiting_signature": "Awaiting your signature",
                 "signed": "Signed"}
MAX_ATTACHMENTS = 20
MAX_NARRATIVE = 20_000


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


def read_signature(form: Form) -> dict[str, Any]:
    """A customer's drawn signature as the portal sends it. The path is parsed here too,
    before anything changes, not only by the signatures service."""
    form.reject_unknown(("signer_name", "signature_path", "ip", "user_agent"))
    signer = form.text("signer_name", max_length=120)
    path = form.data.get("signature_path")
    if not isinstance(path, str) or not path:
        form.error("signature_path", "Please sign in the box.")
    else:
        try:
            signature_path.parse(path)
        except signature_path.SignaturePathError as exc:
            form.error("signature_path", str(exc))
    ip = form.text("ip", max_length=45)
    if ip is not None:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            form.error("ip", "Must be an IP address.")
    user_agent = form.text("user_agent", required=False, max_length=512)
    return {"signer_name": signer, "signature_path": path, "ip": ip, "user_agent": user_agent}
