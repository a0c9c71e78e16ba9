"""Who is signed in: the flows the portal's sign-in, password and team calls share, as
plain functions given what they use — a live session and its contact, the record a link
opens, a new session for someone who just proved who they are, and the answer that says
who is signed in (with the grant documents checks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.errors import Unauthorized
from porchlight.contracts.events import fact
from porchlight.contracts.words import N_
from porchlight.kit import grants
from porchlight.runtime.settings import get_settings
from services.identity.accounts import rules
from services.identity.accounts.models import Contact, PortalSession, SignInCode
from services.identity.store import IdentityRepository

WRONG_CODE = N_("That code is not right, or it is no longer valid. Ask for a new one.")
DEAD_LINK = N_("This sign-in link is no longer valid. Ask for a new one.")
SIGNED_OUT = N_("Please sign in.")
# A session's last use is written at most this often, not on every page.
TOUCH_EVERY = timedelta(minutes=5)


def session_contact(repo: IdentityRepository, raw: str) -> tuple[Contact, PortalSession]:
    """The contact a live session signs in and the session (its last use stamped at most
    every ``TOUCH_EVERY``), or ``Unauthorized``. The portal's commands start here: two
    reads, not the four of the whole signed-in answer."""
    now = utcnow()
    idle = timedelta(days=get_settings().portal_session_idle_days)
    session = (repo.accounts.session(raw, now, idle)
               if isinstance(raw, str) and 20 <= len(raw) <= 100 else None)
    contact = repo.accounts.contact_by_id(session.contact_id) if session else None
    if session is None or contact is None or contact.access_removed_at is not None:
        raise Unauthorized(SIGNED_OUT)
    if now - as_utc(session.last_seen_at) > TOUCH_EVERY:
        repo.accounts.touch(session, now)
    return contact, session


def live_record(repo: IdentityRepository, token: str, purposes: tuple[str, ...]) -> SignInCode:
    """What a link would open, changing nothing, or ``Unauthorized``."""
    record = (repo.accounts.peek_link(token, purposes, utcnow())
              if isinstance(token, str) and token.startswith(rules.SIGN_IN_TOKEN_PREFIX) else None)
    if record is None:
        raise Unauthorized(DEAD_LINK)
    return record


def contact_of(repo: IdentityRepository, record: SignInCode) -> Contact:
    """The contact a link or code is for, while they have access."""
    contact = repo.accounts.contact_by_id(record.contact_id)
    if contact is None or contact.access_removed_at is not None:
        raise Unauthorized(DEAD_LINK)
    return contact


def start(repo: IdentityRepository, dispatch: Any, contact: Contact, ip: str | None) -> dict[str, Any]:
    """A new session for a contact who just proved who they are (an invitation so
    accepted); the answer carries the raw session id, once."""
    now = utcnow()
    if contact.invitation_status != "accepted":
        contact = repo.accounts.update_contact(contact, {"invitation_status": "accepted", "joined_at": now})
        dispatch("contact_joined", fact(contact.workspace_id, f"contact:{contact.id}",
                                        customer_id=contact.customer_id, contact_id=str(contact.id)))
    lifetime = timedelta(days=get_settings().portal_session_max_days)
    raw, session = repo.accounts.start_session(contact, ip, now, lifetime)
    dispatch("contact_signed_in", fact(contact.workspace_id, f"contact:{contact.id}",
                                       customer_id=contact.customer_id, contact_id=str(contact.id)))
    return {"session": raw, **signed_in(repo, contact, session)}


def signed_in(repo: IdentityRepository, contact: Contact, session: PortalSession) -> dict[str, Any]:
    """Who is signed in, and ``capability``: a grant signed for documents
    (``porchlight.kit.grants``) naming their workspace, customer, contact and role, which
    documents shows and answers their records on — never on the portal's word. The portal
    may keep this answer until ``expires_at`` or ``idle_ends_at``, and its capability
    while it still has a while to run (``capability_expires_at``), whichever comes first,
    and drops it when an event names the contact or the workspace."""
    workspace = repo.tenancy.get_workspace(contact.workspace_id)
    customer = repo.tenancy.get_customer(contact.workspace_id, contact.customer_id)
    capability, capability_ends = grants.issue(ends_at=session.expires_at, workspace_id=contact.workspace_id,
                                 customer_id=contact.customer_id, contact_id=str(contact.id),
                                 session_id=str(session.id), role=contact.role)
    # This answer is a use: unused from now, the session would end as idle at this moment.
    idle_ends = utcnow() + timedelta(days=get_settings().portal_session_idle_days)
    return {
        "capability": capability, "capability_expires_at": isoformat(capability_ends),
        "session_id": str(session.id), "expires_at": isoformat(session.expires_at),
        "idle_ends_at": isoformat(min(idle_ends, as_utc(session.expires_at))),
        "workspace_id": contact.workspace_id,
        "workspace": {"name": workspace.name, "brand_colour": workspace.brand_colour,
                      "id": contact.workspace_id, "logo_sha256": workspace.logo_sha256,
                      "timezone": workspace.timezone, "locale": workspace.locale},
        "customer": {"id": contact.customer_id, "name": customer.name,
                     "preferred_language": customer.preferred_language},
        "contact": {"id": str(contact.id), "name": contact.name, "email": contact.email,
                    "phone": contact.phone, "role": contact.role, "language": contact.language},
        "has_password": bool(contact.password_hash),
        "must_change_password": bool(contact.password_temporary),
    }
