"""The portal's side of customer accounts: asking for a sign-in link and code, opening the
link, typing the code, and the sessions that follow. The portal gateway holds no state of
its own about who is signed in: it asks here on every request, so every replica agrees and
a removed contact's open session fails on its very next request.

Every refusal to someone signing in says the same thing whether or not the address has
access. The limits (``accounts.rules``) are counted here.
"""

from __future__ import annotations

import logging
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import to_millis, utcnow
from porchlight.contracts.contacts import CodeSignIn, SessionUses, SignInRequest
from porchlight.contracts.errors import CONTRACT_ERRORS, Unauthorized, Unavailable
from porchlight.contracts.events import fact
from porchlight.kit.idempotency import PORTAL_FORMS, idempotent
from porchlight.kit.service_rpc import rpc
from services.identity.accounts import emails, rules, sessions
from services.identity.dependencies import IdentityDependencies

log = logging.getLogger(__name__)

SIGN_IN_PURPOSES = ("invitation", "sign_in")
# What each kind of emailed link is sent with: its template and the portal page it opens.
SIGN_IN_EMAILS = {"sign_in": ("contact_sign_in", "sign-in"),
                  "password_reset": ("contact_password_reset", "reset-password")}


class SignInRpc(IdentityDependencies):
    @rpc(expected_exceptions=CONTRACT_ERRORS + (Unavailable,))
    @idempotent(scope=PORTAL_FORMS)
    def request_sign_in(self, data: dict, ip: str | None = None) -> dict[str, bool]:
        """Email a link and a code to every contact with access who signs in with this
        address (one per workspace). The answer is the same whether or not there is any."""
        emails.ask_for(self.repo, self.later, parse(SignInRequest, data).email, ip, "sign_in")
        return {"sent": True}

    @rpc
    def email_sign_in(self, address: str, purpose: str) -> int:
        """identity's own hand-over (no gateway may call it): a new link (and, to sign in, a
        code) for every invited contact with access who signs in with this address, one
        per workspace, each handed to notifications — unless one went to them within
        ``rules.EMAIL_EVERY`` whose code still works. A failed email only makes a log line."""
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
                emails.email_code(self.repo, self.notifications, contact, record, template,
                                  emails.portal_link(path, token), code)
                sent += 1
            except Exception:  # noqa: BLE001 - the others still go; the log says which failed
                log.warning("no %s email for contact %s", purpose, contact.id)
        return sent

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def check_sign_in_link(self, token: str) -> dict[str, Any]:
        """What a sign-in link would do, changing nothing (mail scanners open links): the
        contact's first name and the business, or ``Unauthorized``."""
        record = sessions.live_record(self.repo, token, SIGN_IN_PURPOSES)
        contact = sessions.contact_of(self.repo, record)
        workspace = self.repo.tenancy.get_workspace(contact.workspace_id)
        return {"first_name": contact.name.split()[0], "workspace_name": workspace.name,
                "purpose": record.purpose}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_in_with_link(self, token: str, ip: str | None = None) -> dict[str, Any]:
        """Use a sign-in or invitation link, once: a new session for its contact."""
        if not isinstance(token, str) or not token.startswith(rules.SIGN_IN_TOKEN_PREFIX) or len(token) > 64:
            raise Unauthorized(sessions.DEAD_LINK)
        self.repo.accounts.count_attempt(rules.limits(None, ip), utcnow())
        record = self.repo.accounts.redeem_link(token, SIGN_IN_PURPOSES, utcnow())
        if record is None:
            raise Unauthorized(sessions.DEAD_LINK)
        return sessions.start(self.repo, self.dispatch, sessions.contact_of(self.repo, record), ip)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def sign_in_with_code(self, data: dict, ip: str | None = None) -> dict[str, Any]:
        """Use the 6-digit code from the email, typed with its address: a new session."""
        entered = parse(CodeSignIn, data)
        now = utcnow()
        self.repo.accounts.count_attempt(rules.limits(entered.email, ip), now)
        record = self.repo.accounts.redeem_code(entered.email, entered.code, SIGN_IN_PURPOSES, now)
        if record is None:
            raise Unauthorized(sessions.WRONG_CODE)
        return sessions.start(self.repo, self.dispatch, sessions.contact_of(self.repo, record), ip)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def resolve_session(self, raw: str) -> dict[str, Any]:
        """Who a session cookie signs in, or ``Unauthorized``: ended, past its 30 days, idle
        for 14, or its contact's access removed."""
        return sessions.signed_in(self.repo, *sessions.session_contact(self.repo, raw))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def record_session_use(self, batch: dict) -> dict[str, int]:
        """When the sessions a reader (the portal) served from memory were last used
        (``SessionUses``), so that a session in use never ends as idle: each one's last use
        only moves forward, never past this service's now; ended, unknown or malformed ones
        are skipped. Uses are not facts anyone subscribes to: nothing is dispatched."""
        uses = parse(SessionUses, batch).sessions
        now = utcnow()
        return {"updated": self.repo.accounts.record_uses(
            (use.session_id, min(to_millis(use.last_used_at), now)) for use in uses)}

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
