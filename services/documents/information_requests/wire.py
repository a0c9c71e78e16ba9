"""Information requests on the wire: as staff see them, and as a customer's contacts do
(the card of their list, and the request with its items)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.information_requests import InformationRequest as RequestReply
from porchlight.contracts.words import N_
from services.documents.information_requests.models import InformationRequest, RequestItem
from services.documents.information_requests.rules import progress

# Each state as the customer reads it.
STATUS_LABELS = {
    "sent": N_("Awaiting your answers"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
}
ITEM_LABELS = {
    "pending": N_("To answer"),
    "submitted": N_("Answered"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned"),
}


def _files(item: RequestItem) -> list[dict[str, Any]]:
    return [{"id": f.id, "name": f.name, "content_type": f.content_type, "size": f.size} for f in item.files]


def _progress(request: InformationRequest) -> dict[str, int]:
    accepted, total = progress(request.items)
    return {"accepted": accepted, "total": total}


def request_to_wire(request: InformationRequest) -> dict[str, Any]:
    return answer(RequestReply, **{
        "id": str(request.id), "number": request.number, "title": request.title,
        "project_id": request.project_id, "status": request.status, "progress": _progress(request),
        "items": [{"id": item.id, "position": n, "prompt": item.prompt, "status": item.status,
                   "answer_text": item.answer_text, "files": _files(item),
                   "answered_at": isoformat(item.answered_at), "answered_by": item.answered_by,
                   "note": item.note, "reviewed_at": isoformat(item.reviewed_at)}
                  for n, item in enumerate(request.items, start=1)],
        "sent_at": isoformat(request.sent_at), "completed_at": isoformat(request.completed_at),
        "cancelled_at": isoformat(request.cancelled_at), "created_at": isoformat(request.created_at),
        "updated_at": isoformat(request.updated_at),
    })


def customer_card(request: InformationRequest, project_name: str | None) -> dict[str, Any]:
    """A request as the customer's list shows it."""
    shown = _progress(request)
    return {"id": str(request.id), "number": request.number, "title": request.title,
            "project_id": request.project_id, "project_name": project_name, "status": request.status,
            "status_label": STATUS_LABELS[request.status], "progress": shown,
            "percent": shown["accepted"] * 100 // shown["total"], "sent_at": isoformat(request.sent_at)}


def customer_request(request: InformationRequest, project_name: str | None,
                     may_answer: bool) -> dict[str, Any]:
    """The request's page: its card, and each item with the customer's latest answer, the
    note of a returned one (only while it is returned), and whether it may be answered now."""
    open_ = request.status in ("sent", "in_progress")
    return {
        **customer_card(request, project_name), "may_answer": may_answer and open_,
        "items": [{"id": item.id, "position": n, "prompt": item.prompt, "status": item.status,
                   "status_label": ITEM_LABELS[item.status], "answer_text": item.answer_text,
                   "files": _files(item), "answered_at": isoformat(item.answered_at),
                   "note": item.note if item.status == "returned" else None,
                   "answerable": may_answer and open_ and item.status in ("pending", "returned")}
                  for n, item in enumerate(request.items, start=1)],
    }
