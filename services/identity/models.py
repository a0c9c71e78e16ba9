"""The identity service's records: workspaces, staff API keys, customers."""

from __future__ import annotations

import mongoengine as me

from porchlight.clock import utcnow

ALIAS = "identity"


class Workspace(me.Document):
    meta = {"db_alias": ALIAS, "collection": "workspaces"}

    name = me.StringField(required=True)
    currency = me.StringField(required=True)
    timezone = me.StringField(required=True)
    brand_colour = me.StringField(required=True)
    logo_url = me.StringField()
    # Mail settings: who in the office hears of customers' actions, and how mail is signed.
    notification_addresses = me.ListField(me.StringField(), default=list)
    sender_name = me.StringField()
    reply_to = me.StringField()
    created_at = me.DateTimeField(required=True, default=utcnow)


class ApiKey(me.Document):
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
