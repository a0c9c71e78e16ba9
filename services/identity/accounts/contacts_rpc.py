"""Staff's side of customer accounts: a customer's portal contacts, their invitations,
temporary passwords and the removal of their access. Each change is announced as a fact
(``contact_created``, ``contact_invited``, …) naming ids only — never a link, a code or a
password."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.contacts import (
    ContactInput,
    ContactPatch,
    ReadersQuery,
    RecordReaders,
)
from porchlight.contracts.errors import CONTRACT_ERRORS, Unavailable
from porchlight.contracts.events import fact
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from services.identity.accounts import emails, rules
from services.identity.accounts.passwords import argon2, hash_password
from services.identity.accounts.wire import contact_list, contact_to_wire
from services.identity.dependencies import IdentityDependencies
from services.identity.tenancy.wire import customer_to_wire


class ContactsRpc(IdentityDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def create_contact(self, workspace_id: str, actor: str, customer_id: str, data: dict) -> dict[str, Any]:
        fields = parse(ContactInput, data).model_dump()
        self.repo.tenancy.get_customer(workspace_id, customer_id)
        contact = self.repo.accounts.add_contact(workspace_id, customer_id, actor, fields)
        self.dispatch("contact_created", fact(workspace_id, actor, customer_id=customer_id,
                                              contact_id=str(contact.id)))
        return contact_to_wire(contact)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_contacts(self, workspace_id: str, customer_id: str, query: dict) -> dict[str, Any]:
        """The customer's contacts by name, a page at a time (``ContactQuery``)."""
        self.repo.tenancy.get_customer(workspace_id, customer_id)
        return contact_list(self.repo.accounts, workspace_id, customer_id, query)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def record_readers(self, workspace_id: str, customer_id: str, roles: list[str]) -> dict[str, Any]:
        """Whom a record's email goes to (``RecordReaders``): the customer, and those of its
        contacts in ``roles`` who read its records in the portal (``Accounts.readers``)."""
        request = parse(ReadersQuery, {"roles": roles})
        customer = self.repo.tenancy.get_customer(workspace_id, customer_id)
        readers = self.repo.accounts.readers(workspace_id, customer_id, list(request.roles))
        return answer(RecordReaders, customer=customer_to_wire(customer), contacts=[
            {"id": str(c.id), "name": c.name, "email": c.email, "role": c.role, "language": c.language}
            for c in readers])

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_portal_access(self, workspace_id: str, customer_id: str) -> dict[str, int]:
        """How many of the customer's contacts have portal access and accepted their
        invitation (``joined``): whether anyone would see what is shared with the customer.
        ``NotFound`` for a customer the workspace does not hold."""
        self.repo.tenancy.get_customer(workspace_id, customer_id)
        return {"joined": self.repo.accounts.joined(workspace_id, customer_id)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_contact(self, workspace_id: str, customer_id: str, contact_id: str) -> dict[str, Any]:
        return contact_to_wire(self.repo.accounts.contact(workspace_id, customer_id, contact_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def update_contact(self, workspace_id: str, actor: str, customer_id: str, contact_id: str,
                       data: dict) -> dict[str, Any]:
        patch = parse(ContactPatch, data)
        changes = patch.model_dump(include=patch.sent())
        contact = self.repo.accounts.contact(workspace_id, customer_id, contact_id)
        changes = {k: v for k, v in changes.items() if getattr(contact, k) != v}
        if not changes:
            return contact_to_wire(contact)
        contact = self.repo.accounts.update_contact(contact, changes)
        self.dispatch("contact_updated", fact(workspace_id, actor, customer_id=customer_id,
                                              contact_id=contact_id, fields=sorted(changes)))
        return contact_to_wire(contact)

    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent()
    def invite_contact(self, workspace_id: str, actor: str, customer_id: str,
                       contact_id: str) -> dict[str, Any]:
        """Email the contact a sign-in link and a 6-digit code. Inviting again sends a new
        invitation and the old one stops working. At most ``INVITATIONS_PER_WINDOW`` per
        workspace in any rolling 24 hours (``TooManyRequests`` after)."""
        contact = self.repo.accounts.with_access(workspace_id, customer_id, contact_id)
        return emails.invite(self.repo, self.notifications, self.dispatch, contact, actor)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def set_temporary_password(self, workspace_id: str, actor: str, customer_id: str,
                               contact_id: str) -> dict[str, Any]:
        """A one-time password, returned once, that works for ``TEMPORARY_PASSWORD_LIFETIME``;
        the contact must choose their own when they first sign in with it. Their open
        sessions end. Hashing takes tens of milliseconds of CPU, so it runs in eventlet's
        thread pool, not on the hub."""
        contact = self.repo.accounts.with_access(workspace_id, customer_id, contact_id)
        raw = rules.temporary_password()
        expires_at = utcnow() + rules.TEMPORARY_PASSWORD_LIFETIME
        contact = self.repo.accounts.update_contact(
            contact, {"password_hash": argon2(hash_password, raw), "password_temporary": True,
                      "password_expires_at": expires_at})
        self.repo.accounts.end_sessions(contact_id)
        self.dispatch("contact_password_set", fact(workspace_id, actor, customer_id=customer_id,
                                                   contact_id=contact_id, temporary=True))
        return {"contact": contact_to_wire(contact), "temporary_password": raw,
                "expires_at": isoformat(expires_at)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def remove_access(self, workspace_id: str, actor: str, customer_id: str,
                      contact_id: str) -> dict[str, Any]:
        """End every session of the contact at once and stop their links and codes; what
        they asked for or answered stays. Removing again changes nothing."""
        contact = self.repo.accounts.contact(workspace_id, customer_id, contact_id)
        already = contact.access_removed_at is not None
        contact = self.repo.accounts.remove_access(contact)
        if not already:
            self.dispatch("contact_access_removed", fact(workspace_id, actor, customer_id=customer_id,
                                                         contact_id=contact_id))
        return contact_to_wire(contact)
