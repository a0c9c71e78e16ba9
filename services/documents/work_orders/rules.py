"""Work-order rules: statuses, the labels a customer reads, and legal transitions."""

from __future__ import annotations

from typing import Any

from porchlight.validation import Form

STATUSES = ("new", "scheduled", "in_progress", "on_hold", "completed", "cancelled")

# What a customer reads on the badge: plain words, no internal jargon.
CUSTOMER_LABELS = {
    "new": "Request received",
    "scheduled": "Visit scheduled",
    "in_progress": "Work in progress",
    "on_hold": "Paused",
    "completed": "Completed",
    "cancelled": "Cancelled",
}

# Completed and cancelled are final: a finished job that needs more work is a new
# work order, so the customer's record of what was done never changes under them.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"scheduled", "in_progress", "on_hold", "completed", "cancelled"}),
    "scheduled": frozenset({"new", "in_progress", "on_hold", "completed", "cancelled"}),
    "in_progress": frozenset({"scheduled", "on_hold", "completed", "cancelled"}),
    "on_hold": frozenset({"scheduled", "in_progress", "completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


EDITABLE = ("title", "status", "description", "location", "customer_id", "internal_notes")


def read_fields(form: Form) -> dict[str, Any]:
    """The editable fields of a work order. A partial form (an edit) returns only what was
    sent; an explicit null or "" clears an optional field."""
    fields = {
        "title": form.text("title", max_length=200),
        "status": form.choice("status", STATUSES, default=None if form.partial else "new"),
        "description": form.text("description", required=False, max_length=10_000, multiline=True),
        "location": form.text("location", required=False, max_length=500, multiline=True),
        "customer_id": form.object_id("customer_id", required=False),
        "internal_notes": form.text(
            "internal_notes", required=False, max_length=10_000, multiline=True
        ),
    }
    if not form.partial:
        return fields
    changes = {k: v for k, v in fields.items() if form.has(k) and k not in form.errors}
    for required in ("title", "status"):  # may be changed, never cleared
        if form.has(required) and changes.get(required) is None and required not in form.errors:
            form.error(required, "This field is required.")
    return changes
