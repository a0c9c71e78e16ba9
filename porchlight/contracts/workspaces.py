"""Workspaces (owned by identity): the business, its brand, currency and time zone."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import (
    Colour,
    Currency,
    Email,
    HttpsUrl,
    Timezone,
    optional,
    optional_text,
    text,
)

NAME = "The business's name, shown to its customers."
BRAND_COLOUR = "The portal's accent colour."
LOGO_URL = "The logo shown on the portal's pages; null for none."
CURRENCY = ("The currency new estimates are priced in. An estimate keeps the currency it "
            "was created with.")
TIMEZONE = ("The time zone the portal shows times in, and in which a new or re-dated "
            "estimate's valid-until day ends. Existing estimates keep their end.")
MAX_NOTIFICATION_ADDRESSES = 10
NOTIFICATION_ADDRESSES = (f"The office's addresses that hear of customers' answers and signatures, "
                          f"at most {MAX_NOTIFICATION_ADDRESSES}; a repeated address counts once. "
                          "An empty list: none.")
SENDER_NAME = "The name emails to customers come from, e.g. the business's name; null: the workspace's name."
REPLY_TO = "Where customers' replies to emails go; null: nowhere (no Reply-To)."


def _once_each(addresses: list[str]) -> list[str]:
    # Order kept, the first of each address wins; the domain is already lower-cased.
    return list(dict.fromkeys(addresses))


NotificationAddresses = Annotated[
    list[Email], Field(max_length=MAX_NOTIFICATION_ADDRESSES, description=NOTIFICATION_ADDRESSES),
    AfterValidator(_once_each)]


class WorkspaceInput(Contract):
    name: text(120, description=NAME)
    currency: Currency = Field("EUR", description=CURRENCY)
    timezone: Timezone = Field("UTC", description=TIMEZONE)
    brand_colour: Colour = Field("#1d4ed8", description=BRAND_COLOUR)
    logo_url: optional(HttpsUrl) = Field(None, description=LOGO_URL)


class WorkspacePatch(Contract):
    """Only the fields sent change; `name`, `currency`, `timezone`, `brand_colour` and
    `notification_addresses` cannot be cleared with null (send `[]` for no addresses);
    `logo_url`, `sender_name` and `reply_to` are cleared with null. Customers see the
    change on their next page view."""

    name: text(120, description=NAME) = None
    currency: Currency = Field(None, description=CURRENCY)
    timezone: Timezone = Field(None, description=TIMEZONE)
    brand_colour: Colour = Field(None, description=BRAND_COLOUR)
    logo_url: optional(HttpsUrl) = Field(None, description=LOGO_URL)
    notification_addresses: NotificationAddresses = None
    sender_name: optional_text(80, description=SENDER_NAME) = None
    reply_to: optional(Email) = Field(None, description=REPLY_TO)


class ApiKeyInput(Contract):
    label: optional_text(80, description="What the key is for, e.g. 'office laptop'.") = None


class Workspace(Reply):
    id: IdText
    name: str
    currency: str
    timezone: str
    brand_colour: str
    logo_url: str | None
    notification_addresses: list[str] = Field(description=NOTIFICATION_ADDRESSES)
    sender_name: str | None = Field(description=SENDER_NAME)
    reply_to: str | None = Field(description=REPLY_TO)
    created_at: Moment


class ApiKey(Reply):
    """A staff API key as the CLI lists it: never the key itself, which is shown once."""

    id: IdText
    workspace_id: IdText
    label: str | None
    last4: str
    created_at: Moment
    revoked_at: MaybeMoment
