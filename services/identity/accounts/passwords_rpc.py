"""Passwords for portal contacts: signing in with one, choosing one (and the forced
change after a temporary password), and resetting a forgotten one by email.

Hashing and checking a password costs tens of milliseconds of CPU (argon2id); it runs in
eventlet's pool of real threads so the service keeps answering meanwhile. A wrong address
and a wrong password get the same answer in about the same time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.base import ATTENTION
from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.contacts import (
    LanguageChange,
    NewPassword,
    PasswordSignIn,
    PhoneChange,
    SignInRequest,
)
from porchlight.contracts.errors import (
    CONTRACT_ERRORS,
    Conflict,
    InvalidInput,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from porchlight.contracts.events import fact
from porchlight.contracts.words import N_
from porchlight.kit.idempotency import PORTAL_FORMS, idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.runtime.settings import get_settings
from services.identity.accounts import emails, rules, sessions
from services.identity.accounts.models import Contact
from services.identity.accounts.passwords import (
    argon2,
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from services.identity.accounts.sessions import WRONG_CODE
from services.identity.dependencies import IdentityDependencies
from services.identity.store import IdentityRepository

log = logging.getLogger(__name__)

WRONG_PASSWORD = N_("That email address and password do not match. Try again, or sign in with an emailed "
                    "code.")
WRONG_CURRENT = N_("That is not your current password.")
CODE_NEEDED = N_("Enter the code we emailed you. To get one, press “Email me a code”.")
HAS_PASSWORD = N_("You have a password already: change it with your current one.")
# A notice that a password was set, held up this long (notifications down), is not sent.
PASSWORD_NOTICE_WORTH = timedelta(days=1)
TEMPORARY_ENDED = N_("That temporary password has expired. Ask the business for a new one, or sign in "
                     "with an emailed code.")


class PasswordsRpc(IdentityDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_in_with_password(self, data: dict, ip: str | None = None) -> dict[str, Any]:
        """A new session for the contact whose address and password these are. A contact
        with a temporary password must choose their own next (``must_change_password``)."""
        entered = parse(PasswordSignIn, data)
        candidates = _password_candidates(self.repo, entered.email, ip, utcnow())
        if not candidates:
            argon2(verify_password, None, entered.password)  # the same time as a real check
            raise Unauthorized(WRONG_PASSWORD)
        for contact in candidates:
            if argon2(verify_password, contact.password_hash, entered.password):
                ends = contact.password_expires_at
                if contact.password_temporary and ends is not None and as_utc(ends) <= utcnow():
                    raise Unauthorized(TEMPORARY_ENDED)
                if needs_rehash(contact.password_hash):
                    self.repo.accounts.update_contact(
                        contact, {"password_hash": argon2(hash_password, entered.password)})
                return sessions.start(self.repo, self.dispatch, contact, ip)
        raise Unauthorized(WRONG_PASSWORD)

    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    def email_password_code(self, raw_session: str) -> dict[str, Any]:
        """Email the signed-in contact, who has no password yet, the code that setting
        their first one needs: a session alone (a borrowed phone, a stolen cookie) must not
        be enough to give its holder a way in that outlives it. ``sent`` is false when a
        code went within ``rules.EMAIL_EVERY`` and still works: that one is to be used."""
        contact, _ = sessions.session_contact(self.repo, raw_session)
        if contact.password_hash:
            raise Conflict(HAS_PASSWORD)
        now = utcnow()
        if not self.repo.accounts.may_email(contact, "set_password", now):
            return {"sent": False, "email": contact.email}
        record, _, code = self.repo.accounts.issue(contact, "set_password", now=now)
        emails.email_code(self.repo, self.notifications, contact, record, "contact_password_code",
                          f"{get_settings().portal_base_url}/portal/profile", code)
        return {"sent": True, "email": contact.email, "expires_at": isoformat(record.expires_at)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def change_password(self, raw_session: str, data: dict) -> dict[str, Any]:
        """Set the signed-in contact's password (``NewPassword``): the current one is asked
        for if they have one of their own; the emailed code (``email_password_code``) if
        they have none. Their other sessions end."""
        contact, session = sessions.session_contact(self.repo, raw_session)
        entered = parse(NewPassword, data)
        if contact.password_hash and not contact.password_temporary:
            if not argon2(verify_password, contact.password_hash, entered.current_password or ""):
                raise InvalidInput(ATTENTION, {"current_password": WRONG_CURRENT})
        if not contact.password_hash and not entered.code:
            raise InvalidInput(ATTENTION, {"code": CODE_NEEDED})
        # Hashed before the code is spent: a password refused (too weak, or no permit to
        # hash, 429) leaves the code working for the next try.
        password_hash = _new_password_hash(contact, entered.new_password)
        if not contact.password_hash:
            _spend_password_code(self.repo, contact, entered.code or "")
        self._keep_password(contact, password_hash)
        self.repo.accounts.end_sessions(str(contact.id), keep=session.id)
        return sessions.signed_in(self.repo, self.repo.accounts.contact_by_id(str(contact.id)), session)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def change_phone(self, raw_session: str, data: dict) -> dict[str, Any]:
        return self._change_own(raw_session, "phone", parse(PhoneChange, data).phone)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def change_language(self, raw_session: str, data: dict) -> dict[str, Any]:
        """The signed-in contact's own language for their pages and emails (null: their
        customer's)."""
        return self._change_own(raw_session, "language", parse(LanguageChange, data).language)

    def _change_own(self, raw_session: str, field: str, value: Any) -> dict[str, Any]:
        """One of the signed-in contact's own details, announced when it changed (the
        portal then drops what it keeps of their sessions)."""
        contact, session = sessions.session_contact(self.repo, raw_session)
        if value != getattr(contact, field):
            contact = self.repo.accounts.update_contact(contact, {field: value})
            self.dispatch("contact_updated", fact(contact.workspace_id, f"contact:{contact.id}",
                                                  customer_id=contact.customer_id,
                                                  contact_id=str(contact.id), fields=[field]))
        return sessions.signed_in(self.repo, contact, session)

    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent(scope=PORTAL_FORMS)
    def request_password_reset(self, data: dict, ip: str | None = None) -> dict[str, bool]:
        """Email a reset link to every contact with access who signs in with this address;
        the same answer whether or not there is any."""
        emails.ask_for(self.repo, self.later, parse(SignInRequest, data).email, ip, "password_reset")
        return {"sent": True}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def check_reset_link(self, token: str) -> dict[str, Any]:
        """Whose password a reset link would set, changing nothing."""
        contact = sessions.contact_of(self.repo, sessions.live_record(self.repo, token, ("password_reset",)))
        return {"first_name": contact.name.split()[0], "email": contact.email}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def reset_password(self, token: str, data: dict, ip: str | None = None) -> dict[str, Any]:
        """Set a new password with a reset link, once: every session of the contact ends
        and a new one starts here."""
        entered = parse(NewPassword, data)
        contact = sessions.contact_of(self.repo, sessions.live_record(self.repo, token, ("password_reset",)))
        # Hashed before the link is spent: a hash refused for want of a permit (429)
        # leaves the link working for the next try.
        password_hash = _new_password_hash(contact, entered.new_password)
        used = self.repo.accounts.redeem_link(token, ("password_reset",), utcnow())
        if used is None:
            raise Unauthorized(sessions.DEAD_LINK)
        self._keep_password(contact, password_hash)
        self.repo.accounts.end_sessions(str(contact.id))
        return sessions.start(self.repo, self.dispatch, self.repo.accounts.contact_by_id(str(contact.id)), ip)

    # -- helpers --------------------------------------------------------------------------
    def _keep_password(self, contact: Contact, password_hash: str) -> None:
        now = utcnow()
        self.repo.accounts.update_contact(
            contact, {"password_hash": password_hash, "password_temporary": False,
                      "password_expires_at": None})
        self.dispatch("contact_password_set", fact(contact.workspace_id, f"contact:{contact.id}",
                                                   customer_id=contact.customer_id,
                                                   contact_id=str(contact.id), temporary=False))
        # Told by email, so that someone who did not do it knows, and can reset it.
        try:
            emails.hand_over(
                self.repo, self.notifications, contact, "contact_password_changed",
                f"password_set:{contact.id}:{now.timestamp():.3f}", now + PASSWORD_NOTICE_WORTH,
                f"{get_settings().portal_base_url}/portal/forgot-password", None)
        except Exception:  # noqa: BLE001 - the password is set; the notice is not worth undoing it
            log.warning("no password notice for contact %s", contact.id)


def _spend_password_code(repo: IdentityRepository, contact: Contact, code: str) -> None:
    """Use the contact's code to set a first password, once, counted against their
    address's limit; ``InvalidInput`` on the code if it is not right."""
    now = utcnow()
    repo.accounts.count_attempt(rules.limits(contact.email, None), now)
    used = repo.accounts.redeem_code(contact.email, code, ("set_password",), now, str(contact.id))
    if used is None:
        raise InvalidInput(ATTENTION, {"code": WRONG_CODE})


def _password_candidates(repo: IdentityRepository, address: str, ip: str | None,
                         now: datetime) -> list[Contact]:
    """The contacts with a password who sign in with this address, once the try is
    counted: always per IP and per address from this network; per address too, and
    while the address is over that limit only from a network one of them signed in
    from lately (``rules.KNOWN_NETWORK_DAYS``) — so that nobody guessing elsewhere
    locks the address's owner out of their own password."""
    accounts = repo.accounts
    accounts.count_attempt(rules.limits(None, ip) | rules.network_limit(address, ip), now)
    candidates = [c for c in accounts.active_with_email(address) if c.password_hash]
    try:
        accounts.count_attempt(rules.limits(address, None), now)
    except TooManyRequests:
        candidates = [c for c in candidates if accounts.signed_in_from(c, ip, now)]
        if not candidates:
            raise
    return candidates


def _new_password_hash(contact: Contact, raw: str) -> str:
    check_new_password(raw, email=contact.email, name=contact.name)
    return argon2(hash_password, raw)
