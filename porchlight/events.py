"""The shape of a fact: what happened, in which workspace, by whom, when.

Events carry ids, never whole documents, so a subscriber that needs more asks the owner.
"""

from __future__ import annotations

from typing import Any

from porchlight.clock import isoformat, utcnow


def fact(workspace_id: str, actor: str, **ids: Any) -> dict[str, Any]:
    payload = {"workspace_id": workspace_id, "actor": actor, "occurred_at": isoformat(utcnow())}
    payload.update(ids)
    return payload
