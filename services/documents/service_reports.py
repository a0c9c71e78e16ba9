"""Service-report rules: states, and which files a report may carry."""

from __future__ import annotations

from typing import Any

from porchlight.clock import isoformat
from services.documents.models import ServiceReport, WorkOrder

STATUSES = ("draft", "awaiting_signature", "signed")
STATUS_LABELS = {"draft": "In preparation", "awaiting_signature": "Awaiting your signature",
                 "signed": "Signed"}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 20

# The first bytes of every type we accept. The declared type must agree with them:
# a file is what its content says it is, not what its name claims.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
ALLOWED_TYPES = tuple(_SIGNATURES)


def sniff(content: bytes) -> str | None:
    for content_type, prefixes in _SIGNATURES.items():
        if any(content.startswith(prefix) for prefix in prefixes):
            if content_type == "image/webp" and content[8:12] != b"WEBP":
                continue
            return content_type
    return None


def customer_view(report: ServiceReport, work_order: WorkOrder | None) -> dict[str, Any]:
    """What the customer is shown — and, when they sign, the snapshot they signed."""
    return {
        "number": report.number,
        "work_order_number": work_order.number if work_order else None,
        "work_order_title": work_order.title if work_order else None,
        "location": work_order.location if work_order else None,
        "narrative": report.narrative or "",
        "attachments": [
            {"id": a.file_id, "filename": a.filename, "content_type": a.content_type,
             "size": a.size, "is_image": a.content_type in IMAGE_TYPES}
            for a in report.attachments
        ],
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "completed_at": isoformat(report.completed_at),
    }


def snapshot(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("status", "status_label")}
