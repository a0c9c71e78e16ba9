"""Money: integer minor units, arithmetic in Decimal.

Rounding, documented once: each line's net amount is quantity × unit price, rounded
half-up to the currency's minor unit; each line's tax is that net amount × the line's tax
rate, rounded half-up per line. Subtotal, tax and total are exact sums of those integers,
so a page (or a phone) adding the shown line amounts gets the shown totals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "HUF": 2, "BHD": 3, "KWD": 3,
              "OMR": 3, "JOD": 3, "TND": 3}


# Digits with an optional fraction: no exponents, no NaN or Infinity, no thousands marks.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def to_decimal(value: object, *, places: int) -> Decimal:
    """A decimal from an int or a numeric string (JSON floats arrive as their shortest
    repr). Raises ValueError for anything else or more decimal places than allowed."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError("must be a number")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError("must be a plain number like 12.50")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if -number.as_tuple().exponent > places:
        raise ValueError(f"at most {places} decimal places")
    return number


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount * (Decimal(10) ** exponent(currency))).to_integral_value(ROUND_HALF_UP))


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string: 4868 EUR → "48.68"."""
    places = exponent(currency)
    value = Decimal(minor) / (Decimal(10) ** places)
    return f"{value:.{places}f}"


def line_amounts(quantity: Decimal, unit_price_minor: int, tax_rate: Decimal) -> tuple[int, int]:
    net = (quantity * unit_price_minor).to_integral_value(ROUND_HALF_UP)
    tax = (net * tax_rate / 100).to_integral_value(ROUND_HALF_UP)
    return int(net), int(tax)


def totals(lines: Iterable[tuple[int, int]]) -> dict[str, int]:
    subtotal = tax = 0
    for net, line_tax in lines:
        subtotal += net
        tax += line_tax
    return {"subtotal_minor": subtotal, "tax_minor": tax, "total_minor": subtotal + tax}
