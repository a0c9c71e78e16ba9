"""Customers' capabilities for tests that call documents directly, as sharing and identity
would sign them (``porchlight.kit.grants``, with the test process's key)."""

from __future__ import annotations

from datetime import datetime

from porchlight.contracts.share_tokens import ALLOWED_PERMISSIONS
from porchlight.kit import grants

A_LINK_ID = "5" * 24


def link(workspace_id: str, entity_type: str, entity_id: str, *permissions: str,
         now: datetime | None = None) -> str:
    """The capability a share link to one record gives."""
    capability, _ = grants.issue(
        now=now, workspace_id=workspace_id, share_token_id=A_LINK_ID, entity_type=entity_type,
        entity_id=entity_id, permissions=permissions or ALLOWED_PERMISSIONS[entity_type])
    return capability


A_CONTACT_ID, A_SESSION_ID = "6" * 24, "7" * 24


def session(workspace_id: str, customer_id: str, role: str = "owner", contact_id: str = A_CONTACT_ID,
            now: datetime | None = None, session_id: str = A_SESSION_ID) -> str:
    """The capability a signed-in contact's session gives."""
    capability, _ = grants.issue(now=now, workspace_id=workspace_id, customer_id=customer_id,
                                 contact_id=contact_id, session_id=session_id, role=role)
    return capability
