"""The portal's side of customer accounts: asking for a sign-in link and code, opening the
link, typing the code, and the sessions that follow. The portal gateway holds no state of
its own about who is signed in: it asks here on every request, so every replica agrees and
a removed contact's open session fails on its very next request.

Every refusal to someone signing in says the same thing whether or not the address has
access. The limits (``services.identity.access``) are counted here.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.contacts import CodeSignIn, SignInRequest
from porchlight.contracts.errors import CONTRACT_ERRORS, Unauthorized, Unavailable
from porchlight.contracts.events import fact
from porchlight.kit import attempt_limits, grants
from porchlight.kit.idempotency import PORTAL_FORMS, idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.runtime.settings import get_settings
from services.identity import access
from services.identity.contacts_rpc import portal_link
from services.identity.models import Contact, PortalSession, SignInCode

log = logging.getLogger(__name__)

SIGN_IN_PURPOSES = ("invitation", "sign_in")
# What each kind of emailed link is sent with: its template and the portal page it opens.
SIGN_IN_EMAILS = {"sign_in": ("contact_sign_in", "sign-in"),
                  "password_reset": ("contact_password_reset", "reset-password")}
WRONG_CODE = "That code is not right, or it is no longer valid. Ask for a new one."
DEAD_LINK = "This sign-in link is no longer valid. Ask for a new one."
SIGNED_OUT = "Please sign in."
# A session's last use is written at most this often, not on every page.
TOUCH_EVERY = timedelta(minutes=5)


def limits(address: str | None, ip: str | None) -> dict[str, int]:
    """The attempt limits a try counts against (``access.ATTEMPTS_PER_ADDRESS`` and the
    rest): the address's and the IP's."""
    keys = {}
    if address:
        keys[f"email:{access.email_key(address)}"] = access.ATTEMPTS_PER_ADDRESS
    if ip:
        keys[f"ip:{attempt_limits.ip_bucket(ip)}"] = access.ATTEMPTS_PER_IP
    return keys


def network_limit(address: str, ip: str | None) -> dict[str, int]:
    """The limit on one address's tries from one network (``attempt_limits.ip_bucket``)."""
    if not ip:
        return {}
    return {f"pair:{access.email_key(address)}|{attempt_limits.ip_bucket(ip)}": access.ATTEMPTS_PER_ADDRESS}


class SignInRpc:
    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent(scope=PORTAL_FORMS)
    def request_sign_in(self, data: dict, ip: str | None = None) -> dict[str, bool]:
        """Email a link and a code to every contact with access who signs in with this
        address (one per workspace). The answer is the same whether or not there is any."""
        self._email_everyone(parse(SignInRequest, data).email, ip, "sign_in")
        return {"sent": True}

    def _email_everyone(self, address: str, ip: str | None, purpose: str) -> None:
        """Count the request against the limits, then hand the rest to this service's own
        queue once the answer has been sent: whose address it is is looked up after the
        answer, so a known address and an unknown one cost the asker the same work and the
        same time (work started before the answer left would slow it, on a known address
        only). Were the broker to refuse the hand-over then, the asker (already told "sent")
        gets no email and asks again."""
        self.repo.accounts.count_attempt(limits(None, ip), utcnow())
        self.later.email_sign_in(address, purpose)

    @rpc
    def email_sign_in(self, address: str, purpose: str) -> int:
        """identity's own hand-over (no gateway may call it): a new link (and, to sign in, a
        code) for every invited contact with access who signs in with this address, one
        per workspace, each handed to notifications — unless one went to them within
        ``access.EMAIL_EVERY`` whose code still works. A failed email only makes a log line."""
        template, path = SIGN_IN_EMAILS[purpose]
        sent = 0
        now = utcnow()
        for contact in self.repo.accounts.active_with_email(address, invited=True):
            if not self.repo.accounts.may_email(contact, purpose, now):
                continue
            record, token, code = self.repo.accounts.issue(contact, purpose, now=now)
            # A reset is done on the device that reads the email: its link goes alone.
            code = code if purpose == "sign_in" else None
            try:
                self._email_contact(contact, record, template, portal_link(path, token), code)
                sent += 1
            except Exception:  # noqa: BLE001 - the others still go; the log says which failed
                log.warning("no %s email for contact %s", purpose, contact.id)
        return sent

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def check_sign_in_link(self, token: str) -> dict[str, Any]:
        """What a sign-in link would do, changing nothing (mail scanners open links): the
        contact's first name and the business, or ``Unauthorized``."""
        record = self._live_record(token, SIGN_IN_PURPOSES)
        contact = self._contact_of(record)
        workspace = self.repo.get_workspace(contact.workspace_id)
        return {"first_name": contact.name.split()[0], "workspace_name": workspace.name,
                "purpose": record.purpose}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_in_with_link(self, token: str, ip: str | None = None) -> dict[str, Any]:
        """Use a sign-in or invitation link, once: a new session for its contact."""
        if not isinstance(token, str) or not token.startswith(access.SIGN_IN_TOKEN_PREFIX) or len(token) > 64:
            raise Unauthorized(DEAD_LINK)
        self.repo.accounts.count_attempt(limits(None, ip), utcnow())
        record = self.repo.accounts.redeem_link(token, SIGN_IN_PURPOSES, utcnow())
        if record is None:
            raise Unauthorized(DEAD_LINK)
        return self._start(record, ip)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_in_with_code(self, data: dict, ip: str | None = None) -> dict[str, Any]:
        """Use the 6-digit code from the email, typed with its address: a new session."""
        entered = parse(CodeSignIn, data)
        now = utcnow()
        self.repo.accounts.count_attempt(limits(entered.email, ip), now)
        record = self.repo.accounts.redeem_code(entered.email, entered.code, SIGN_IN_PURPOSES, now)
        if record is None:
            raise Unauthorized(WRONG_CODE)
        return self._start(record, ip)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def resolve_session(self, raw: str) -> dict[str, Any]:
        """Who a session cookie signs in, or ``Unauthorized``: ended, past its 30 days, idle
        for 14, or its contact's access removed."""
        return self._signed_in(*self._session_contact(raw))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_out(self, raw: str, everywhere: bool = False) -> dict[str, int]:
        """End this session — or, ``everywhere``, every session of its contact."""
        session = self.repo.accounts.end_session(raw) if isinstance(raw, str) else None
        if session is None:
            return {"ended": 0}
        ended = 1 + (self.repo.accounts.end_sessions(session.contact_id) if everywhere else 0)
        self.dispatch("contact_signed_out", fact(session.workspace_id, f"contact:{session.contact_id}",
                                                 contact_id=session.contact_id, everywhere=everywhere))
        return {"ended": ended}

    # -- helpers --------------------------------------------------------------------------
    def _session_contact(self, raw: str) -> tuple[Contact, PortalSession]:
        """The contact a live session signs in and the session (its last use stamped at
        most every ``TOUCH_EVERY``), or ``Unauthorized``. The portal's commands start here:
        two reads, not the four of the whole signed-in answer."""
        now = utcnow()
        idle = timedelta(days=get_settings().portal_session_idle_days)
        session = (self.repo.accounts.session(raw, now, idle)
                   if isinstance(raw, str) and 20 <= len(raw) <= 100 else None)
        contact = self.repo.accounts.contact_by_id(session.contact_id) if session else None
        if session is None or contact is None or contact.access_removed_at is not None:
            raise Unauthorized(SIGNED_OUT)
        if now - as_utc(session.last_seen_at) > TOUCH_EVERY:
            self.repo.accounts.touch(session, now)
        return contact, session

    def _live_record(self, token: str, purposes: tuple[str, ...]) -> SignInCode:
        record = (self.repo.accounts.peek_link(token, purposes, utcnow())
                  if isinstance(token, str) and token.startswith(access.SIGN_IN_TOKEN_PREFIX) else None)
        if record is None:
            raise Unauthorized(DEAD_LINK)
        return record

    def _contact_of(self, record: SignInCode) -> Contact:
        """The contact a link or code is for, while they have access."""
        contact = self.repo.accounts.contact_by_id(record.contact_id)
        if contact is None or contact.access_removed_at is not None:
            raise Unauthorized(DEAD_LINK)
        return contact

    def _start(self, record: SignInCode, ip: str | None) -> dict[str, Any]:
        return self._start_for(self._contact_of(record), ip)

    def _start_for(self, contact: Contact, ip: str | None) -> dict[str, Any]:
        """A new session for a contact who just proved who they are."""
        now = utcnow()
        if contact.invitation_status != "accepted":
            contact = self.repo.accounts.update_contact(
                contact, {"invitation_status": "accepted", "joined_at": now})
            self.dispatch("contact_joined", fact(contact.workspace_id, f"contact:{contact.id}",
                                                 customer_id=contact.customer_id, contact_id=str(contact.id)))
        lifetime = timedelta(days=get_settings().portal_session_max_days)
        raw, session = self.repo.accounts.start_session(contact, ip, now, lifetime)
        self.dispatch("contact_signed_in", fact(contact.workspace_id, f"contact:{contact.id}",
                                                customer_id=contact.customer_id, contact_id=str(contact.id)))
        return {"session": raw, **self._signed_in(contact, session)}

    def _signed_in(self, contact: Contact, session: PortalSession) -> dict[str, Any]:
        """Who is signed in, and ``capability``: a grant signed for documents
        (``porchlight.kit.grants``) naming their workspace, customer, contact and role, which
        documents shows and answers their records on — never on the portal's word."""
        workspace = self.repo.get_workspace(contact.workspace_id)
        customer = self.repo.get_customer(contact.workspace_id, contact.customer_id)
        capability, _ = grants.issue(ends_at=session.expires_at, workspace_id=contact.workspace_id,
                                     customer_id=contact.customer_id, contact_id=str(contact.id),
                                     session_id=str(session.id), role=contact.role)
        return {
            "capability": capability,
            "session_id": str(session.id), "expires_at": isoformat(session.expires_at),
            "workspace_id": contact.workspace_id,
            "workspace": {"name": workspace.name, "brand_colour": workspace.brand_colour,
                          "id": contact.workspace_id, "logo_sha256": workspace.logo_sha256,
                          "timezone": workspace.timezone},
            "customer": {"id": contact.customer_id, "name": customer.name},
            "contact": {"id": str(contact.id), "name": contact.name, "email": contact.email,
                        "phone": contact.phone, "role": contact.role},
            "has_password": bool(contact.password_hash),
            "must_change_password": bool(contact.password_temporary),
        }
