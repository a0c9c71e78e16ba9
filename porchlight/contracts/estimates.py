"""Estimates (owned by documents): priced offers a customer accepts or declines."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import CertificateId, IdText, MaybeMoment, Moment
from porchlight.contracts.fields import (
    Currency,
    DateText,
    DocumentNumber,
    Id,
    StrictBool,
    decimal,
    optional,
    optional_text,
    text,
)
from porchlight.contracts.notifications import CustomerEmail
from porchlight.contracts.paging import NextCursor, PageQuery, UpdatedSince
from porchlight.contracts.share_links import MintedShareToken
from porchlight.contracts.work_orders import WorkOrder

STATUSES = ("draft", "sent", "approved", "rejected", "expired", "converted")
Status = Literal["draft", "sent", "approved", "rejected", "expired", "converted"]
STATUS_RULES = (
    "Where the offer stands. A new estimate is draft; sending makes it sent. While it is draft "
    "or sent the customer can accept (approved) or decline (rejected), and after `valid_until` it "
    "is expired; an approved estimate can be converted into a work order (converted).")
MAX_LINES = 100
MAX_NOTES = 10_000
MAX_DESCRIPTION = 300
MAX_QUANTITY = Decimal("1000000")
MONEY_RULES = (
    "Every `*_minor` field is an integer number of the currency's minor unit; every other amount "
    "is a decimal string with that many places, e.g. `\"48.68\"`. Each line's net amount is "
    "quantity × unit price, rounded half-up to the minor unit; its tax is that net amount × the "
    "line's tax rate, rounded half-up per line. Subtotal, tax and total are exact sums of the "
    "included lines' integers.")
class LineItemInput(Contract):
    description: text(MAX_DESCRIPTION, multiline=True, description="What is offered; may span lines.")
    quantity: decimal(places=3, low=Decimal(0), high=MAX_QUANTITY, above=True,
                      description="Above 0, with at most 3 decimal places.")
    unit_price: decimal(places=3, low=Decimal(0), high=Decimal(10**11),
                        description="Price of one unit before tax in the currency's major unit "
                        "(12.50 is twelve euros fifty), with at most as many decimal places as "
                        "the currency has.")
    tax_rate: decimal(places=3, low=Decimal(0), high=Decimal(100),
                      description="Percent, with at most 3 decimal places.") = Decimal(0)
    optional: StrictBool = Field(False, description="Offered as an option the customer may take or leave.")


Lines = Annotated[list[LineItemInput], Field(
    min_length=1, max_length=MAX_LINES,
    description=f"1 to {MAX_LINES} lines, at least one of them not optional; they get the ids "
    "l1, l2, … in the order sent. Errors in a line are named like `line_items[0].quantity`.")]
Title = text(200, description="Short name of the offer.")
Notes = optional_text(MAX_NOTES, multiline=True,
                      description="Shown to the customer above the lines, as Markdown; may span lines.")
ValidUntil = Annotated[DateText, Field(
    description="The last day the offer can be accepted: today or later, and within 5 years, "
    "in the workspace's time zone. It expires at the following midnight there.")]


class EstimateInput(Contract):
    """A new draft estimate. Documents also checks the customer, the date against the
    workspace's time zone, the unit prices' places against the currency and the total's bound."""

    number: optional(DocumentNumber) = None
    title: Title
    customer_id: optional(Id) = Field(None, description="A customer of the same workspace.")
    currency: optional(Currency) = Field(None, description="By default the workspace's; fixed "
                                         "once the estimate exists.")
    valid_until: ValidUntil
    notes: Notes = None
    line_items: Lines


class EstimatePatch(Contract):
    """Only the fields sent change; `title` cannot be cleared and `valid_until: null` changes
    nothing. Allowed while the estimate is draft or sent; every edit makes a new revision."""

    title: Title = None
    customer_id: optional(Id) = Field(None, description="A customer of the same workspace.")
    valid_until: optional(ValidUntil) = None
    notes: Notes = None
    line_items: Lines = None


class EstimateQuery(PageQuery):
    """``documents.list_estimates``'s query, and the admin API's query string."""

    status: Status = Field(None, description="Only estimates with this status.")
    customer_id: Id = Field(None, description="Only this customer's estimates.")
    updated_since: UpdatedSince = None


class PricedLine(Reply):
    id: str = Field(description="The line's id within the estimate: l1, l2, …")
    description: str
    quantity: str = Field(description="A decimal string.")
    unit_price: str
    unit_price_minor: int
    tax_rate: str = Field(description="Percent, a decimal string.")
    optional: bool
    included: bool = Field(description="Whether it counts in the totals.")
    net_minor: int
    tax_minor: int


class EstimateOutcome(Reply):
    """The customer's answer as the server recorded it; the full record is its evidence."""

    response: Literal["accept", "decline"]
    revision: int = Field(ge=1)
    signer_name: str | None
    reason: str | None
    included_optional: list[str]
    total_minor: int | None
    total: str
    certificate_id: CertificateId | None = Field(
        description="The evidence; null only while it is being recorded.")
    snapshot_sha256: str | None
    ip: str
    user_agent: str | None


class Estimate(Reply):
    __doc__ = ("An offer to a customer in the workspace's currency. " + MONEY_RULES + " Until the "
               "customer answers, optional lines are not included in the totals; afterwards the "
               "ones they chose are.")

    id: IdText
    workspace_id: IdText
    number: str = Field(description="Human number, e.g. EST-0001.")
    title: str
    customer_id: str | None
    currency: str
    valid_until: str = Field(json_schema_extra={"format": "date"})
    expires_at: Moment
    notes: str | None
    status: Status = Field(description=STATUS_RULES)
    revision: int = Field(ge=1, description="Goes up with every edit; customers answer one revision.")
    line_items: list[PricedLine]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    subtotal: str
    tax: str
    total: str
    sent_at: MaybeMoment
    approved_at: MaybeMoment
    rejected_at: MaybeMoment
    expired_at: MaybeMoment
    converted_at: MaybeMoment
    work_order_id: str | None = Field(description="The work order it became.")
    outcome: EstimateOutcome | None
    created_at: Moment
    updated_at: Moment


class EstimateList(Reply):
    estimates: list[Estimate]
    next_cursor: NextCursor


class SentEstimate(MintedShareToken):
    """The sent estimate and a new link the customer can view and answer with."""

    estimate: Estimate
    customer_email: CustomerEmail = Field(description="Whether the customer was emailed the link.")


class ConvertedEstimate(Reply):
    """The work order made from the estimate, and the estimate now pointing at it."""

    work_order: WorkOrder
    estimate: Estimate
