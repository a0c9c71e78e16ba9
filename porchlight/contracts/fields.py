"""Field types every contract is built from: each states its JSON type, bounds and
pattern once (they become the OpenAPI schema) and the sentence a person reads when the
value is wrong.

Text is measured as sent, then trimmed; blank required text is missing; blank optional
text is null. Control and format characters (bidi overrides, zero-width marks) are refused
everywhere; newlines and tabs only where a field may span lines.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from porchlight.contracts import money
from porchlight.contracts.base import PATTERN_MESSAGES, REQUIRED
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.words import N_

__all__ = [
    "Colour", "Currency", "DECIMAL_RULES", "DateText", "DocumentNumber", "Email", "HttpsUrl", "Id", "Phone",
    "FutureTimestamp", "StrictBool", "StrictInt", "Timezone", "Timestamp", "optional", "optional_text",
    "decimal", "patterned", "refuse", "text",
]


def refuse(message: str) -> PydanticCustomError:
    """An error whose message is already a sentence for a person."""
    return PydanticCustomError("porchlight", "{message}", {"message": message})


def patterned(pattern: str, message: str) -> str:
    """Declare a pattern together with what a person reads when a value misses it."""
    PATTERN_MESSAGES[pattern] = message
    return pattern


def _has_control_chars(value: str, allow_newlines: bool) -> bool:
    for ch in value:
        if allow_newlines and ch in "\n\t":
            continue
        # ZWJ joins emoji sequences; every other format character can hide or reorder text.
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch != "\u200d":
            return True
    return False


def _clean(multiline: bool, required: bool) -> Any:
    def clean(value: str) -> str | None:
        value = value.strip()
        if not value:
            if required:
                raise refuse(REQUIRED)
            return None
        if _has_control_chars(value, allow_newlines=multiline):
            raise refuse(N_("Contains characters that are not allowed."))
        return value

    return clean


def _blank_is_null(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


@cache
def text(max_length: int, *, multiline: bool = False, description: str | None = None) -> Any:
    """Required text of at most ``max_length`` characters."""
    return Annotated[
        StrictStr, Field(min_length=1, max_length=max_length, description=description),
        AfterValidator(_clean(multiline, required=True)),
    ]


def optional(kind: Any) -> Any:
    """``kind`` or null. An id, a code or a date sent as ``""`` is wrong, not null: the
    schema would not allow it, so neither do we."""
    return kind | None


def optional_text(max_length: int, *, multiline: bool = False, description: str | None = None) -> Any:
    """Text of at most ``max_length`` characters, or null."""
    # No minLength here: "" is a valid way to say "none".
    # Blank text is null here (so "" clears a field in a PATCH), and the schema allows "".
    return Annotated[
        Annotated[StrictStr, Field(max_length=max_length),
                  AfterValidator(_clean(multiline, required=False))] | None,
        BeforeValidator(_blank_is_null), Field(description=description),
    ]


# What a person reads about a field they fill in on the portal is marked for the catalogs
# (N_) and translated where it is shown; the rest is for staff and the API, in English.
NOT_AN_EMAIL = N_("Must be an email address like name@example.com.")


def _lower_domain(value: str) -> str:
    local, domain = value.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise refuse(NOT_AN_EMAIL)
    return f"{local}@{domain.lower()}"


def _enough_digits(value: str) -> str:
    if sum(ch.isdigit() for ch in value) < 5:
        raise refuse(N_("Must be a phone number with at least 5 digits."))
    return value


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise refuse("Must be an IANA time zone like Europe/Amsterdam.")
    return value


def _https(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or parts.username or parts.password:
        raise refuse("Must be an https:// address.")
    return value


def _real_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise refuse("Must be a real date like 2026-12-31.") from None


def _aware_moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise refuse("Must be a real moment like 2026-01-31T17:00:00Z.") from None


def _in_future(value: datetime) -> datetime:
    if value <= utcnow():
        raise refuse("Must be in the future.")
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TIMEZONES = frozenset(available_timezones())
# RFC 3339 only: Python's parser alone would also take "20260131T170000Z" and a space.
_RFC3339 = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
            r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")

Id = Annotated[StrictStr, Field(
    pattern=patterned(r"^[0-9a-f]{24}$", "Must be an id as returned by the API."),
    description="An id as returned by the API.")]
Email = Annotated[StrictStr, Field(
    max_length=254,
    pattern=patterned(rf"^[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{1,64}}@{_LABEL}(\.{_LABEL})+$",
                      NOT_AN_EMAIL),
    description="An email address (RFC 5322's dot-atom: no quotes, spaces, commas or angle "
                "brackets; no leading, trailing or double dot); the domain is lower-cased."),
    AfterValidator(_lower_domain)]
Phone = Annotated[StrictStr, Field(
    max_length=30,
    pattern=patterned(r"^\+?[0-9 ()./-]{5,30}$",
                      N_("Must be a phone number: digits, spaces, +, -, ( and ).")),
    description="Digits, spaces, +, -, ( and ), with at least 5 digits."), AfterValidator(_enough_digits)]
Currency = Annotated[StrictStr, Field(
    pattern=patterned(r"^[A-Z]{3}$", "Must be a three-letter ISO 4217 currency code like EUR."),
    description="An ISO 4217 currency code.")]
Timezone = Annotated[StrictStr, Field(max_length=64, description="An IANA time zone, e.g. Europe/London."),
                     AfterValidator(_known_timezone)]
Colour = Annotated[StrictStr, Field(
    pattern=patterned(r"^#[0-9a-fA-F]{6}$", "Must be a colour like #1f6feb."),
    description="A colour as #rrggbb."), AfterValidator(str.lower)]
HttpsUrl = Annotated[StrictStr, Field(max_length=2000, description="An https:// address."),
                     AfterValidator(_https)]
DocumentNumber = Annotated[StrictStr, Field(
    pattern=patterned(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$",
                      "Use letters, digits and . _ / - only (at most 32)."),
    description="Your own number; by default the next one in the workspace's sequence is taken.")]
DateText = Annotated[StrictStr, Field(
    pattern=patterned(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "Must be a date like 2026-12-31."),
    json_schema_extra={"format": "date"}), AfterValidator(_real_date),
    PlainSerializer(date.isoformat, return_type=str)]
Timestamp = Annotated[StrictStr, Field(
    max_length=40,
    pattern=patterned(_RFC3339, "Must be an ISO 8601 timestamp with a UTC offset, like "
                                "2026-01-31T17:00:00Z."),
    json_schema_extra={"format": "date-time"}), AfterValidator(_aware_moment),
    PlainSerializer(isoformat, return_type=str)]
FutureTimestamp = Annotated[Timestamp, AfterValidator(_in_future)]


DECIMAL_RULES = ("Numbers are plain decimal strings such as `\"12.50\"`, or integers: no JSON "
                 "fractions, exponents, thousands separators, NaN or Infinity.")


def decimal(*, places: int, low: Decimal, high: Decimal, above: bool = False,
            description: str) -> Any:
    """A non-negative number sent as a decimal string or an integer, read exactly."""

    def read(value: Any) -> Decimal:
        if isinstance(value, float):
            raise refuse("Send numbers as text like \"12.50\" or as whole numbers.")
        try:
            number = money.to_decimal(value, places=places)
        except ValueError as exc:
            raise refuse(f"Must be a number with {exc}." if "places" in str(exc)
                         else "Must be a plain number like 12.50.") from None
        if number < low or (above and number == low) or number > high:
            raise refuse(f"Must be {'above' if above else 'at least'} {low} and at most {high}.")
        return number

    bound = "exclusiveMinimum" if above else "minimum"
    return Annotated[Decimal, PlainValidator(read), PlainSerializer(str, return_type=str), WithJsonSchema({
        "type": ["string", "integer"], "pattern": r"^[0-9]{1,15}(\.[0-9]{1,15})?$",
        bound: int(low), "maximum": int(high), "description": description + " " + DECIMAL_RULES})]
