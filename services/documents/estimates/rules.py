"""Estimate rules: states, the fields staff send, line items and totals."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from porchlight import money
from porchlight.clock import as_utc
from porchlight.errors import InvalidInput
from porchlight.validation import Form
from services.documents.estimates.models import Estimate, EstimateOutcome, LineItem

STATUSES = ("draft", "sent", "approved", "rejected", "expired", "converted")
OPEN = ("draft", "sent")  # the customer may still answer
EDITABLE = ("draft", "sent")
STATUS_LABELS = {
    "draft": "Awaiting your answer",
    "sent": "Awaiting your answer",
    "approved": "Accepted",
    "rejected": "Declined",
    "expired": "Expired",
    "converted": "Accepted",
}
MAX_LINES = 100
MAX_VALID_YEARS = 5
# Bounds that keep every answer recordable: totals fit a 64-bit integer with room to
# spare, and the snapshot of the offer (notes + lines, up to 4 bytes a character) stays
# well under what the signatures service accepts.
MAX_TOTAL_MINOR = 10**15
MAX_NOTES = 10_000
MAX_DESCRIPTION = 300
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE_MINOR = 10**11


def end_of_day_utc(day: date, timezone: str) -> datetime:
    """The moment an estimate valid until ``day`` stops being valid: the following
    midnight in the workspace's time zone, in UTC."""
    local_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    return as_utc(local_midnight)


def read_valid_until(form: Form, today: date, *, required: bool) -> date | None:
    raw = form.text("valid_until", required=required, max_length=10)
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        form.error("valid_until", "Must be a date like 2026-12-31.")
        return None
    if day < today:
        form.error("valid_until", "Must be today or later.")
        return None
    if (day - today).days > 366 * MAX_VALID_YEARS:
        form.error("valid_until", f"Must be within {MAX_VALID_YEARS} years.")
        return None
    return day


def read_line_items(form: Form, currency: str) -> list[LineItem] | None:
    """Line items from ``form.data["line_items"]``, each field checked; errors are named
    ``line_items[i].field``."""
    raw = form.data.get("line_items")
    if not isinstance(raw, list) or not raw:
        form.error("line_items", "Give at least one line item.")
        return None
    if len(raw) > MAX_LINES:
        form.error("line_items", f"At most {MAX_LINES} line items.")
        return None
    places = money.exponent(currency)
    items = []
    for index, entry in enumerate(raw):
        prefix = f"line_items[{index}]"
        if not isinstance(entry, dict):
            form.error(prefix, "Must be an object.")
            continue
        line = Form(entry)
        line.reject_unknown(("description", "quantity", "unit_price", "tax_rate", "optional"))
        description = line.text("description", max_length=MAX_DESCRIPTION, multiline=True)
        quantity = _decimal(line, "quantity", places=3, low=Decimal("0"), high=MAX_QUANTITY,
                            exclusive_low=True)
        unit_price = _decimal(line, "unit_price", places=places, low=Decimal("0"),
                              high=Decimal(MAX_UNIT_PRICE_MINOR) / 10**places)
        tax_rate = _decimal(line, "tax_rate", places=3, low=Decimal("0"), high=Decimal("100"),
                            default=Decimal("0"))
        optional = entry.get("optional", False)
        if not isinstance(optional, bool):
            line.error("optional", "Must be true or false.")
        for field, message in line.errors.items():
            form.error(f"{prefix}.{field}", message)
        if not line.errors:
            items.append(LineItem(
                id=f"l{index + 1}", description=description, quantity=str(quantity),
                unit_price_minor=money.to_minor(unit_price, currency), tax_rate=str(tax_rate),
                optional=optional,
            ))
    if items and all(item.optional for item in items):
        form.error("line_items", "At least one line must not be optional.")
    if items:
        everything = sum(
            sum(money.line_amounts(Decimal(i.quantity), i.unit_price_minor, Decimal(i.tax_rate)))
            for i in items
        )
        if everything > MAX_TOTAL_MINOR:
            form.error("line_items", "The total is larger than an estimate can hold.")
    return items if len(items) == len(raw) else None


def _decimal(
    form: Form, name: str, *, places: int, low: Decimal, high: Decimal,
    exclusive_low: bool = False, default: Decimal | None = None,
) -> Decimal | None:
    if name not in form.data and default is not None:
        return default
    value = form.data.get(name)
    if value is None:
        form.error(name, "This field is required.")
        return None
    try:
        number = money.to_decimal(value, places=places)
    except ValueError as exc:
        form.error(name, f"Must be a number with {exc}." if "places" in str(exc) else "Must be a number.")
        return None
    if number < low or (exclusive_low and number == low) or number > high:
        form.error(name, f"Must be {'above' if exclusive_low else 'at least'} {low} and at most {high}.")
        return None
    return number


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


def read_fields(form: Form, settings: dict[str, str], currency: str) -> dict[str, Any]:
    """The editable fields of an estimate. ``settings`` holds the workspace's time zone,
    which "today" and the end of the valid-until day are reckoned in. A partial form (an
    edit) returns only what was sent."""
    today = datetime.now(ZoneInfo(settings["timezone"])).date()
    fields: dict[str, Any] = {
        "title": form.text("title", max_length=200),
        "customer_id": form.object_id("customer_id", required=False),
        "notes": form.text("notes", required=False, max_length=MAX_NOTES, multiline=True),
    }
    valid_until = read_valid_until(form, today, required=not form.partial)
    if valid_until is not None:
        fields["valid_until"] = valid_until.isoformat()
        fields["expires_at"] = end_of_day_utc(valid_until, settings["timezone"])
    if not form.partial or form.has("line_items"):
        fields["line_items"] = read_line_items(form, currency)
    if not form.partial:
        return fields
    keep = {k: v for k, v in fields.items() if form.has(k) and k not in form.errors}
    if "expires_at" in fields:
        keep["expires_at"] = fields["expires_at"]
    if "title" in keep and keep["title"] is None:
        form.error("title", "This field is required.")
    return keep


def read_answer(form: Form) -> dict[str, Any]:
    """A customer's accept or decline as the portal sends it."""
    data = form.data
    form.reject_unknown(("response", "revision", "signer_name", "reason", "include_optional",
                         "ip", "user_agent"))
    response = form.choice("response", ("accept", "decline"))
    revision = data.get("revision")
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        form.error("revision", "Must be the revision number shown on the page.")
    include = data.get("include_optional") or []
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        form.error("include_optional", "Must be a list of line ids.")
    return {
        "response": response,
        "revision": revision,
        "signer_name": form.text("signer_name", required=response == "accept", max_length=120),
        "reason": form.text("reason", required=False, max_length=1000, multiline=True),
        "include_optional": include,
        "ip": form.text("ip", max_length=45),
        "user_agent": form.text("user_agent", required=False, max_length=512),
    }


def optional_choice(estimate: Estimate, include: list[str] | None) -> list[str] | None:
    """The customer's choice of optional lines; anything that is not an optional line of
    this estimate is a bad request, not silently ignored."""
    if include is None:
        return None
    optional_ids = {item.id for item in estimate.line_items if item.optional}
    if (not isinstance(include, list) or not all(isinstance(i, str) for i in include)
            or not set(include) <= optional_ids):
        raise InvalidInput("Some fields need attention.",
                           {"include_optional": "Only optional lines of this estimate can be included."})
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
