"""The identity service's records: workspaces, staff API keys, customers, and the
customers' portal accounts — contacts, their sign-in codes and sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.kit.attempt_limits import AttemptRecord
from porchlight.kit.idempotency import CommandRecord
from porchlight.kit.storage import expires
from porchlight.runtime.settings import get_settings

ALIAS = "identity"


class Workspace(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: it is the tenant."
    meta = {"db_alias": ALIAS, "collection": "workspaces"}

    name = me.StringField(required=True)
    currency = me.StringField(required=True)
    timezone = me.StringField(required=True)
    brand_colour = me.StringField(required=True)
    # The uploaded logo's SHA-256 (``WorkspaceLogo``); none: no logo.
    logo_sha256 = me.StringField()
    # Mail settings: who in the office hears of customers' actions, and how mail is signed.
    notification_addresses = me.ListField(me.StringField(), default=list)
    sender_name = me.StringField()
    reply_to = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)

    @property
    def logo_url(self) -> str | None:
        """Where customers' pages and emails load the logo: the portal itself, so no other
        host sees who views them."""
        if not self.logo_sha256:
            return None
        return f"{get_settings().portal_base_url}/logos/{self.id}/{self.logo_sha256}"


class WorkspaceLogo(me.Document):
    """A workspace's logo, stored without its image metadata, served by the portal."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists, replaced by the next upload."
    meta = {"db_alias": ALIAS, "collection": "workspace_logos",
            "indexes": [{"fields": ["workspace_id"], "unique": True}]}

    workspace_id = me.StringField(required=True)
    sha256 = me.StringField(required=True)
    content_type = me.StringField(required=True)
    content = me.BinaryField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)


class ApiKey(me.Document):
    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists, revoked keys too: who acted with which key stays answerable.")
    meta = {
        "db_alias": ALIAS,
        "collection": "api_keys",
        "indexes": [
            {"fields": ["key_hash"], "unique": True},
            {"fields": ["workspace_id", "created_at"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    key_hash = me.StringField(required=True)
    last4 = me.StringField(required=True)
    label = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    revoked_at = me.DateTimeField()


class Customer(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: the business's customers."
    meta = {
        "db_alias": ALIAS,
        "collection": "customers",
        "indexes": [{"fields": ["workspace_id", "name"]}, {"fields": ["workspace_id", "email"]}],
    }

    workspace_id = me.StringField(required=True)
    name = me.StringField(required=True)
    email = me.StringField()
    phone = me.StringField()
    preferred_language = me.StringField(required=True, default="en")
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)


# -- customer accounts --------------------------------------------------------------------
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
            {"fields": ["workspace_id", "customer_id", "name"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    customer_id = me.StringField(required=True)
    name = me.StringField(required=True)
    email = me.StringField(required=True)
    email_key = me.StringField(required=True)
    email_slot = me.StringField(required=True)
    phone = me.StringField()
    role = me.StringField(required=True, choices=ROLES)
    invitation_status = me.StringField(required=True, choices=INVITATION_STATUSES, default="none")
    invited_at = me.DateTimeField()
    joined_at = me.DateTimeField()
    last_sign_in_at = me.DateTimeField()
    access_removed_at = me.DateTimeField()
    password_hash = me.StringField()
    password_temporary = me.BooleanField(required=True, default=False)
    password_expires_at = me.DateTimeField()  # a temporary password's end; none for one chosen
    # When the last sign-in or reset email went, by purpose (``access.EMAIL_EVERY``).
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


class IdentityCommand(CommandRecord):
    """A staff command carried out under an idempotency key (``porchlight.kit.idempotency``)."""

    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
