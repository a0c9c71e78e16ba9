"""What an inbox item says: the text staff read for each customer action, made from the
fact and the owner's staff view of the record (``documents.get_estimate`` /
``get_service_report``). The view may be missing — documents did not answer — and then the
item says what the fact alone tells, so no action goes unseen for want of a number."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# event (documents) → the inbox item's kind
KINDS = {
    "estimate_approved": "estimate_accepted",
    "estimate_rejected": "estimate_declined",
    "service_report_signed": "service_report_signed",
}
CUSTOMER = "The customer"


ID_KEYS = {
    "estimate_approved": ("estimate_id", "revision"),
    "estimate_rejected": ("estimate_id", "revision"),
    "service_report_signed": ("service_report_id",),
}


def cause(event: str, payload: Any) -> str | None:
    """The one key of the fact an item comes from — a revision is answered once, a report
    is signed once — or ``None`` for a payload that is not such a fact (it makes no item)."""
    keys = (*ID_KEYS[event], "workspace_id", "occurred_at")
    if not isinstance(payload, dict) or any(payload.get(k) in (None, "") for k in keys):
        log.warning("%s without %s: no inbox item", event, ", ".join(keys))
        return None
    return ":".join([event, *(str(payload[k]) for k in ID_KEYS[event])])


def _quoted(text: str | None) -> str:
    return f" “{text}”" if text else ""


def estimate_item(event: str, payload: dict[str, Any], view: dict[str, Any] | None) -> dict[str, Any]:
    """The item for an estimate's answer. ``view`` is the staff view of the estimate;
    its outcome is used only if it is the answer to the revision the fact names."""
    kind = KINDS[event]
    view = view or {}
    outcome = view.get("outcome") or {}
    if outcome.get("revision") != payload.get("revision"):
        outcome = {}
    number = view.get("number")
    name = f"Estimate {number}" if number else "An estimate"
    signer = outcome.get("signer_name")
    who = signer or CUSTOMER
    what = f"estimate {number}" if number else "an estimate"
    details: dict[str, Any] = {"signer_name": signer, "certificate_id": payload.get("certificate_id")}
    if kind == "estimate_accepted":
        title = f"{name} accepted"
        total = f", total {outcome['total']}" if outcome.get("total") else ""
        summary = (f"{who} accepted {what}{_quoted(view.get('title'))} "
                   f"(revision {payload['revision']}){total}.")
    else:
        reason = outcome.get("reason")
        details["reason"] = reason
        title = f"{name} declined"
        because = f" Reason:{_quoted(reason)}." if reason else " No reason given."
        summary = (f"{who} declined {what}{_quoted(view.get('title'))} "
                   f"(revision {payload['revision']}).{because}")
    return {"kind": kind, "title": title, "summary": summary, "entity_type": "estimate",
            "entity_id": payload["estimate_id"], "entity_number": number, **details}


def service_report_item(payload: dict[str, Any], view: dict[str, Any] | None) -> dict[str, Any]:
    """The item for a signed service report."""
    view = view or {}
    number = view.get("number")
    signer = view.get("signed_by")
    what = f"service report {number}" if number else "a service report"
    work_order = view.get("work_order_number")
    job = (f" for work order {work_order}{_quoted(view.get('work_order_title'))}"
           if work_order else "")
    return {
        "kind": "service_report_signed",
        "title": f"Service report {number} signed" if number else "A service report was signed",
        "summary": f"{signer or CUSTOMER} signed {what}{job}.",
        "entity_type": "service_report", "entity_id": payload["service_report_id"],
        "entity_number": number, "signer_name": signer,
        "certificate_id": payload.get("certificate_id") or view.get("certificate_id"),
    }
