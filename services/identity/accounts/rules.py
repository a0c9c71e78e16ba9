"""The rules of signing in to the portal, as numbers and small pure functions: how long a
link or code lives, how many tries it allows, the limits per workspace, address and IP
(and the keys a try counts against), and how secrets are made and hashed. Identity
enforces them, so every portal replica agrees."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from porchlight.contracts import share_tokens
from porchlight.kit import attempt_limits, grants

# An invitation waits for days (people read mail late); a sign-in or reset link minutes.
LIFETIMES = {
    "invitation": timedelta(days=3),
    "sign_in": timedelta(minutes=15),
    "password_reset": timedelta(minutes=15),
    "set_password": timedelta(minutes=15),  # a code only: a first password needs it
}
MAX_WRONG_CODES = 5
# A sign-in or reset email goes to a contact at most this often: asking again sooner sends
# nothing and the code already out keeps working (a mailbox cannot be flooded, and the
# person is not left holding an email whose code a second request killed).
EMAIL_EVERY = timedelta(minutes=3)
# Who may ask for a sign-in or reset email: contacts staff (or an owner) invited — and so
# those who have joined. A contact only added, never invited, has no way in yet.
MAY_ASK_FOR_EMAILS = ("invited", "accepted")
# A record's email goes to at most this many of its customer's contacts (by name).
MAX_READERS_EMAILED = 50

INVITATIONS_PER_WINDOW = 50  # sent by staff, per workspace
OWNER_INVITATIONS_PER_WINDOW = 10  # sent by a customer's owners, per customer
INVITATION_WINDOW = timedelta(hours=24)

# Sign-in attempts per IP (a link asked for or opened, a code or password tried) and per
# address (a code or password tried), in each window of
# ``porchlight.kit.attempt_limits.WINDOW``. Asking for emails is not counted per address:
# ``EMAIL_EVERY`` bounds what they cost the address's owner, and counting them would let
# anyone lock a person out by asking in their name. A password is also counted per address
# and network together, so that the right one still works from a network its contact
# signed in from lately while the address is over its own limit.
ATTEMPT_WINDOW = attempt_limits.WINDOW
ATTEMPTS_PER_ADDRESS = 10
ATTEMPTS_PER_IP = 50
KNOWN_NETWORK_DAYS = 30

SIGN_IN_TOKEN_PREFIX = f"{share_tokens.SIGN_IN_PREFIX}_"
TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
TEMPORARY_PASSWORD_LENGTH = 16
# A temporary password is for one first sign-in, soon after staff gave it: later it is refused.
TEMPORARY_PASSWORD_LIFETIME = timedelta(hours=72)


def email_key(address: str) -> str:
    """How addresses are compared: without surrounding space, lower-cased."""
    return address.strip().lower()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_token() -> str:
    return SIGN_IN_TOKEN_PREFIX + secrets.token_hex(20)


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(record_id: str, code: str) -> str:
    """A keyed hash: a 6-digit code has a million values, so a plain hash in a stolen
    database would give every live code back in a moment. The key is not in the database
    (``grants.derived_key``); the record's id makes the same code hash differently in two
    records."""
    key = grants.derived_key("sign-in-code")
    return hmac.new(key, f"{record_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def temporary_password() -> str:
    return "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))


def limits(address: str | None, ip: str | None) -> dict[str, int]:
    """The attempt limits a try counts against (``ATTEMPTS_PER_ADDRESS`` and the rest):
    the address's and the IP's."""
    keys = {}
    if address:
        keys[f"email:{email_key(address)}"] = ATTEMPTS_PER_ADDRESS
    if ip:
        keys[f"ip:{attempt_limits.ip_bucket(ip)}"] = ATTEMPTS_PER_IP
    return keys


def network_limit(address: str, ip: str | None) -> dict[str, int]:
    """The limit on one address's tries from one network (``attempt_limits.ip_bucket``)."""
    if not ip:
        return {}
    return {f"pair:{email_key(address)}|{attempt_limits.ip_bucket(ip)}": ATTEMPTS_PER_ADDRESS}
