"""Estimates on the wire: the staff view, and the customer's — which is also the snapshot
of the offer that the customer's answer is recorded against."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer, money
from porchlight.contracts.clock import isoformat
from porchlight.contracts.estimates import Estimate as EstimateReply
from services.documents.estimates.models import Estimate
from services.documents.estimates.rules import OPEN, STATUS_LABELS, priced_lines


def estimate_to_wire(estimate: Estimate) -> dict[str, Any]:
    """The staff view of an estimate, with its outcome when there is one."""
    view = customer_view(estimate, None)
    outcome = estimate.outcome
    return answer(EstimateReply, **{
        "id": str(estimate.id),
        "workspace_id": estimate.workspace_id,
        "number": estimate.number,
        "title": estimate.title,
        "customer_id": estimate.customer_id,
        "currency": estimate.currency,
        "valid_until": estimate.valid_until,
        "expires_at": isoformat(estimate.expires_at),
        "notes": estimate.notes,
        "status": estimate.status,
        "revision": estimate.revision,
        "line_items": view["lines"],
        "subtotal_minor": view["subtotal_minor"],
        "tax_minor": view["tax_minor"],
        "total_minor": view["total_minor"],
        "subtotal": view["subtotal"],
        "tax": view["tax"],
        "total": view["total"],
        "sent_at": isoformat(estimate.sent_at),
        "approved_at": isoformat(estimate.approved_at),
        "rejected_at": isoformat(estimate.rejected_at),
        "expired_at": isoformat(estimate.expired_at),
        "converted_at": isoformat(estimate.converted_at),
        "work_order_id": estimate.work_order_id,
        "outcome": None if outcome is None else {
            "response": outcome.response,
            "revision": outcome.revision,
            "signer_name": outcome.signer_name,
            "reason": outcome.reason,
            "included_optional": list(outcome.included_optional),
            "total_minor": outcome.total_minor,
            "total": money.format_minor(outcome.total_minor or 0, estimate.currency),
            "certificate_id": outcome.certificate_id,
            "snapshot_sha256": outcome.snapshot_sha256,
            "ip": outcome.ip,
            "user_agent": outcome.user_agent,
        },
        "created_at": isoformat(estimate.created_at),
        "updated_at": isoformat(estimate.updated_at),
    })


def answer_display(estimate: Estimate) -> dict[str, Any]:
    """What ``estimate_approved`` / ``estimate_rejected`` show of an answered estimate
    besides its ids (``porchlight.contracts.events.EstimateAnswered``): the staff view's
    number, title and outcome — a reason only for a decline."""
    staff = estimate_to_wire(estimate)
    outcome = staff["outcome"]
    return {"number": staff["number"], "title": staff["title"], "signer_name": outcome["signer_name"],
            "reason": outcome["reason"] if outcome["response"] == "decline" else None,
            "total": outcome["total"]}


def customer_view(estimate: Estimate, include: list[str] | None) -> dict[str, Any]:
    """Exactly what the customer is shown for this revision and choice of optional lines.
    The signed snapshot is this dict; the page is rendered from it."""
    if estimate.outcome is not None and include is None:
        include = list(estimate.outcome.included_optional)
    lines = priced_lines(estimate, include)
    sums = money.totals((line["net_minor"], line["tax_minor"]) for line in lines if line["included"])
    view = {
        "number": estimate.number,
        "title": estimate.title,
        "revision": estimate.revision,
        "currency": estimate.currency,
        "valid_until": estimate.valid_until,
        "notes": estimate.notes or "",
        "lines": lines,
        **sums,
        "status": estimate.status,
        "status_label": STATUS_LABELS[estimate.status],
        "can_respond": estimate.status in OPEN,
        # The last moment an answer is taken; a page kept in memory is not kept past it.
        "open_until": isoformat(estimate.expires_at) if estimate.status in OPEN else None,
    }
    for key in ("subtotal", "tax", "total"):
        view[key] = money.format_minor(view[f"{key}_minor"], estimate.currency)
    if estimate.outcome is not None:
        view["outcome"] = {
            "response": estimate.outcome.response,
            "signer_name": estimate.outcome.signer_name,
            "answered_at": isoformat(estimate.approved_at or estimate.rejected_at),
            "certificate_id": estimate.outcome.certificate_id,
        }
    return view


def snapshot(view: dict[str, Any]) -> dict[str, Any]:
    """The part of the customer view that was the offer itself (not the answer state)."""
    answer_state = ("status", "status_label", "can_respond", "open_until", "outcome")
    return {k: v for k, v in view.items() if k not in answer_state}
