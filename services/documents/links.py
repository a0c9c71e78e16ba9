"""Share links to documents' records: staff's ``POST /share-tokens`` comes here first, so
that the record's owner checks it exists in the workspace and says when it ends before
sharing mints the link (calls flow one way: documents → sharing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight.contracts import ATTENTION, parse
from porchlight.contracts.clock import isoformat
from porchlight.contracts.errors import CONTRACT_ERRORS, InvalidInput, NotFound
from porchlight.contracts.share_links import ShareTokenInput
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from services.documents.dependencies import DocumentsDependencies


class LinkRpc(DocumentsDependencies):
    def _shared(self, workspace_id: str, entity_type: str,
                entity_id: str) -> tuple[datetime | None, str | None]:
        """When the record itself stops being answerable — an estimate's end of its
        valid-until day; ``None`` for records that do not expire — and its customer (a
        report's is its work order's). ``NotFound`` for an unknown type or id, and for
        another workspace's id."""
        if entity_type == "estimate":
            estimate = self.repo.estimates.get(workspace_id, entity_id)
            return estimate.expires_at, estimate.customer_id
        if entity_type == "work_order":
            return None, self.repo.work_orders.get(workspace_id, entity_id).customer_id
        if entity_type == "service_report":
            report = self.repo.service_reports.get(workspace_id, entity_id)
            work_order = self.repo.work_orders.find(workspace_id, report.work_order_id)
            return None, work_order.customer_id if work_order else None
        raise NotFound("Links cannot be shared for this kind of record.")

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def share_record(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Mint a link to a record of the workspace (``ShareTokenInput``) through sharing,
        which checks the permissions and the expiry. An unknown record is a field error,
        named as the request names it. The raw token is in this answer only."""
        request = parse(ShareTokenInput, data)
        try:
            ends_at, customer_id = self._shared(workspace_id, request.entity.type, request.entity.id)
        except NotFound:
            raise InvalidInput(ATTENTION, {"entity.id": "No such record in this workspace."}) from None
        return self.sharing.mint_token(workspace_id, actor, data, isoformat(ends_at), customer_id)

    @rpc(expected_exceptions=(NotFound,))
    def entity_exists(self, workspace_id: str, entity_type: str, entity_id: str) -> bool:
        """Whether the workspace holds this record (the admin gateway's check before it
        lists a record's links); ``NotFound`` otherwise."""
        self._shared(workspace_id, entity_type, entity_id)
        return True
