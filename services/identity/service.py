"""identity: workspaces, staff API keys, customers, and the customers' portal accounts
(``contacts_rpc`` for staff, ``sign_in_rpc`` for the portal)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.clock import isoformat
from porchlight.contracts.customers import Customer as CustomerReply
from porchlight.contracts.customers import CustomerInput
from porchlight.contracts.errors import CONTRACT_ERRORS, InvalidInput, Unauthorized
from porchlight.contracts.events import fact
from porchlight.contracts.workspaces import ApiKey as ApiKeyReply
from porchlight.contracts.workspaces import ApiKeyInput, WorkspaceInput, WorkspacePatch
from porchlight.contracts.workspaces import Workspace as WorkspaceReply
from porchlight.kit.grants import GrantKey
from porchlight.kit.idempotency import idempotent
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import EventDispatcher, RequestTracing
from porchlight.kit.service_calls import RpcHandover
from porchlight.kit.service_ops import Observed
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import Store
from services.identity.contacts_rpc import NOTIFICATIONS_UNAVAILABLE, ContactsRpc
from services.identity.logo_rpc import LogoRpc
from services.identity.models import ALIAS, ApiKey, Customer, Workspace
from services.identity.passwords_rpc import PasswordsRpc
from services.identity.repository import API_KEY_PREFIX, IdentityRepository
from services.identity.sign_in_rpc import SignInRpc
from services.identity.team_rpc import TeamRpc

# How long identity waits for the broker to take an email or a sign-in request it hands
# over (it never waits for the work itself).
HANDOVER_TIMEOUT = 5.0
# A sign-in's email work (its code, its email, the worker's send) starts this long after the
# answer left: were it to start at once, its CPU on a small machine would slow the answer
# on its way out — by a couple of milliseconds, on known addresses only, which is enough
# to tell them apart (tests/faults/test_capacity.py). A quarter second is nothing to wait
# for an email.
SIGN_IN_SETTLE = 0.25
SIGN_IN_UNAVAILABLE = "Sign-in emails cannot be sent just now. Please try again in a minute."


def workspace_to_wire(ws: Workspace) -> dict[str, Any]:
    return answer(WorkspaceReply, **{
        "id": str(ws.id),
        "name": ws.name,
        "currency": ws.currency,
        "timezone": ws.timezone,
        "brand_colour": ws.brand_colour,
        "logo_url": ws.logo_url,
        "logo_sha256": ws.logo_sha256,
        "notification_addresses": list(ws.notification_addresses or []),
        "sender_name": ws.sender_name,
        "reply_to": ws.reply_to,
        "created_at": isoformat(ws.created_at),
    })


def api_key_to_wire(key: ApiKey) -> dict[str, Any]:
    return answer(ApiKeyReply, **{
        "id": str(key.id),
        "workspace_id": key.workspace_id,
        "label": key.label,
        "last4": key.last4,
        "created_at": isoformat(key.created_at),
        "revoked_at": isoformat(key.revoked_at),
    })


def customer_to_wire(customer: Customer) -> dict[str, Any]:
    return answer(CustomerReply, **{
        "id": str(customer.id),
        "workspace_id": customer.workspace_id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "preferred_language": customer.preferred_language,
        "created_at": isoformat(customer.created_at),
    })


class IdentityService(ContactsRpc, SignInRpc, PasswordsRpc, TeamRpc, LogoRpc, Ping, Observed):
    name = "identity"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: IdentityRepository = Store(ALIAS, IdentityRepository)
    dispatch = EventDispatcher()
    grant_key = GrantKey()  # signs or checks customers' grants (porchlight.kit.grants)
    # Invitation and sign-in emails go to notifications without waiting for it, and a
    # sign-in request finishes on identity's own queue once its answer has gone (see
    # ``sign_in_rpc``).
    notifications = RpcHandover("notifications", timeout=HANDOVER_TIMEOUT,
                                refusal=NOTIFICATIONS_UNAVAILABLE)
    later = RpcHandover("identity", timeout=HANDOVER_TIMEOUT, refusal=SIGN_IN_UNAVAILABLE,
                        after_answer=True, settle=SIGN_IN_SETTLE)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def create_workspace(self, data: dict, actor: str = "cli") -> dict[str, Any]:
        """Create a workspace and its first staff API key (returned once, raw)."""
        fields = parse(WorkspaceInput, data).model_dump()
        workspace = self.repo.create_workspace(**fields)
        workspace_id = str(workspace.id)
        key, raw = self.repo.create_api_key(workspace_id, actor, label="first key")
        self.dispatch("workspace_created", fact(workspace_id, actor))
        self.dispatch("api_key_created", fact(workspace_id, actor, api_key_id=str(key.id)))
        return {"workspace": workspace_to_wire(workspace), "api_key": raw, "api_key_id": str(key.id)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_workspace(self, workspace_id: str) -> dict[str, Any]:
        return workspace_to_wire(self.repo.get_workspace(workspace_id))

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
        current = self.repo.get_workspace(workspace_id)
        changes = {k: v for k, v in sent.items() if getattr(current, k) != v}
        if not changes:
            return workspace_to_wire(current)
        workspace = self.repo.update_workspace(workspace_id, changes)
        self.dispatch("workspace_updated", fact(workspace_id, actor, fields=sorted(changes)))
        return workspace_to_wire(workspace)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def authenticate_api_key(self, raw_key: str) -> dict[str, Any]:
        """Answer which workspace a staff key belongs to, or raise Unauthorized."""
        if (
            not isinstance(raw_key, str) or not raw_key.startswith(API_KEY_PREFIX)
            or len(raw_key) > 100
        ):
            raise Unauthorized("Invalid API key.")
        key = self.repo.find_active_key(raw_key)
        if key is None:
            raise Unauthorized("Invalid API key.")
        return {"workspace_id": key.workspace_id, "api_key_id": str(key.id)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def create_api_key(self, workspace_id: str, actor: str, data: dict | None = None) -> dict[str, Any]:
        label = parse(ApiKeyInput, data or {}).label
        self.repo.get_workspace(workspace_id)
        key, raw = self.repo.create_api_key(workspace_id, actor, label=label)
        self.dispatch("api_key_created", fact(workspace_id, actor, api_key_id=str(key.id)))
        return {"api_key": raw, **api_key_to_wire(key)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_api_keys(self, workspace_id: str) -> list[dict[str, Any]]:
        return [api_key_to_wire(key) for key in self.repo.list_api_keys(workspace_id)]

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def revoke_api_key(self, workspace_id: str, actor: str, key_id: str) -> dict[str, Any]:
        key = self.repo.revoke_api_key(workspace_id, key_id)
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
        self.repo.get_workspace(workspace_id)
        customer = self.repo.create_customer(workspace_id, actor, **fields)
        self.dispatch("customer_created", fact(workspace_id, actor, customer_id=str(customer.id)))
        return customer_to_wire(customer)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_customer(self, workspace_id: str, customer_id: str) -> dict[str, Any]:
        return customer_to_wire(self.repo.get_customer(workspace_id, customer_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_customers(self, workspace_id: str) -> list[dict[str, Any]]:
        return [customer_to_wire(c) for c in self.repo.list_customers(workspace_id)]
