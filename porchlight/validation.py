"""Boundary validation with a human message per field.

A ``Form`` wraps one incoming mapping (an RPC payload, a JSON body). Each accessor reads
one field, records a message when it is wrong, and returns the cleaned value. ``check()``
raises one ``InvalidInput`` naming every bad field at once, so the caller fixes them all in
one round trip and nothing is written until all of them are right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from porchlight.clock import parse_iso, utcnow
from porchlight.errors import InvalidInput

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_TIMEZONES = frozenset(available_timezones())
_MISSING = object()


def _has_control_chars(value: str, allow_newlines: bool) -> bool:
    for ch in value:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch != "\u200d":
            return True
    return False


def is_object_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_OBJECT_ID.match(value))


class Form:
    def __init__(self, data: Any, *, partial: bool = False) -> None:
        if not isinstance(data, Mapping):
            raise InvalidInput("The request body must be a JSON object.", {})
        self.data = data
        self.partial = partial
        self.errors: dict[str, str] = {}

    # -- plumbing ---------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.data

    def _raw(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
            if required and not (self.partial and value is _MISSING):
                self.errors[name] = "This field is required."
            return _MISSING
        return value

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for name in self.data:
            if name not in allowed:
                self.errors[str(name)[:64]] = "Unknown field."

    def check(self, message: str = "Some fields need attention.") -> None:
        if self.errors:
            raise InvalidInput(message, dict(self.errors))

    # -- field types ------------------------------------------------------------------
    def text(
        self, name: str, *, required: bool = True, max_length: int = 200,
        multiline: bool = False,
    ) -> str | None:
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.error(name, "Must be text.")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.error(name, f"Must be at most {max_length} characters.")
            return None
        if _has_control_chars(value, allow_newlines=multiline):
            self.error(name, "Contains characters that are not allowed.")
            return None
        return value

    def email(self, name: str, *, required: bool = True) -> str | None:
        value = self.text(name, required=required, max_length=254)
        if value is None:
            return None
        if not _EMAIL.match(value):
            self.error(name, "Must be an email address like name@example.com.")
            return None
        local, domain = value.rsplit("@", 1)
        return f"{local}@{domain.lower()}"

    def phone(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_length=30)
        if value is None:
            return None
        if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 5:
            self.error(name, "Must be a phone number: digits, spaces, +, -, ( and ).")
            return None
        return value

    def choice(
        self, name: str, choices: Iterable[str], *, required: bool = True,
        default: str | None = None,
    ) -> str | None:
        choices = list(choices)
        value = self._raw(name, required and default is None)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or value not in choices:
            self.error(name, "Must be one of: " + ", ".join(choices) + ".")
            return None
        return value

    def colour(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self._raw(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not _COLOUR.match(value):
            self.error(name, "Must be a colour like #1f6feb.")
            return None
        return value.lower()

    def currency(self, name: str, *, default: str | None = None) -> str | None:
        value = self._raw(name, default is None)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not _CURRENCY.match(value):
            self.error(name, "Must be a three-letter ISO 4217 currency code like EUR.")
            return None
        return value

    def timezone(self, name: str, *, default: str | None = None) -> str | None:
        value = self._raw(name, default is None)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or value not in _TIMEZONES:
            self.error(name, "Must be an IANA time zone like Europe/Amsterdam.")
            return None
        return value

    def https_url(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_length=2000)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or parts.username or parts.password:
            self.error(name, "Must be an https:// address.")
            return None
        return value

    def object_id(self, name: str, *, required: bool = True) -> str | None:
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if not is_object_id(value):
            self.error(name, "Must be an id as returned by the API.")
            return None
        return value

    def future_datetime(self, name: str, *, required: bool = False) -> datetime | None:
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or len(value) > 40:
            self.error(name, "Must be an ISO 8601 timestamp like 2026-01-31T17:00:00Z.")
            return None
        try:
            parsed = parse_iso(value)
        except ValueError:
            self.error(name, "Must be an ISO 8601 timestamp with a UTC offset, like 2026-01-31T17:00:00Z.")
            return None
        if parsed <= utcnow():
            self.error(name, "Must be in the future.")
            return None
        return parsed

    def subset(
        self, name: str, allowed: Iterable[str], *, required: bool = True,
    ) -> list[str] | None:
        allowed = list(allowed)
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if (
            not isinstance(value, list) or not value
            or not all(isinstance(item, str) and item in allowed for item in value)
        ):
            self.error(name, "Must be a non-empty list drawn from: " + ", ".join(allowed) + ".")
            return None
        # Keep a stable, duplicate-free order.
        return [item for item in allowed if item in value]
