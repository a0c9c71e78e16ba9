"""Workspaces (owned by identity): the business, its brand, currency and time zone."""

from __future__ import annotations

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, Moment
from porchlight.contracts.fields import Colour, Currency, HttpsUrl, Timezone, optional, optional_text, text

NAME = "The business's name, shown to its customers."
BRAND_COLOUR = "The portal's accent colour."
LOGO_URL = "The logo shown on the portal's pages; null for none."
CURRENCY = ("The currency new estimates are priced in. An estimate keeps the currency it "
            "was created with.")
TIMEZONE = ("The time zone the portal shows times in, and in which a new or re-dated "
            "estimate's valid-until day ends. Existing estimates keep their end.")


class WorkspaceInput(Contract):
    name: text(120, description=NAME)
    currency: Currency = Field("EUR", description=CURRENCY)
    timezone: Timezone = Field("UTC", description=TIMEZONE)
    brand_colour: Colour = Field("#1d4ed8", description=BRAND_COLOUR)
    logo_url: optional(HttpsUrl) = Field(None, description=LOGO_URL)


class WorkspacePatch(Contract):
    """Only the fields sent change; `name`, `currency`, `timezone` and `brand_colour`
    cannot be cleared, `logo_url` is cleared with null. Customers see the change on their
    next page view."""

    name: text(120, description=NAME) = None
    currency: Currency = Field(None, description=CURRENCY)
    timezone: Timezone = Field(None, description=TIMEZONE)
    brand_colour: Colour = Field(None, description=BRAND_COLOUR)
    logo_url: optional(HttpsUrl) = Field(None, description=LOGO_URL)


class ApiKeyInput(Contract):
    label: optional_text(80, description="What the key is for, e.g. 'office laptop'.") = None


class Workspace(Reply):
    id: IdText
    name: str
    currency: str
    timezone: str
    brand_colour: str
    logo_url: str | None
    created_at: Moment
