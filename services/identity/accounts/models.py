"""The customers' portal accounts: contacts, the sign-in codes sent to them, their
sessions, and the attempts the limits count."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.kit.attempt_limits import AttemptRecord
from porchlight.kit.storage import expires
from services.identity import ALIAS

ROLES = ("owner", "member")
INVITATION_STATUSES = ("none", "invited", "accepted")


class Contact(me.Document):
    """A person of a customer who may sign in to the portal. ``email_slot`` holds the
    lower-cased address while the contact has access, and a unique index on it makes
    the address unique among a workspace's active contacts; removing access frees it."""

    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists, removed access too: what a contact did stays attributable.")
    meta = {
        "db_alias": ALIAS,
        "collection": "contacts",
        "indexes": [
            {"fields": ["workspace_id", "email_slot"], "unique": True},
            {"fields": ["email_key"]},
            {"fields": ["workspace_id", "customer_id", "name", "id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    name = me.StringField(required=True)
    email = me.StringField(required=True)
    email_key = me.StringField(required=True)
    email_slot = me.StringField(required=True)
    phone = me.StringField()
    # Their own choice of language for pages and emails; none: their customer's.
    language = me.StringField()
    role = me.StringField(required=True, choices=ROLES)
    invitation_status = me.StringField(required=True, choices=INVITATION_STATUSES, default="none")
    invited_at = me.DateTimeField()
    joined_at = me.DateTimeField()
    last_sign_in_at = me.DateTimeField()
    access_removed_at = me.DateTimeField()
    password_hash = me.StringField()
    password_temporary = me.BooleanField(required=True, default=False)
    password_expires_at = me.DateTimeField()  # a temporary password's end; none for one chosen
    # When the last sign-in or reset email went, by purpose (``rules.EMAIL_EVERY``).
    emailed_at = me.DictField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)


class SignInCode(me.Document):
    """One way in for one contact, sent by email: a link (its token hashed) and a 6-digit
    code (hashed with the record's id), for one ``purpose``. It works once, until
    ``expires_at``, and dies after too many wrong codes; a newer one of the same purpose
    for the same contact kills it."""

    meta = {
        "db_alias": ALIAS,
        "collection": "sign_in_codes",
        "indexes": [
            {"fields": ["token_hash"], "unique": True},
            {"fields": ["email_key", "expires_at"]},
            {"fields": ["contact_id", "purpose"]},
            {"fields": ["workspace_id", "purpose", "created_at"]},
            {"fields": ["customer_id", "sent_by", "purpose", "created_at"]},  # owners' invitations
            # Gone a week after it stopped working: long enough to answer "was I sent one?".
            expires("expires_at", timedelta(days=7)),
        ],
    }

    workspace_id = me.StringField(required=True)
    customer_id = me.StringField()
    contact_id = me.StringField(required=True)
    email_key = me.StringField(required=True)
    purpose = me.StringField(required=True,
                             choices=("invitation", "sign_in", "password_reset", "set_password"))
    # Who sent an invitation: staff (the workspace's window) or an owner of the customer
    # (the customer's own, smaller window). Unset: staff, or not an invitation.
    sent_by = me.StringField(choices=("staff", "owner"))
    token_hash = me.StringField(required=True)
    code_hash = me.StringField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)
    expires_at = me.DateTimeField(required=True)
    wrong_codes = me.IntField(required=True, default=0)
    used_at = me.DateTimeField()
    revoked_at = me.DateTimeField()


class PortalSession(me.Document):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is here."""

    meta = {
        "db_alias": ALIAS,
        "collection": "portal_sessions",
        "indexes": [
            {"fields": ["id_hash"], "unique": True},
            {"fields": ["contact_id", "ended_at"]},
            # Gone a day after it could no longer sign anyone in, however it ended.
            expires("expires_at", timedelta(days=1)),
        ],
    }

    id_hash = me.StringField(required=True)
    workspace_id = me.StringField(required=True)
    contact_id = me.StringField(required=True)
    created_at = me.DateTimeField(required=True, default=utcnow)
    last_seen_at = me.DateTimeField(required=True, default=utcnow)
    expires_at = me.DateTimeField(required=True)
    ended_at = me.DateTimeField()
    ip = me.StringField()


class Attempt(AttemptRecord):
    """The sign-in attempts against one limit's key (``email:<address>``, ``ip:<address>``)
    in one window (``porchlight.kit.attempt_limits``)."""

    meta = {"db_alias": ALIAS, "collection": "sign_in_attempts", "indexes": AttemptRecord.INDEXES}
