"""What an inbox item says: the text staff read for each customer action, made from the
fact alone. documents puts in the fact what the item shows — the record's number and
title, the signer, the reason, the total (``porchlight.contracts.events``) — so an item
never waits on documents, and never goes without its number."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from porchlight.contracts.events import (
    EstimateAnswered,
    EstimateApproved,
    Event,
    EventRefused,
    ServiceReportSigned,
    check,
)

log = logging.getLogger(__name__)

CUSTOMER = "The customer"

Fact = TypeVar("Fact", bound=Event)


def read(model: type[Fact], payload: Any) -> Fact | None:
    """The fact, or ``None`` for a payload that is not such a fact (it makes no item)."""
    try:
        event = check(model.source, model.event, payload)
    except EventRefused as exc:
        log.warning("no inbox item: %s", exc)
        return None
    return event if isinstance(event, model) else None


def cause(event: EstimateAnswered | ServiceReportSigned) -> str:
    """The one key of the fact an item comes from: a revision is answered once, a report is
    signed once."""
    if isinstance(event, EstimateAnswered):
        return f"{event.event}:{event.estimate_id}:{event.revision}"
    return f"{event.event}:{event.service_report_id}"


def _quoted(text: str | None) -> str:
    return f" “{text}”" if text else ""


def estimate_item(event: EstimateAnswered) -> dict[str, Any]:
    """The item for an estimate's answer."""
    kind = "estimate_accepted" if isinstance(event, EstimateApproved) else "estimate_declined"
    who = event.signer_name or CUSTOMER
    what = f"estimate {event.number}{_quoted(event.title)} (revision {event.revision})"
    details: dict[str, Any] = {"signer_name": event.signer_name, "certificate_id": event.certificate_id}
    if kind == "estimate_accepted":
        title = f"Estimate {event.number} accepted"
        total = f", total {event.total}" if event.total else ""
        summary = f"{who} accepted {what}{total}."
    else:
        details["reason"] = event.reason
        title = f"Estimate {event.number} declined"
        because = f" Reason:{_quoted(event.reason)}." if event.reason else " No reason given."
        summary = f"{who} declined {what}.{because}"
    return {"kind": kind, "title": title, "summary": summary, "entity_type": "estimate",
            "entity_id": event.estimate_id, "entity_number": event.number, **details}


def service_report_item(event: ServiceReportSigned) -> dict[str, Any]:
    """The item for a signed service report."""
    job = (f" for work order {event.work_order_number}{_quoted(event.work_order_title)}"
           if event.work_order_number else "")
    return {
        "kind": "service_report_signed",
        "title": f"Service report {event.number} signed",
        "summary": f"{event.signer_name} signed service report {event.number}{job}.",
        "entity_type": "service_report", "entity_id": event.service_report_id,
        "entity_number": event.number, "signer_name": event.signer_name,
        "certificate_id": event.certificate_id,
    }
