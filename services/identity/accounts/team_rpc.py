"""The customer's own side of their team: an owner, signed in to the portal, lists their
company's contacts, adds and invites a teammate, changes a role and removes access.

Every method takes the raw session id, not a contact id: identity itself decides who is
acting, so a gateway cannot act for anyone without their live session. A member is
refused (``Forbidden``); a contact of another customer is ``NotFound``. Unlike staff, an
owner can never leave their company without an owner with access (``Accounts`` keeps
that rule). Invitations sent here count in the same per-workspace window as staff's.
"""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.contacts import ContactInput, RoleChange
from porchlight.contracts.errors import CONTRACT_ERRORS, Forbidden, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.words import N_
from porchlight.kit.idempotency import PORTAL_FORMS, idempotent
from porchlight.kit.service_rpc import rpc
from services.identity.accounts import emails, sessions
from services.identity.accounts.models import Contact
from services.identity.accounts.wire import contact_list, contact_to_wire
from services.identity.dependencies import IdentityDependencies
from services.identity.store import IdentityRepository

OWNERS_ONLY = N_("Only an owner of your company can manage its team.")


class TeamRpc(IdentityDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_team(self, raw_session: str, query: dict | None = None) -> dict[str, Any]:
        """The owner's company's contacts by name, a page at a time (``ContactQuery``)."""
        owner = _owner(self.repo, raw_session)
        return contact_list(self.repo.accounts, owner.workspace_id, owner.customer_id, query)

    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent(scope=PORTAL_FORMS)
    def add_team_member(self, raw_session: str, data: dict) -> dict[str, Any]:
        """Add a teammate and email them an invitation, or neither: when the invitation
        cannot go (the window is full, the mail queue does not answer) the new contact is
        taken back and the error says why."""
        owner = _owner(self.repo, raw_session)
        fields = parse(ContactInput, data).model_dump()
        actor = _actor(owner)
        contact = self.repo.accounts.add_contact(owner.workspace_id, owner.customer_id, actor, fields)
        try:
            invitation = emails.invite(self.repo, self.notifications, self.dispatch, contact, actor,
                                       by_owner=True)
        except BaseException:
            self.repo.accounts.forget_contact(contact)
            raise
        self.dispatch("contact_created", fact(owner.workspace_id, actor, customer_id=owner.customer_id,
                                              contact_id=str(contact.id)))
        return invitation

    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent(scope=PORTAL_FORMS)
    def invite_team_member(self, raw_session: str, contact_id: str) -> dict[str, Any]:
        owner = _owner(self.repo, raw_session)
        contact = self.repo.accounts.with_access(owner.workspace_id, owner.customer_id, contact_id)
        return emails.invite(self.repo, self.notifications, self.dispatch, contact, _actor(owner),
                             by_owner=True)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(scope=PORTAL_FORMS)
    def change_team_role(self, raw_session: str, contact_id: str, data: dict) -> dict[str, Any]:
        owner = _owner(self.repo, raw_session)
        role = parse(RoleChange, data).role
        contact = self.repo.accounts.with_access(owner.workspace_id, owner.customer_id, contact_id)
        if contact.role == role:
            return contact_to_wire(contact)
        contact = self.repo.accounts.change_role(contact, role, keep_an_owner=True)
        self.dispatch("contact_updated", fact(owner.workspace_id, _actor(owner),
                                              customer_id=owner.customer_id, contact_id=contact_id,
                                              fields=["role"]))
        return contact_to_wire(contact)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(scope=PORTAL_FORMS)
    def remove_team_member(self, raw_session: str, contact_id: str) -> dict[str, Any]:
        """Remove a teammate's access (their sessions end at once). An owner may remove
        themselves while another owner remains; they are then signed out."""
        owner = _owner(self.repo, raw_session)
        contact = self.repo.accounts.contact(owner.workspace_id, owner.customer_id, contact_id)
        if contact.access_removed_at is not None:
            return contact_to_wire(contact)
        contact = self.repo.accounts.remove_access(contact, keep_an_owner=True)
        self.dispatch("contact_access_removed", fact(owner.workspace_id, _actor(owner),
                                                     customer_id=owner.customer_id, contact_id=contact_id))
        return contact_to_wire(contact)



def _owner(repo: IdentityRepository, raw_session: str) -> Contact:
    """The owner a live session signs in (``Forbidden``: a member)."""
    contact, _session = sessions.session_contact(repo, raw_session)
    if contact.role != "owner":
        raise Forbidden(OWNERS_ONLY)
    return contact


def _actor(contact: Contact) -> str:
    return f"contact:{contact.id}"
