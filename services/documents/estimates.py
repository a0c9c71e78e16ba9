"""Estimate rules: states, line items, totals and what a customer is shown."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from porchlight import money
from porchlight.clock import as_utc, isoformat
from porchlight.validation import Form
from services.documents.models import Estimate, LineItem

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
    return {k: v for k, v in view.items() if k not in ("status", "status_label", "can_respond", "outcome")}
