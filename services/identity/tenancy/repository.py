"""The tenancy in the identity database: workspaces, their logos, staff API keys and
customers. Every method is workspace-scoped except the two that establish a workspace:
creating one and authenticating a key."""

from __future__ import annotations

import hashlib

from mongoengine import Q

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import NotFound
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.identity.tenancy import rules
from services.identity.tenancy.models import ApiKey, Customer, Workspace, WorkspaceLogo


class Tenancy:
    def ensure_indexes(self) -> None:
        for model in (Workspace, WorkspaceLogo, ApiKey, Customer):
            model.ensure_indexes()

    def migrate(self) -> None:
        """A logo given as another host's address is no longer shown (that host saw every
        view): the field goes; staff upload the logo instead (PUT /workspace/logo)."""
        Workspace._get_collection().update_many({"logo_url": {"$exists": True}}, {"$unset": {"logo_url": ""}})

    # -- workspaces -------------------------------------------------------------------
    def create_workspace(self, **fields: object) -> Workspace:
        return Workspace(**fields).save()

    def get_workspace(self, workspace_id: str) -> Workspace:
        workspace = Workspace.objects(id=workspace_id).first() if is_object_id(workspace_id) else None
        if workspace is None:
            raise NotFound("No such workspace.")
        return workspace

    # -- the logo ---------------------------------------------------------------------
    def set_logo(self, workspace_id: str, content_type: str, content: bytes) -> tuple[Workspace, bool]:
        """Store the workspace's logo (replacing any) and name it on the workspace; whether
        it changed anything."""
        workspace = self.get_workspace(workspace_id)
        sha256 = hashlib.sha256(content).hexdigest()
        if workspace.logo_sha256 == sha256:
            return workspace, False
        WorkspaceLogo.objects(workspace_id=workspace_id).update_one(
            upsert=True, set__sha256=sha256, set__content_type=content_type, set__content=content,
            set__updated_at=utcnow())
        return self.update_workspace(workspace_id, {"logo_sha256": sha256}), True

    def remove_logo(self, workspace_id: str) -> tuple[Workspace, bool]:
        workspace = self.get_workspace(workspace_id)
        if workspace.logo_sha256 is None:
            return workspace, False
        updated = self.update_workspace(workspace_id, {"logo_sha256": None})
        WorkspaceLogo.objects(workspace_id=workspace_id).delete()
        return updated, True

    def logo(self, workspace_id: str) -> WorkspaceLogo:
        logo = (WorkspaceLogo.objects(workspace_id=workspace_id).first()
                if is_object_id(workspace_id) else None)
        if logo is None:
            raise NotFound("No logo.")
        return logo

    def update_workspace(self, workspace_id: str, changes: dict[str, object]) -> Workspace:
        """Apply the changes in one update; returns the workspace as it is now."""
        workspace = self.get_workspace(workspace_id)
        updated = Workspace.objects(id=workspace.id).modify(
            new=True, **{f"set__{field}": value for field, value in changes.items()})
        if updated is None:
            raise NotFound("No such workspace.")
        return updated

    # -- staff API keys ---------------------------------------------------------------
    def create_api_key(self, workspace_id: str, actor: str, label: str | None) -> tuple[ApiKey, str]:
        raw = rules.new_api_key()
        key = ApiKey(
            workspace_id=workspace_id, key_hash=rules.hash_api_key(raw), last4=raw[-4:],
            label=label, created_by=actor,
        ).save()
        return key, raw

    def find_active_key(self, raw: str) -> ApiKey | None:
        return ApiKey.objects(key_hash=rules.hash_api_key(raw), revoked_at=None).first()

    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        return list(ApiKey.objects(workspace_id=workspace_id).order_by("created_at"))

    def revoke_api_key(self, workspace_id: str, key_id: str) -> ApiKey:
        if not is_object_id(key_id):
            raise NotFound("No such API key.")
        key = ApiKey.objects(id=key_id, workspace_id=workspace_id, revoked_at=None).modify(
            set__revoked_at=utcnow(), new=True
        )
        if key is None:
            existing = ApiKey.objects(id=key_id, workspace_id=workspace_id).first()
            if existing is None:
                raise NotFound("No such API key.")
            return existing  # already revoked: revoking again is harmless
        return key

    # -- customers --------------------------------------------------------------------
    def create_customer(self, workspace_id: str, actor: str, **fields: object) -> Customer:
        return Customer(workspace_id=workspace_id, created_by=actor, **fields).save()

    def get_customer(self, workspace_id: str, customer_id: str) -> Customer:
        return get_in_workspace(Customer, workspace_id, customer_id, "No such customer.")

    def customer_page(self, workspace_id: str, q: str | None, *, cursor: str | None,
                      limit: int) -> tuple[list[Customer], bool]:
        """A page of the workspace's customers by name (``page_after``); with ``q``, only
        those whose name or address contains it, whatever the case."""
        customers = Customer.objects(workspace_id=workspace_id)
        if q:
            customers = customers.filter(Q(name__icontains=q) | Q(email__icontains=q))
        return page_after(Customer, customers, workspace_id, cursor, order="name", limit=limit,
                          not_a_cursor="Not a cursor of this list of customers.")
