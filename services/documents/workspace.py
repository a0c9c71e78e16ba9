"""What documents asks identity about a workspace: whether a customer belongs to it, the
currency and time zone its estimates are priced and dated in, and what day it is there
(a project's hours are logged for a day, never a day still to come).

Asked over RPC rather than kept as a copy fed by identity's events: the question comes only
with a staff command (creating or editing a work order or an estimate) — one call, never on
a customer's path — and the answer is always current. A customer removed a moment ago or a
time zone just changed is seen at once, with no copy to fill, drift or rebuild.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import InvalidInput, NotFound

# A staff command waits this long for identity, then fails with nothing changed
# (``DocumentsService.identity``).
IDENTITY_TIMEOUT = 5.0
IDENTITY_UNAVAILABLE = ("The workspace's records could not be checked just now. Nothing was "
                        "changed; please try again in a minute.")


def ensure_customer(identity: Any, workspace_id: str, customer_id: str | None) -> None:
    """A record may only point at a customer of its own workspace. ``None`` (no customer,
    or clearing one) needs no check."""
    if not customer_id:
        return
    try:
        identity.get_customer(workspace_id, customer_id)
    except NotFound:
        raise InvalidInput("Some fields need attention.",
                           {"customer_id": "No such customer in this workspace."}) from None


def estimate_settings(identity: Any, workspace_id: str) -> dict[str, str]:
    """The workspace's currency and time zone (identity owns them)."""
    workspace = identity.get_workspace(workspace_id)
    return {"currency": workspace["currency"], "timezone": workspace["timezone"]}


def workspace_today(identity: Any, workspace_id: str) -> date:
    """Today in the workspace's time zone (identity owns it)."""
    timezone = identity.get_workspace(workspace_id)["timezone"]
    return utcnow().astimezone(ZoneInfo(timezone)).date()
