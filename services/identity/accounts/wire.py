"""The accounts' records as the wire contracts describe them (``porchlight.contracts``)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.clock import isoformat
from porchlight.contracts.contacts import Contact as ContactReply
from porchlight.contracts.contacts import ContactQuery
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.kit.storage import next_cursor
from services.identity.accounts.models import Contact
from services.identity.accounts.repository import Accounts


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


def contact_list(accounts: Accounts, workspace_id: str, customer_id: str,
                 query: dict | None) -> dict[str, Any]:
    """A page of the customer's contacts by name (``ContactQuery``), for staff and for the
    customer's owners alike: ``{"contacts", "next_cursor"}``."""
    request = parse(ContactQuery, query or {}, message=QUERY_ATTENTION)
    found, more = accounts.contact_page(workspace_id, customer_id, cursor=request.cursor,
                                        limit=request.limit or DEFAULT_PAGE)
    return {"contacts": [contact_to_wire(c) for c in found], "next_cursor": next_cursor(found, more)}
