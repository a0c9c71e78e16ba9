"""Storage of the customers' portal accounts: contacts, sign-in codes, sessions and the
attempts the limits count. Staff queries take the workspace id; the sign-in queries find
their record by a secret's hash (a link, a session id) or by the address typed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from mongoengine import NotUniqueError
from pymongo import UpdateOne

from porchlight.contracts.clock import as_utc, utcnow
from porchlight.contracts.errors import Conflict, NotFound, TooManyRequests
from porchlight.contracts.words import N_
from porchlight.kit import attempt_limits
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.identity.accounts import rules
from services.identity.accounts.models import Attempt, Contact, PortalSession, SignInCode

NO_CONTACT = N_("No such contact.")
TOO_MANY_ATTEMPTS = N_("Too many sign-in attempts. Please wait a few minutes and try again.")
ACCESS_REMOVED = N_("This contact's access was removed; add them again to give it back.")
TAKEN = N_("Another contact of this workspace already signs in with this address.")
LAST_OWNER = N_("Your company needs at least one owner with access. Make someone else an owner "
                "first.")
NOT_A_CURSOR = N_("Not a cursor of this list of contacts.")
# An owner's invitations (the portal's team page) and staff's (the admin API, in English).
OWNER_INVITATIONS_SPENT = N_("Your company has sent %(limit)s invitations in the last 24 hours, the most it "
                             "may; try again later.")
STAFF_INVITATIONS_SPENT = ("This workspace has sent %(limit)s invitations in the last 24 hours, the most it "
                           "may; try again later.")


def _removed_slot(contact_id: Any, key: str) -> str:
    return f"{key}#removed#{contact_id}"


class Accounts:
    def ensure_indexes(self) -> None:
        for model in (Contact, SignInCode, PortalSession, Attempt):
            model.ensure_indexes()

    def migrate(self, now: datetime | None = None) -> int:
        """Temporary passwords given before they had an end get one, from now: they stop
        working ``TEMPORARY_PASSWORD_LIFETIME`` after this start, not at once. Returns how
        many were given an end (none after the first start)."""
        ends = (now or utcnow()) + rules.TEMPORARY_PASSWORD_LIFETIME
        # Across workspaces: a migration of the whole store.
        return Contact.objects(password_temporary=True, password_expires_at=None).update(
            set__password_expires_at=ends)

    # -- contacts -------------------------------------------------------------------------
    def add_contact(self, workspace_id: str, customer_id: str, actor: str, fields: dict[str, Any]) -> Contact:
        """A new contact of the customer; the first with access is its owner whatever role
        was asked (``FIRST_IS_OWNER`` in the contract), so no company starts without one."""
        key = rules.email_key(fields["email"])
        if not Contact.objects(workspace_id=workspace_id, customer_id=customer_id,
                               access_removed_at=None).first():
            fields = {**fields, "role": "owner"}
        try:
            return Contact(workspace_id=workspace_id, customer_id=customer_id, created_by=actor,
                           email_key=key, email_slot=key, **fields).save(force_insert=True)
        except NotUniqueError:
            raise Conflict(TAKEN) from None

    def contact(self, workspace_id: str, customer_id: str, contact_id: str) -> Contact:
        found = get_in_workspace(Contact, workspace_id, contact_id, NO_CONTACT)
        if found.customer_id != customer_id:
            raise NotFound(NO_CONTACT)
        return found

    def with_access(self, workspace_id: str, customer_id: str, contact_id: str) -> Contact:
        """The contact, who must still have access (``Conflict``: removed)."""
        contact = self.contact(workspace_id, customer_id, contact_id)
        if contact.access_removed_at is not None:
            raise Conflict(ACCESS_REMOVED)
        return contact

    def forget_contact(self, contact: Contact) -> None:
        """Take back a contact just added whose invitation could not go: nothing of them
        stays (they never had a code, a session or an answer)."""
        SignInCode.objects(contact_id=str(contact.id)).delete()
        Contact.objects(id=contact.id).delete()

    def contact_by_id(self, contact_id: str) -> Contact | None:
        return Contact.objects(id=contact_id).first()

    def contact_page(self, workspace_id: str, customer_id: str, *, cursor: str | None,
                     limit: int) -> tuple[list[Contact], bool]:
        """A page of the customer's contacts by name (``page_after``)."""
        return page_after(Contact, Contact.objects(workspace_id=workspace_id, customer_id=customer_id),
                          workspace_id, cursor, order="name", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def active_with_email(self, address: str, *, invited: bool = False) -> list[Contact]:
        """Every contact, in any workspace, who may sign in with this address — with
        ``invited``, only those who were invited (``rules.MAY_ASK_FOR_EMAILS``)."""
        found = Contact.objects(email_key=rules.email_key(address), access_removed_at=None)
        if invited:
            found = found.filter(invitation_status__in=rules.MAY_ASK_FOR_EMAILS)
        return list(found)

    def readers(self, workspace_id: str, customer_id: str, roles: list[str]) -> list[Contact]:
        """The customer's contacts in ``roles`` who read their records in the portal: those
        with access who were invited (``rules.MAY_ASK_FOR_EMAILS``), by name."""
        found = Contact.objects(workspace_id=workspace_id, customer_id=customer_id, access_removed_at=None,
                                invitation_status__in=rules.MAY_ASK_FOR_EMAILS, role__in=roles)
        return list(found.order_by("name", "id").limit(rules.MAX_READERS_EMAILED))

    def joined(self, workspace_id: str, customer_id: str) -> int:
        """How many of the customer's contacts with access accepted their invitation."""
        return Contact.objects(workspace_id=workspace_id, customer_id=customer_id, access_removed_at=None,
                               invitation_status="accepted").count()

    def may_email(self, contact: Contact, purpose: str, now: datetime) -> bool:
        """Whether a ``purpose`` email (sign-in or reset) may go to the contact now, and if
        so the claim to send it: not while one sent within ``rules.EMAIL_EVERY`` still
        has a working code. Of two asking at once, one claims (a conditional update on
        the time the last went)."""
        if SignInCode.objects(contact_id=str(contact.id), purpose=purpose, used_at=None, revoked_at=None,
                              wrong_codes__lt=rules.MAX_WRONG_CODES, expires_at__gt=now,
                              created_at__gt=now - rules.EMAIL_EVERY).first() is not None:
            return False
        last = (contact.emailed_at or {}).get(purpose)
        return Contact.objects(id=contact.id, **{f"emailed_at__{purpose}": last}).update(
            **{f"set__emailed_at__{purpose}": now}) == 1

    def signed_in_from(self, contact: Contact, ip: str | None, now: datetime) -> bool:
        """Whether the contact signed in from this network (``attempt_limits.ip_bucket``)
        within ``rules.KNOWN_NETWORK_DAYS``."""
        if not ip:
            return False
        network = attempt_limits.ip_bucket(ip)
        since = now - timedelta(days=rules.KNOWN_NETWORK_DAYS)
        recent = PortalSession.objects(contact_id=str(contact.id), created_at__gt=since).only("ip")
        return any(s.ip and attempt_limits.ip_bucket(s.ip) == network
                   for s in recent.order_by("-created_at").limit(50))

    def update_contact(self, contact: Contact, changes: dict[str, Any]) -> Contact:
        updated = Contact.objects(id=contact.id, access_removed_at=None).modify(
            new=True, set__updated_at=utcnow(), **{f"set__{k}": v for k, v in changes.items()})
        if updated is None:
            raise Conflict(ACCESS_REMOVED)
        return updated

    def remove_access(self, contact: Contact, *, keep_an_owner: bool = False) -> Contact:
        """Take the contact's access away: their sessions end and their links and codes stop
        at once. With ``keep_an_owner`` (an owner acting on the team page) the customer may
        not be left without an owner with access (``Conflict``)."""
        now = utcnow()
        removed = Contact.objects(id=contact.id, access_removed_at=None).modify(
            new=True, set__access_removed_at=now, set__updated_at=now)
        if removed is None:
            return Contact.objects.get(id=contact.id)  # removed already: nothing more to do
        if keep_an_owner and removed.role == "owner" and not self._has_owner(removed):
            Contact.objects(id=contact.id, access_removed_at=now).update(set__access_removed_at=None)
            raise Conflict(LAST_OWNER)
        # Only now is the address free for a new contact: undoing above never collides.
        removed = Contact.objects(id=contact.id).modify(
            new=True, set__email_slot=_removed_slot(contact.id, contact.email_key))
        self.end_sessions(str(contact.id))
        SignInCode.objects(contact_id=str(contact.id), used_at=None, revoked_at=None).update(
            set__revoked_at=now)
        return removed

    def change_role(self, contact: Contact, role: str, *, keep_an_owner: bool = False) -> Contact:
        """Set the contact's role; with ``keep_an_owner``, never leaving their customer
        without an owner with access (``Conflict``)."""
        changed = self.update_contact(contact, {"role": role})
        if keep_an_owner and contact.role == "owner" and role != "owner" and not self._has_owner(changed):
            Contact.objects(id=contact.id, role=role).update(set__role="owner")
            raise Conflict(LAST_OWNER)
        return changed

    def _has_owner(self, contact: Contact) -> bool:
        """Whether the contact's customer still has an owner with access. Checked after the
        change, not before: of two owners demoting each other at once, each then sees no
        owner and undoes their own change, so the customer is never left without one."""
        return Contact.objects(workspace_id=contact.workspace_id, customer_id=contact.customer_id,
                               role="owner", access_removed_at=None).count() > 0

    # -- sign-in codes --------------------------------------------------------------------
    def issue(self, contact: Contact, purpose: str, *, now: datetime | None = None,
              sent_by: str | None = None, keep_earlier: bool = False) -> tuple[SignInCode, str, str]:
        """A new link and code for ``purpose``; the contact's earlier ones of the same
        purpose stop working, unless ``keep_earlier`` (an invitation: they stop once the new
        one is admitted and handed over, ``revoke_earlier``). Returns the record, the raw
        link token and the raw code."""
        now = now or utcnow()
        record_id = ObjectId()
        token, code = rules.new_token(), rules.new_code()
        record = SignInCode(
            id=record_id, workspace_id=contact.workspace_id, customer_id=contact.customer_id,
            contact_id=str(contact.id), email_key=contact.email_key, purpose=purpose,
            sent_by=sent_by, token_hash=rules.sha256(token),
            code_hash=rules.code_hash(str(record_id), code), created_at=now,
            expires_at=now + rules.LIFETIMES[purpose])
        if not keep_earlier:
            self.revoke_earlier(record)
        record.save(force_insert=True)
        return record, token, code

    def revoke_earlier(self, record: SignInCode) -> None:
        """The contact's other live links and codes of the record's purpose stop working."""
        SignInCode.objects(contact_id=record.contact_id, purpose=record.purpose, used_at=None,
                           revoked_at=None, id__ne=record.id).update(set__revoked_at=record.created_at)

    def withdraw(self, record: SignInCode) -> None:
        """Forget a code whose email could not be sent: it never counted."""
        SignInCode.objects(id=record.id).delete()

    def invitations_allowed(self, record: SignInCode) -> None:
        """The rolling limit on invitations, counted after ``record`` was stored so two at
        once cannot both slip under it: staff's count in the workspace's window, a
        customer's owners' in that customer's own, so neither can use up the other's. Over
        the limit, ``record`` is withdrawn and the caller hears when the oldest in the
        window leaves it."""
        since = record.created_at - rules.INVITATION_WINDOW
        if record.sent_by == "owner":
            window = SignInCode.objects(customer_id=record.customer_id, sent_by="owner",
                                        purpose="invitation", created_at__gt=since)
            limit, spent = rules.OWNER_INVITATIONS_PER_WINDOW, OWNER_INVITATIONS_SPENT
        else:
            window = SignInCode.objects(workspace_id=record.workspace_id, sent_by__ne="owner",
                                        purpose="invitation", created_at__gt=since)
            limit, spent = rules.INVITATIONS_PER_WINDOW, STAFF_INVITATIONS_SPENT
        window = window.order_by("created_at", "id")
        if window.count() <= limit:
            return
        self.withdraw(record)
        oldest = as_utc(window.first().created_at)
        wait = (oldest + rules.INVITATION_WINDOW - as_utc(record.created_at)).total_seconds()
        raise TooManyRequests(spent % {"limit": limit}, int(wait) + 1)

    def redeem_link(self, token: str, purposes: tuple[str, ...], now: datetime) -> SignInCode | None:
        """Use a link once: the record it opens, or ``None`` (unknown, used, revoked,
        expired, or dead of wrong codes)."""
        return SignInCode.objects(
            token_hash=rules.sha256(token), purpose__in=purposes, used_at=None, revoked_at=None,
            expires_at__gt=now, wrong_codes__lt=rules.MAX_WRONG_CODES,
        ).modify(set__used_at=now, new=True)

    def peek_link(self, token: str, purposes: tuple[str, ...], now: datetime) -> SignInCode | None:
        """What a link would open, changing nothing (the page before the button)."""
        return SignInCode.objects(
            token_hash=rules.sha256(token), purpose__in=purposes, used_at=None, revoked_at=None,
            expires_at__gt=now, wrong_codes__lt=rules.MAX_WRONG_CODES).first()

    def live_codes(self, address: str, purposes: tuple[str, ...], now: datetime,
                   contact_id: str | None = None) -> list[SignInCode]:
        """The address's codes that may still be tried (of one contact, if named)."""
        found = SignInCode.objects(
            email_key=rules.email_key(address), purpose__in=purposes, used_at=None,
            revoked_at=None, expires_at__gt=now, wrong_codes__lt=rules.MAX_WRONG_CODES)
        return list(found.filter(contact_id=contact_id) if contact_id else found)

    def redeem_code(self, address: str, code: str, purposes: tuple[str, ...], now: datetime,
                    contact_id: str | None = None) -> SignInCode | None:
        """Use a code typed with its address once. Every try is spent before the code is
        compared — one conditional ``$inc`` per live code of the address, which fails once
        five are spent — so however many guesses arrive at once, at most five are ever
        compared against a code; the fifth spent try kills it (and its link)."""
        for record in self.live_codes(address, purposes, now, contact_id):
            spent = SignInCode.objects(
                id=record.id, used_at=None, revoked_at=None, expires_at__gt=now,
                wrong_codes__lt=rules.MAX_WRONG_CODES,
            ).modify(inc__wrong_codes=1, new=True)
            if spent is None or rules.code_hash(str(spent.id), code) != spent.code_hash:
                continue
            # The try that matched is not a wrong one; it must still find the code unused.
            return SignInCode.objects(id=record.id, used_at=None, revoked_at=None).modify(
                set__used_at=now, inc__wrong_codes=-1, new=True)
        return None

    # -- limits ---------------------------------------------------------------------------
    def count_attempt(self, keys: dict[str, int], now: datetime) -> None:
        """Count one attempt against each key, refusing it if a key is over its limit in
        the current window (``{"email:a@b.c": 10, "ip:192.0.2.1": 50}``;
        ``porchlight.kit.attempt_limits``)."""
        attempt_limits.count_attempt(Attempt, keys, now, TOO_MANY_ATTEMPTS)

    # -- sessions -------------------------------------------------------------------------
    def start_session(self, contact: Contact, ip: str | None, now: datetime,
                      lifetime: Any) -> tuple[str, PortalSession]:
        """A new session: the raw id for the cookie, and the stored record (its hash)."""
        raw = rules.new_session_id()
        session = PortalSession(id_hash=rules.sha256(raw), workspace_id=contact.workspace_id,
                                contact_id=str(contact.id), created_at=now, last_seen_at=now,
                                expires_at=now + lifetime, ip=ip).save(force_insert=True)
        Contact.objects(id=contact.id).update(set__last_sign_in_at=now)
        return raw, session

    def session(self, raw: str, now: datetime, idle: Any) -> PortalSession | None:
        """The live session this id names: not ended, not past its end, not idle too long."""
        return PortalSession.objects(id_hash=rules.sha256(raw), ended_at=None,
                                     expires_at__gt=now, last_seen_at__gt=now - idle).first()

    def touch(self, session: PortalSession, now: datetime) -> None:
        PortalSession.objects(id=session.id, ended_at=None).update(set__last_seen_at=now)

    def record_uses(self, uses: Iterable[tuple[str, datetime]]) -> int:
        """Move each session's last use forward to when a reader last served it —
        ``(session id, moment)``, never backwards, ended sessions left alone — in one bulk
        write; how many sessions it reached. An id that could name no session is skipped."""
        latest: dict[str, datetime] = {}
        for session_id, moment in uses:
            if is_object_id(session_id):
                latest[session_id] = max(moment, latest.get(session_id, moment))
        if not latest:
            return 0
        result = PortalSession._get_collection().bulk_write([
            UpdateOne({"_id": ObjectId(session_id), "ended_at": None}, {"$max": {"last_seen_at": moment}})
            for session_id, moment in latest.items()], ordered=False)
        return result.matched_count

    def end_session(self, raw: str) -> PortalSession | None:
        return PortalSession.objects(id_hash=rules.sha256(raw), ended_at=None).modify(
            set__ended_at=utcnow(), new=True)

    def end_sessions(self, contact_id: str, *, keep: Any = None) -> int:
        sessions = PortalSession.objects(contact_id=contact_id, ended_at=None)
        if keep is not None:
            sessions = sessions.filter(id__ne=keep)
        return sessions.update(set__ended_at=utcnow())



