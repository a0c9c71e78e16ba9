"""What a share link may point at: asked by the sharing service before it mints one."""

from __future__ import annotations

from typing import Any

from porchlight.clock import isoformat
from porchlight.errors import NotFound
from porchlight.service_rpc import rpc
from services.documents.dependencies import DocumentsDependencies


class LinkTargetRpc(DocumentsDependencies):
    @rpc(expected_exceptions=(NotFound,))
    def get_link_target(self, workspace_id: str, entity_type: str, entity_id: str) -> dict[str, Any]:
        """The record a link would show, and ``ends_at``: the moment (ISO 8601, UTC) the
        record itself stops being answerable — an estimate's end of its valid-until day;
        ``None`` for records that do not expire. ``NotFound`` for an unknown type or id,
        and for another workspace's id."""
        if entity_type == "estimate":
            ends_at = isoformat(self.repo.estimates.get(workspace_id, entity_id).expires_at)
        elif entity_type == "work_order":
            ends_at = None
            self.repo.work_orders.get(workspace_id, entity_id)
        elif entity_type == "service_report":
            ends_at = None
            self.repo.service_reports.get(workspace_id, entity_id)
        else:
            raise NotFound("Links cannot be shared for this kind of record.")
        return {"entity_type": entity_type, "entity_id": entity_id, "ends_at": ends_at}

    @rpc(expected_exceptions=(NotFound,))
    def entity_exists(self, workspace_id: str, entity_type: str, entity_id: str) -> bool:
        """Whether the workspace holds this entity (the admin gateway's check before it
        lists or mints links); ``NotFound`` otherwise."""
        self.get_link_target(workspace_id, entity_type, entity_id)
        return True
