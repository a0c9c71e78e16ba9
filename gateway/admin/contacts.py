"""Portal contacts: a customer's people who sign in to the portal. Staff add them, invite
them, give one a temporary password and remove their access. Identity owns them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.contacts import (
    Contact,
    ContactInput,
    ContactList,
    ContactPatch,
    ContactQuery,
    Invitation,
    TemporaryPassword,
)

api = Api(Blueprint("contacts", __name__))

CONTACT = "/customers/<customer_id>/contacts/<contact_id>"


@api.operation("POST", "/customers/<customer_id>/contacts", "createContact", tag="contacts", status=201,
               body=ContactInput, reply=Contact, errors=(404, 409, 422))
def create_contact(customer_id: str, body: ContactInput) -> Any:
    """Add a portal contact

    A person of the customer who may sign in to the portal once invited. Their address must not
    belong to another contact of the workspace who has access (409). An `owner` sees everything
    shared with the customer; a `member` never sees money.
    """
    with rpc() as services:
        return services.identity.create_contact(g.workspace_id, g.actor, customer_id, wire(body))


@api.operation("GET", "/customers/<customer_id>/contacts", "listContacts", tag="contacts", query=ContactQuery,
               reply=ContactList, errors=(404, 422))
def list_contacts(customer_id: str, query: ContactQuery) -> Any:
    """List a customer's portal contacts

    Every contact of the customer, by name, those whose access was removed included.
    """
    with rpc() as services:
        return services.identity.list_contacts(g.workspace_id, customer_id, wire(query, partial=True))


@api.operation("GET", CONTACT, "getContact", tag="contacts", reply=Contact, errors=(404,))
def get_contact(customer_id: str, contact_id: str) -> Any:
    """Get a portal contact

    One contact, with their invitation status and last sign-in.
    """
    with rpc() as services:
        return services.identity.get_contact(g.workspace_id, customer_id, contact_id)


@api.operation("PATCH", CONTACT, "updateContact", tag="contacts", body=ContactPatch, reply=Contact,
               errors=(404, 409, 422))
def update_contact(customer_id: str, contact_id: str, body: ContactPatch) -> Any:
    """Change a portal contact

    Changes the name, phone or role. A contact whose access was removed cannot change (409).
    """
    with rpc() as services:
        return services.identity.update_contact(
            g.workspace_id, g.actor, customer_id, contact_id, wire(body, partial=True))


@api.operation("POST", CONTACT + "/invite", "inviteContact", tag="contacts", reply=Invitation,
               errors=(404, 409, 429))
def invite_contact(customer_id: str, contact_id: str) -> Any:
    """Invite a contact to the portal

    Emails the contact a sign-in link and a 6-digit code (for another device), valid once for 3
    days. Inviting again sends a new invitation and the old one stops working once the new one is on
    its way. At most 50 invitations sent by staff per workspace in any 24 hours (a customer's owners
    have their own window in the portal): the next answers 429 with `Retry-After` and the invitation
    that was out keeps working. A contact whose access was removed is a conflict (409).
    """
    with rpc() as services:
        return services.identity.invite_contact(g.workspace_id, g.actor, customer_id, contact_id)


@api.operation("POST", CONTACT + "/temporary-password", "setTemporaryPassword", tag="contacts",
               reply=TemporaryPassword, errors=(404, 409))
def set_temporary_password(customer_id: str, contact_id: str) -> Any:
    """Give a contact a temporary password

    Returns a one-time password, shown only here, for a contact who cannot receive email; they must
    choose their own when they sign in with it. Their open sessions end.
    """
    with rpc() as services:
        return services.identity.set_temporary_password(g.workspace_id, g.actor, customer_id, contact_id)


@api.operation("POST", CONTACT + "/remove-access", "removeContactAccess", tag="contacts", reply=Contact,
               errors=(404,))
def remove_contact_access(customer_id: str, contact_id: str) -> Any:
    """Remove a contact's access

    Ends every session of the contact at once and stops their links and codes; what they asked for
    or answered stays. Their address is free for a new contact. Removing again changes nothing.
    """
    with rpc() as services:
        return services.identity.remove_access(g.workspace_id, g.actor, customer_id, contact_id)
