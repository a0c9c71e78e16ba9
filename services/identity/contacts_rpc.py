"""Staff's side of customer accounts: a customer's portal contacts, their invitations,
temporary passwords and the removal of their access. Each change is announced as a fact
(``contact_created``, ``contact_invited``, …) naming ids only — never a link, a code or a
password."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.contacts import Contact as ContactReply
from porchlight.contracts.contacts import ContactInput, ContactPatch
from porchlight.contracts.errors import CONTRACT_ERRORS, Conflict, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.notifications import MailWorkspace
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.runtime.settings import get_settings
from services.identity import access
from services.identity.models import Contact, SignInCode, Workspace
from services.identity.passwords import argon2, hash_password

NOTIFICATIONS_UNAVAILABLE = "The email could not be queued; nothing was sent. Try again shortly."


def contact_to_wire(contact: Contact) -> dict[str, Any]:
    return answer(ContactReply, **{
        "id": str(contact.id), "workspace_id": contact.workspace_id,
        "customer_id": contact.customer_id, "name": contact.name, "email": contact.email,
        "phone": contact.phone, "role": contact.role,
        "invitation_status": contact.invitation_status,
        "invited_at": isoformat(contact.invited_at), "joined_at": isoformat(contact.joined_at),
        "last_sign_in_at": isoformat(contact.last_sign_in_at),
        "has_access": contact.access_removed_at is None,
        "access_removed_at": isoformat(contact.access_removed_at),
        "has_password": bool(contact.password_hash), "created_at": isoformat(contact.created_at),
    })


def portal_link(path: str, token: str) -> str:
    """``/portal/sign-in/<token>`` or ``/portal/reset-password/<token>`` on the portal."""
    return f"{get_settings().portal_base_url}/portal/{path}/{token}"


class ContactsRpc:
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def create_contact(self, workspace_id: str, actor: str, customer_id: str, data: dict) -> dict[str, Any]:
        fields = parse(ContactInput, data).model_dump()
        self.repo.get_customer(workspace_id, customer_id)
        contact = self.repo.accounts.add_contact(workspace_id, customer_id, actor, fields)
        self.dispatch("contact_created", fact(workspace_id, actor, customer_id=customer_id,
                                              contact_id=str(contact.id)))
        return contact_to_wire(contact)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_contacts(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        self.repo.get_customer(workspace_id, customer_id)
        return [contact_to_wire(c) for c in self.repo.accounts.contacts_of(workspace_id, customer_id)]

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
        return self._invite(self._with_access(workspace_id, customer_id, contact_id), actor)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def set_temporary_password(self, workspace_id: str, actor: str, customer_id: str,
                               contact_id: str) -> dict[str, Any]:
        """A one-time password, returned once, that works for ``TEMPORARY_PASSWORD_LIFETIME``;
        the contact must choose their own when they first sign in with it. Their open
        sessions end. Hashing takes tens of milliseconds of CPU, so it runs in eventlet's
        thread pool, not on the hub."""
        contact = self._with_access(workspace_id, customer_id, contact_id)
        raw = access.temporary_password()
        expires_at = utcnow() + access.TEMPORARY_PASSWORD_LIFETIME
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

    def _invite(self, contact: Contact, actor: str, *, by_owner: bool = False) -> dict[str, Any]:
        """A new invitation for ``contact``, counted in staff's window of the workspace or,
        sent by an owner, in the customer's own. The invitation that was out dies only once
        the new one is admitted and handed over: a refused re-invite leaves it working."""
        record, token, code = self.repo.accounts.issue(
            contact, "invitation", sent_by="owner" if by_owner else "staff", keep_earlier=True)
        self.repo.accounts.invitations_allowed(record)
        email = self._email_contact(contact, record, "contact_invitation", portal_link("sign-in", token),
                                    code)
        self.repo.accounts.revoke_earlier(record)
        changes: dict[str, Any] = {"invited_at": utcnow()}
        if contact.invitation_status != "accepted":
            changes["invitation_status"] = "invited"
        contact = self.repo.accounts.update_contact(contact, changes)
        self.dispatch("contact_invited", fact(contact.workspace_id, actor, customer_id=contact.customer_id,
                                              contact_id=str(contact.id)))
        return {"contact": contact_to_wire(contact), "expires_at": isoformat(record.expires_at),
                "email": email}

    def _with_access(self, workspace_id: str, customer_id: str, contact_id: str) -> Contact:
        contact = self.repo.accounts.contact(workspace_id, customer_id, contact_id)
        if contact.access_removed_at is not None:
            raise Conflict("This contact's access was removed; add them again to give it back.")
        return contact

    def _email_contact(self, contact: Contact, record: SignInCode, template: str, url: str,
                       code: str | None) -> dict[str, Any]:
        """Hand the link and code to notifications, point to point and without waiting for
        it (calls flow one way: notifications never calls back, the command carries the
        workspace's branding). If the broker will not take it, the code is withdrawn —
        nothing half-done stays behind — and the caller hears 503."""
        try:
            self._hand_contact_email(contact, template, f"{record.purpose}:{record.id}", record.expires_at,
                                     url, code)
        except BaseException:
            self.repo.accounts.withdraw(record)
            raise
        return {"to": contact.email, "template": template, "status": "handed_over"}

    def _hand_contact_email(self, contact: Contact, template: str, cause: str, ends: Any, url: str,
                            code: str | None) -> None:
        """The one way identity emails a contact (``ContactEmailCommand``)."""
        customer = self.repo.get_customer(contact.workspace_id, contact.customer_id)
        workspace = self.repo.get_workspace(contact.workspace_id)
        self.notifications.email_contact(contact.workspace_id, {
            "workspace": mail_workspace(workspace), "template": template, "cause": cause,
            "contact_id": str(contact.id), "customer_id": contact.customer_id,
            "name": contact.name, "email": contact.email, "company": customer.name,
            "language": customer.preferred_language, "expires_at": isoformat(ends),
            "url": url, "code": code})


def mail_workspace(workspace: Workspace) -> dict[str, Any]:
    """What an email needs of the workspace: the fields ``MailWorkspace`` names."""
    return {name: str(workspace.id) if name == "id" else getattr(workspace, name)
            for name in MailWorkspace.model_fields}
