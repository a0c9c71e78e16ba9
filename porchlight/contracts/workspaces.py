"""Workspaces (owned by identity): the business, its brand, currency and time zone."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import (
    Colour,
    Currency,
    Email,
    Timezone,
    optional,
    optional_text,
    text,
)
from porchlight.contracts.languages import DEFAULT_LOCALE_TAG, LocaleTag

NAME = "The business's name, shown to its customers."
BRAND_COLOUR = "The portal's accent colour."
LOGO_URL = ("Where the portal's pages and emails load the logo: the portal's own address "
            "(`/logos/<workspace>/<sha256>`), so no other host sees who views them. Null: no logo. "
            "Set it with `PUT /workspace/logo`.")
LOGO_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_LOGO_BYTES = 200 * 1024
CURRENCY = ("The currency new estimates are priced in. An estimate keeps the currency it "
            "was created with.")
TIMEZONE = ("The time zone the portal shows times in, and in which a new or re-dated "
            "estimate's valid-until day ends. Existing estimates keep their end.")
LOCALE = ("How the portal and emails write numbers, sums and dates for readers of its language "
          "(en-GB: 24/12/2026, £1,353.12; en-US: 12/24/2026); readers of another language get that "
          "language's home country's. The currency always comes from the record.")
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
    locale: LocaleTag = Field(DEFAULT_LOCALE_TAG, description=LOCALE)
    brand_colour: Colour = Field("#1d4ed8", description=BRAND_COLOUR)


class WorkspacePatch(Contract):
    """Only the fields sent change; `name`, `currency`, `timezone`, `locale`, `brand_colour` and
    `notification_addresses` cannot be cleared with null (send `[]` for no addresses);
    `sender_name` and `reply_to` are cleared with null (the logo: `DELETE /workspace/logo`). Customers see the
    change on their next page view."""

    name: text(120, description=NAME) = None
    currency: Currency = Field(None, description=CURRENCY)
    timezone: Timezone = Field(None, description=TIMEZONE)
    locale: LocaleTag = Field(None, description=LOCALE)
    brand_colour: Colour = Field(None, description=BRAND_COLOUR)
    notification_addresses: NotificationAddresses = None
    sender_name: optional_text(80, description=SENDER_NAME) = None
    reply_to: optional(Email) = Field(None, description=REPLY_TO)


class LogoUpload(Contract):
    """A logo as the admin gateway forwards it. identity decodes it, checks its size and that
    its content is an image of the declared type, and stores it without its metadata."""

    content_type: Literal["image/png", "image/jpeg", "image/webp"]
    content_b64: StrictStr = Field(min_length=1, description="The image's bytes, base64.")


class StoredLogo(Reply):
    """The logo as the portal serves it."""

    sha256: str
    content_type: str
    content_b64: str


class ApiKeyInput(Contract):
    label: optional_text(80, description="What the key is for, e.g. 'office laptop'.") = None


class Workspace(Reply):
    id: IdText
    name: str
    currency: str
    timezone: str
    locale: str = Field(description=LOCALE)
    brand_colour: str
    logo_url: str | None = Field(description=LOGO_URL)
    logo_sha256: str | None = Field(description="The logo's SHA-256; it names the logo's address, "
                                                "which changes with each new logo.")
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
