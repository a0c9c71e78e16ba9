"""The base of every contract model, and the one way to read untrusted input with one.

A contract is strict: JSON types are not coerced (``"3"`` is not an integer, ``true`` is
not 1), unknown fields are refused, and every error is reported at once, each under the
field's path (``line_items[0].quantity``, ``entity.id``) with a sentence a person can act
on. ``parse`` is used at both ends of a call — the gateway before it sends, the service
when it receives — so both refuse exactly the same input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.words import N_

REQUIRED = N_("This field is required.")
ATTENTION = N_("Some fields need attention.")

# Messages for patterns, registered by the field types that declare them (fields.py), so
# a pattern and what a person reads when it fails are written side by side.
PATTERN_MESSAGES: dict[str, str] = {}

_QUOTED = re.compile(r"'([^']*)'")


class Contract(BaseModel):
    """Request bodies, query strings and RPC payloads: strict, closed."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def sent(self) -> set[str]:
        """The fields the caller actually sent (a PATCH changes only these)."""
        return set(self.model_fields_set)


class Query(BaseModel):
    """A query string: every value arrives as text; unknown parameters are ignored (a
    cache-buster must not break a client)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Reply(BaseModel):
    """A response body. Responses are built by the services; the model is their contract
    and their documentation."""

    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


def answer(model: type[Reply], **fields: Any) -> dict[str, Any]:
    """A service's reply, built through its contract: a field missing, unknown or of the
    wrong type fails in the service that made it, never in a client that trusted the
    documentation. What goes on the wire is the model's JSON form, with what the service
    gave: an optional field it left out stays out (``InboxDetails``: each key only where it
    applies)."""
    return model(**fields).model_dump(mode="json", exclude_unset=True)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("line_items", 0, "quantity")`` → ``line_items[0].quantity``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def _choices(expected: str) -> str:
    return ", ".join(_QUOTED.findall(expected)) or expected


def message_for(error: ErrorDetails) -> str:
    """One human sentence per pydantic error type we can meet."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (error.get("input", "") is None and kind.endswith("_type")):
        return REQUIRED
    if kind == "porchlight":  # our own validators already speak in sentences
        return str(ctx.get("message") or error["msg"])
    if kind == "extra_forbidden":
        return N_("Unknown field.")
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return REQUIRED
        return N_("Must be at least %(min_length)s characters.") % ctx
    if kind == "string_too_long":
        return N_("Must be at most %(max_length)s characters.") % ctx
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(str(ctx.get("pattern")), N_("Is not in the expected format."))
    if kind in ("literal_error", "enum"):
        return N_("Must be one of: %(choices)s.") % {"choices": _choices(str(ctx.get("expected", "")))}
    if kind == "too_short":
        if isinstance(error.get("input"), dict):
            return N_("Must not be empty.")
        return N_("Give at least %(min_length)s.") % ctx
    if kind == "too_long":
        return N_("Give at most %(max_length)s.") % ctx
    message = {
        "string_type": N_("Must be text."),
        "int_type": N_("Must be a whole number."),
        "bool_type": N_("Must be true or false."),
        "list_type": N_("Must be a list."),
        "dict_type": N_("Must be an object."),
        "model_type": N_("Must be an object."),
        "model_attributes_type": N_("Must be an object."),
        "greater_than": N_("Must be above %(gt)s."),
        "greater_than_equal": N_("Must be at least %(ge)s."),
        "less_than_equal": N_("Must be at most %(le)s."),
    }.get(kind, N_("Is not valid."))
    return message % ctx


def errors_of(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        fields.setdefault(field_path(error["loc"])[:120], message_for(error))
    return fields


def parse(model: type[M], data: Any, *, message: str = ATTENTION) -> M:
    """``data`` read with ``model``, or ``InvalidInput`` naming every bad field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("The request body must be a JSON object.", {})
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(message, errors_of(exc)) from None
