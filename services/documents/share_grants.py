"""Sharing a resource with a customer, on its owner's word: staff's share commands come
here first, so that documents — which owns the resource — checks it exists in the
workspace, that the customer has someone to see it, and whether the share is locked
(a completed project's), before sharing records the change (calls flow one way:
documents → sharing, documents → identity)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import ATTENTION, parse
from porchlight.contracts.errors import CONTRACT_ERRORS, InvalidInput, NotFound
from porchlight.contracts.share_grants import ShareGrantInput, ShareGrantPatch
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from services.documents.dependencies import DocumentsDependencies

NO_PROJECT = "No such project in this workspace."
NO_CUSTOMER = "No such customer in this workspace."
NOBODY_JOINED = ("None of this customer's contacts has accepted an invitation to the portal yet, so nobody "
                 "would see the share: invite a contact first (POST /customers/{id}/contacts/{id}/invite).")


class ShareGrantRpc(DocumentsDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def share_resource(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Share a project with a customer (``ShareGrantInput``): by default its own."""
        request = parse(ShareGrantInput, data)
        try:
            project = self.repo.projects.get(workspace_id, request.resource.id)
        except NotFound:
            raise InvalidInput(ATTENTION, {"resource.id": NO_PROJECT}) from None
        customer_id = request.customer_id or project.customer_id
        try:
            joined = self.identity.customer_portal_access(workspace_id, customer_id)["joined"]
        except NotFound:
            raise InvalidInput(ATTENTION, {"customer_id": NO_CUSTOMER}) from None
        if not joined:
            raise InvalidInput(ATTENTION, {"customer_id": NOBODY_JOINED})
        return self.sharing.share_resource(workspace_id, actor, request.resource.type, str(project.id),
                                           customer_id, request.level)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def change_share(self, workspace_id: str, actor: str, grant_id: str, data: dict) -> dict[str, Any]:
        """Change a share's level (``ShareGrantPatch``); a completed project's may not go lower."""
        level = parse(ShareGrantPatch, data).level
        locked = self._locked(workspace_id, grant_id)
        return self.sharing.change_share(workspace_id, actor, grant_id, level, locked)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def stop_share(self, workspace_id: str, actor: str, grant_id: str) -> dict[str, Any]:
        """Stop a share at once; a completed project's may not be stopped. Stopping a
        stopped share changes nothing."""
        locked = self._locked(workspace_id, grant_id)
        return self.sharing.change_share(workspace_id, actor, grant_id, None, locked)

    def _locked(self, workspace_id: str, grant_id: str) -> bool:
        """Whether the share's resource may no longer be taken from its customer: a
        completed project (read now, so a project completed a moment ago locks its share)."""
        grant = self.sharing.get_share(workspace_id, grant_id)
        return self.repo.projects.get(workspace_id, grant["resource"]["id"]).status == "completed"
