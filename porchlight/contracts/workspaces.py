"""Workspaces (owned by identity): the business, its brand, currency and time zone."""

from __future__ import annotations

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, Moment
from porchlight.contracts.fields import Colour, Currency, HttpsUrl, Timezone, optional, optional_text, text


class WorkspaceInput(Contract):
    name: text(120, description="The business's name, shown to its customers.")
    currency: Currency = "EUR"
    timezone: Timezone = "UTC"
    brand_colour: Colour = Field("#1d4ed8", description="The portal's accent colour.")
    logo_url: optional(HttpsUrl) = None


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
