"""Estimate rules: states, the fields staff send, line items and totals."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from porchlight.contracts import ATTENTION, money, parse
from porchlight.contracts.answers import EstimateAnswer
from porchlight.contracts.base import REQUIRED
from porchlight.contracts.clock import as_utc
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.estimates import EstimateInput, EstimatePatch, LineItemInput
from porchlight.contracts.words import N_
from services.documents.estimates.models import Estimate, EstimateOutcome, LineItem

OPEN = ("draft", "sent")  # the customer may still answer
EDITABLE = ("draft", "sent")
# Each state as the customer reads it (translated where it is shown).
STATUS_LABELS = {
    "draft": N_("Awaiting your answer"),
    "sent": N_("Awaiting your answer"),
    "approved": N_("Accepted"),
    "rejected": N_("Declined"),
    "expired": N_("Expired"),
    "converted": N_("Accepted, work booked"),
}
NOT_OPTIONAL = N_("Only optional lines of this estimate can be included.")
MAX_VALID_YEARS = 5
# Bounds that keep every answer recordable: totals fit a 64-bit integer with room to
# spare, and the snapshot of the offer (notes + lines, up to 4 bytes a character) stays
# well under what the signatures service accepts.
MAX_TOTAL_MINOR = 10**15
MAX_UNIT_PRICE_MINOR = 10**11


def end_of_day_utc(day: date, timezone: str) -> datetime:
    """The moment an estimate valid until ``day`` stops being valid: the following
    midnight in the workspace's time zone, in UTC."""
    local_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    return as_utc(local_midnight)


def priced_lines(estimate: Estimate, include: list[str] | None) -> list[dict[str, Any]]:
    """Every line with its amounts, and whether it counts: required lines always do,
    optional ones only when the customer included them."""
    chosen = set(include or [])
    lines = []
    for item in estimate.line_items:
        net, tax = money.line_amounts(Decimal(item.quantity), item.unit_price_minor, Decimal(item.tax_rate))
        lines.append({
            "id": item.id,
            "description": item.description,
            "quantity": item.quantity,
            "unit_price": money.format_minor(item.unit_price_minor, estimate.currency),
            "unit_price_minor": item.unit_price_minor,
            "tax_rate": item.tax_rate,
            "optional": item.optional,
            "included": (not item.optional) or item.id in chosen,
            "net_minor": net,
            "tax_minor": tax,
        })
    return lines


def read_fields(payload: EstimateInput | EstimatePatch, settings: dict[str, str],
                currency: str) -> dict[str, Any]:
    """The fields staff sent, checked against what only documents knows: "today" and the
    end of the valid-until day in the workspace's time zone (``settings``), the currency's
    decimal places, and the bound on the total. An edit (a patch) returns only what was
    sent; ``valid_until: null`` in an edit changes nothing."""
    sent = payload.sent() if isinstance(payload, EstimatePatch) else set(type(payload).model_fields)
    fields = {name: getattr(payload, name) for name in ("title", "customer_id", "notes") if name in sent}
    errors: dict[str, str] = {}
    if payload.valid_until is not None:
        today = datetime.now(ZoneInfo(settings["timezone"])).date()
        if payload.valid_until < today:
            errors["valid_until"] = "Must be today or later."
        elif (payload.valid_until - today).days > 366 * MAX_VALID_YEARS:
            errors["valid_until"] = f"Must be within {MAX_VALID_YEARS} years."
        else:
            fields["valid_until"] = payload.valid_until.isoformat()
            fields["expires_at"] = end_of_day_utc(payload.valid_until, settings["timezone"])
    if payload.line_items is not None:
        fields["line_items"] = _line_items(payload.line_items, currency, errors)
    if errors:
        raise InvalidInput(ATTENTION, errors)
    return fields


def _line_items(lines: list[LineItemInput], currency: str, errors: dict[str, str]) -> list[LineItem]:
    places = money.exponent(currency)
    items = []
    for index, line in enumerate(lines):
        if -line.unit_price.as_tuple().exponent > places:
            errors[f"line_items[{index}].unit_price"] = (
                f"Must be a number with at most {places} decimal places in {currency}.")
        unit_price_minor = money.to_minor(line.unit_price, currency)
        if unit_price_minor > MAX_UNIT_PRICE_MINOR:
            errors[f"line_items[{index}].unit_price"] = "Is larger than an estimate can hold."
        items.append(LineItem(
            id=f"l{index + 1}", description=line.description, quantity=str(line.quantity),
            unit_price_minor=unit_price_minor, tax_rate=str(line.tax_rate), optional=line.optional))
    if all(item.optional for item in items):
        errors["line_items"] = "At least one line must not be optional."
    everything = sum(sum(money.line_amounts(Decimal(i.quantity), i.unit_price_minor, Decimal(i.tax_rate)))
                     for i in items)
    if everything > MAX_TOTAL_MINOR:
        errors["line_items"] = "The total is larger than an estimate can hold."
    return items


def read_answer(data: Any) -> dict[str, Any]:
    """A customer's accept or decline as the portal sends it; a name is needed to accept."""
    answer = parse(EstimateAnswer, data)
    if answer.response == "accept" and not answer.signer_name:
        raise InvalidInput(ATTENTION, {"signer_name": REQUIRED})
    return answer.model_dump()


def optional_choice(estimate: Estimate, include: list[str] | None) -> list[str] | None:
    """The customer's choice of optional lines; anything that is not an optional line of
    this estimate is a bad request, not silently ignored."""
    if include is None:
        return None
    optional_ids = {item.id for item in estimate.line_items if item.optional}
    if (not isinstance(include, list) or not all(isinstance(i, str) for i in include)
            or not set(include) <= optional_ids):
        raise InvalidInput(ATTENTION, {"include_optional": NOT_OPTIONAL})
    return [item.id for item in estimate.line_items if item.id in set(include)]


def evidence_kind(response: str) -> str:
    return "acceptance" if response == "accept" else "decline"


def answered_status(response: str) -> str:
    return "approved" if response == "accept" else "rejected"


def outcome_from_evidence(evidence: dict[str, Any]) -> EstimateOutcome:
    """The outcome an answer's evidence records — for evidence of an earlier attempt that
    is adopted: its signer, its choice of optional lines and its totals, as signed."""
    snap = evidence["snapshot"]
    return EstimateOutcome(
        response="accept" if evidence["kind"] == "acceptance" else "decline",
        revision=evidence["revision"], signer_name=evidence["signer_name"],
        reason=evidence.get("reason"),
        included_optional=[line["id"] for line in snap["lines"] if line["optional"] and line["included"]],
        subtotal_minor=snap["subtotal_minor"], tax_minor=snap["tax_minor"],
        total_minor=snap["total_minor"], ip=evidence["ip"], user_agent=evidence.get("user_agent"),
        certificate_id=evidence["certificate_id"], snapshot_sha256=evidence["snapshot_sha256"],
    )


def work_order_description(estimate: Estimate) -> str:
    """What the work order made from an accepted estimate says: the lines that count."""
    accepted = list(estimate.outcome.included_optional) if estimate.outcome is not None else []
    lines = "\n".join(f"- {line['description']} ({line['quantity']})"
                      for line in priced_lines(estimate, accepted) if line["included"])
    return f"From estimate {estimate.number}:\n{lines}"
