"""The tenancy's records: workspaces (the tenants), their logos and staff API keys, and
their customers."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.contracts.languages import DEFAULT_LOCALE_TAG
from porchlight.runtime.settings import get_settings
from services.identity import ALIAS


class Workspace(me.Document):
    RETENTION: ClassVar[str] = "Kept while the workspace exists: it is the tenant."
    meta = {"db_alias": ALIAS, "collection": "workspaces"}

    name = me.StringField(required=True)
    currency = me.StringField(required=True)
    timezone = me.StringField(required=True)
    # How numbers and dates are written for readers of its language (a workspace made
    # before there was a choice reads as the default).
    locale = me.StringField(required=True, default=DEFAULT_LOCALE_TAG)
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
        "indexes": [{"fields": ["workspace_id", "name", "id"]}, {"fields": ["workspace_id", "email"]}],
    }

    workspace_id = me.StringField(required=True)
    name = me.StringField(required=True)
    email = me.StringField()
    phone = me.StringField()
    # The language the business says the customer reads; none said: their browser's, else
    # the workspace's (customers made before this was optional say "en").
    preferred_language = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
