"""The shape of a fact — what happened, in which workspace, by whom, when — and every fact
the services announce, sorted by whether a customer could see it.

Each event is a model in ``porchlight.contracts.events``, which states its source, its
name, whether it is customer-visible (and why not, when it is internal) and its payload;
the lists below are read off those models, never written a second time.

``CUSTOMER_VISIBLE`` is what the portal's read model subscribes to, and a promise (see
``porchlight.contracts.events``): every change to what a customer page shows is announced
by one of these. ``INTERNAL`` holds the rest. A test reads every ``dispatch`` of the four
services and fails on an event without a model (``tests/unit/test_events.py``), and the
dispatcher refuses one at run time (``porchlight.request_tracing.EventDispatcher``).
"""

from __future__ import annotations

from typing import Any

from porchlight.clock import isoformat, utcnow
from porchlight.contracts.events import event_types

# source service (nameko's name) → event types whose payload names a changed customer view
CUSTOMER_VISIBLE: dict[str, tuple[str, ...]] = event_types(visible=True)

# source service → event types no customer view depends on
INTERNAL: dict[str, tuple[str, ...]] = event_types(visible=False)


def fact(workspace_id: str, actor: str, **ids: Any) -> dict[str, Any]:
    payload = {"workspace_id": workspace_id, "actor": actor, "occurred_at": isoformat(utcnow())}
    payload.update(ids)
    return payload
