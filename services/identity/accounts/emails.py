"""How identity emails a contact — an invitation, a sign-in link and code, a reset link, a
code to set a first password, the notice that a password was set — as plain functions
given what they use. Each email is handed to notifications point to point without waiting
for it (calls flow one way: notifications never calls back, the command carries the
workspace's branding)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.events import fact
from porchlight.contracts.words import N_
from porchlight.runtime.settings import get_settings
from services.identity.accounts import rules
from services.identity.accounts.models import Contact, SignInCode
from services.identity.accounts.wire import contact_to_wire
from services.identity.store import IdentityRepository
from services.identity.tenancy.wire import mail_workspace

NOTIFICATIONS_UNAVAILABLE = N_("The email could not be queued; nothing was sent. Try again shortly.")


def ask_for(repo: IdentityRepository, later: Any, address: str, ip: str | None, purpose: str) -> None:
    """Someone asks for a ``purpose`` email (sign-in, reset) to ``address``: count it
    against the IP's limit, then hand the rest to identity's own queue (``email_sign_in``)
    once the answer has been sent. Whose address it is is looked up after the answer, so a
    known address and an unknown one cost the asker the same work and the same time (work
    started before the answer left would slow it, on a known address only). Were the
    broker to refuse the hand-over then, the asker (already told "sent") gets no email and
    asks again."""
    repo.accounts.count_attempt(rules.limits(None, ip), utcnow())
    later.email_sign_in(address, purpose)


def portal_link(path: str, token: str) -> str:
    """``/portal/sign-in/<token>`` or ``/portal/reset-password/<token>`` on the portal."""
    return f"{get_settings().portal_base_url}/portal/{path}/{token}"


def hand_over(repo: IdentityRepository, notifications: Any, contact: Contact, template: str, cause: str,
              ends: datetime, url: str, code: str | None) -> None:
    """The one way identity emails a contact (``ContactEmailCommand``); ``ends``: the
    moment past which the email is no longer worth sending."""
    customer = repo.tenancy.get_customer(contact.workspace_id, contact.customer_id)
    workspace = repo.tenancy.get_workspace(contact.workspace_id)
    notifications.email_contact(contact.workspace_id, {
        "workspace": mail_workspace(workspace), "template": template, "cause": cause,
        "contact_id": str(contact.id), "customer_id": contact.customer_id,
        "name": contact.name, "email": contact.email, "company": customer.name,
        "language": contact.language or customer.preferred_language, "expires_at": isoformat(ends),
        "url": url, "code": code})


def email_code(repo: IdentityRepository, notifications: Any, contact: Contact, record: SignInCode,
               template: str, url: str, code: str | None) -> dict[str, Any]:
    """Hand a new link or code (``record``) to notifications. If the broker will not take
    it, the code is withdrawn — nothing half-done stays behind — and the caller hears 503."""
    try:
        hand_over(repo, notifications, contact, template, f"{record.purpose}:{record.id}",
                  record.expires_at, url, code)
    except BaseException:
        repo.accounts.withdraw(record)
        raise
    return {"to": contact.email, "template": template, "status": "handed_over"}


def invite(repo: IdentityRepository, notifications: Any, dispatch: Any, contact: Contact, actor: str,
           *, by_owner: bool = False) -> dict[str, Any]:
    """A new invitation for ``contact``, counted in staff's window of the workspace or,
    sent by an owner, in the customer's own. The invitation that was out dies only once
    the new one is admitted and handed over: a refused re-invite leaves it working."""
    record, token, code = repo.accounts.issue(
        contact, "invitation", sent_by="owner" if by_owner else "staff", keep_earlier=True)
    repo.accounts.invitations_allowed(record)
    email = email_code(repo, notifications, contact, record, "contact_invitation",
                       portal_link("sign-in", token), code)
    repo.accounts.revoke_earlier(record)
    changes: dict[str, Any] = {"invited_at": utcnow()}
    if contact.invitation_status != "accepted":
        changes["invitation_status"] = "invited"
    contact = repo.accounts.update_contact(contact, changes)
    dispatch("contact_invited", fact(contact.workspace_id, actor, customer_id=contact.customer_id,
                                     contact_id=str(contact.id)))
    return {"contact": contact_to_wire(contact), "expires_at": isoformat(record.expires_at),
            "email": email}
