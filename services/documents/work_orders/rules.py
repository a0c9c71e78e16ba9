"""Work-order rules: statuses, the labels a customer reads, and legal transitions."""

from __future__ import annotations

from porchlight.contracts.words import N_
from porchlight.contracts.work_orders import STATUSES

__all__ = ["CUSTOMER_LABELS", "STATUSES", "TRANSITIONS", "can_move"]

# What a customer reads on the badge: plain words, no internal jargon (translated where
# it is shown).
CUSTOMER_LABELS = {
    "new": N_("Request received"),
    "scheduled": N_("Visit scheduled"),
    "in_progress": N_("Work in progress"),
    "on_hold": N_("Paused"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
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
