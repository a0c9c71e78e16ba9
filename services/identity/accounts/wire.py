"""The accounts' records as the wire contracts describe them (``porchlight.contracts``)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.contacts import Contact as ContactReply
from services.identity.accounts.models import Contact


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
