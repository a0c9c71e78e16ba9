"""Staff's side of the tenancy: workspaces (created from the CLI), their settings and
logo, staff API keys, and customers. The logo is stored without its image metadata and
served to customers by the portal from its own address — so no other host learns who
looks at a business's pages or emails."""

from __future__ import annotations

import base64
from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.customers import CustomerInput, CustomerQuery
from porchlight.contracts.errors import CONTRACT_ERRORS, InvalidInput, Unauthorized
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.workspaces import ApiKeyInput, StoredLogo, WorkspaceInput, WorkspacePatch
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.identity.dependencies import IdentityDependencies
from services.identity.tenancy import rules
from services.identity.tenancy.wire import api_key_to_wire, customer_to_wire, workspace_to_wire


class TenancyRpc(IdentityDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def create_workspace(self, data: dict, actor: str = "cli") -> dict[str, Any]:
        """Create a workspace and its first staff API key (returned once, raw)."""
        fields = parse(WorkspaceInput, data).model_dump()
        workspace = self.repo.tenancy.create_workspace(**fields)
        workspace_id = str(workspace.id)
        key, raw = self.repo.tenancy.create_api_key(workspace_id, actor, label="first key")
        self.dispatch("workspace_created", fact(workspace_id, actor))
        self.dispatch("api_key_created", fact(workspace_id, actor, api_key_id=str(key.id)))
        return {"workspace": workspace_to_wire(workspace), "api_key": raw, "api_key_id": str(key.id)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_workspace(self, workspace_id: str) -> dict[str, Any]:
        return workspace_to_wire(self.repo.tenancy.get_workspace(workspace_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def update_workspace(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Change the fields sent (``WorkspacePatch``). A change customers can see is
        announced as ``workspace_updated`` naming the fields; sending the current values
        changes nothing and announces nothing.

        ``currency`` and ``timezone`` are safe to change because documents asks for them
        only when an estimate is created or re-dated, and stores what it used: existing
        estimates keep their currency and their end."""
        patch = parse(WorkspacePatch, data)
        sent = patch.model_dump(include=patch.sent())
        current = self.repo.tenancy.get_workspace(workspace_id)
        changes = {k: v for k, v in sent.items() if getattr(current, k) != v}
        if not changes:
            return workspace_to_wire(current)
        workspace = self.repo.tenancy.update_workspace(workspace_id, changes)
        self.dispatch("workspace_updated", fact(workspace_id, actor, fields=sorted(changes)))
        return workspace_to_wire(workspace)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def authenticate_api_key(self, raw_key: str) -> dict[str, Any]:
        """Answer which workspace a staff key belongs to, or raise Unauthorized."""
        if not rules.looks_like_api_key(raw_key):
            raise Unauthorized("Invalid API key.")
        key = self.repo.tenancy.find_active_key(raw_key)
        if key is None:
            raise Unauthorized("Invalid API key.")
        return {"workspace_id": key.workspace_id, "api_key_id": str(key.id)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def create_api_key(self, workspace_id: str, actor: str, data: dict | None = None) -> dict[str, Any]:
        label = parse(ApiKeyInput, data or {}).label
        self.repo.tenancy.get_workspace(workspace_id)
        key, raw = self.repo.tenancy.create_api_key(workspace_id, actor, label=label)
        self.dispatch("api_key_created", fact(workspace_id, actor, api_key_id=str(key.id)))
        return {"api_key": raw, **api_key_to_wire(key)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_api_keys(self, workspace_id: str) -> list[dict[str, Any]]:
        return [api_key_to_wire(key) for key in self.repo.tenancy.list_api_keys(workspace_id)]

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def revoke_api_key(self, workspace_id: str, actor: str, key_id: str) -> dict[str, Any]:
        key = self.repo.tenancy.revoke_api_key(workspace_id, key_id)
        self.dispatch("api_key_revoked", fact(workspace_id, actor, api_key_id=str(key.id)))
        return api_key_to_wire(key)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def create_customer(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        fields = parse(CustomerInput, data).model_dump()
        if not fields["email"] and not fields["phone"]:
            raise InvalidInput(
                "A customer needs a way to be reached.",
                {"email": "Give an email address or a phone number."},
            )
        self.repo.tenancy.get_workspace(workspace_id)
        customer = self.repo.tenancy.create_customer(workspace_id, actor, **fields)
        self.dispatch("customer_created", fact(workspace_id, actor, customer_id=str(customer.id)))
        return customer_to_wire(customer)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_customer(self, workspace_id: str, customer_id: str) -> dict[str, Any]:
        return customer_to_wire(self.repo.tenancy.get_customer(workspace_id, customer_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_language(self, workspace_id: str, customer_id: str) -> dict[str, str]:
        """The language a customer reads, and nothing else of them: what the portal asks
        to write a shared link's page in (the workspace and customer come from the link)."""
        return {"language": self.repo.tenancy.get_customer(workspace_id, customer_id).preferred_language}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_customers(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's customers by name, a page at a time (``CustomerQuery``)."""
        request = parse(CustomerQuery, query, message=QUERY_ATTENTION)
        found, more = self.repo.tenancy.customer_page(workspace_id, request.q, cursor=request.cursor,
                                                      limit=request.limit or DEFAULT_PAGE)
        return {"customers": [customer_to_wire(c) for c in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def set_workspace_logo(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Store the workspace's logo (PNG, JPEG or WebP, at most ``MAX_LOGO_BYTES``),
        replacing any; the same image again changes nothing."""
        content_type, content = rules.read_logo(data)
        _, changed = self.repo.tenancy.set_logo(workspace_id, content_type, content)
        if changed:
            self.dispatch("workspace_updated", fact(workspace_id, actor, fields=["logo"]))
        return self.get_workspace(workspace_id)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def remove_workspace_logo(self, workspace_id: str, actor: str) -> dict[str, Any]:
        _, changed = self.repo.tenancy.remove_logo(workspace_id)
        if changed:
            self.dispatch("workspace_updated", fact(workspace_id, actor, fields=["logo"]))
        return self.get_workspace(workspace_id)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_workspace_logo(self, workspace_id: str) -> dict[str, Any]:
        """The logo as the portal serves it (``NotFound``: none)."""
        logo = self.repo.tenancy.logo(workspace_id)
        return answer(StoredLogo, sha256=logo.sha256, content_type=logo.content_type,
                      content_b64=base64.b64encode(logo.content).decode("ascii"))
