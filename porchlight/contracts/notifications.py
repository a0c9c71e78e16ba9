"""Notifications' contracts: the staff inbox — one item per customer action worth a look —
and the outbox — every email Porchlight was asked to send.

Paging is by cursor, not offset: the inbox grows at the top while staff read it, and an
offset would then show an item twice or skip one. ``next_cursor`` is the id of the last
item of a page; passing it back gives the items after it, newest first by when the
customer acted (ties by id). Notifications checks that the cursor names an item of the
workspace (422 otherwise). The outbox pages the same way, newest first by when the email
was queued.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import CertificateId, IdText, MaybeMoment, Moment
from porchlight.contracts.fields import Currency, Email, Id, StrictInt, StrictStr
from porchlight.contracts.languages import DEFAULT_LOCALE_TAG
from porchlight.contracts.paging import NextCursor, PageQuery

Kind = Literal["estimate_accepted", "estimate_declined", "service_report_signed", "project_comment"]
KINDS = ("`estimate_accepted`, `estimate_declined`: a customer answered an estimate; "
         "`service_report_signed`: a customer signed a service report; `project_comment`: a customer's "
         "contact commented on a project (staff's own comments make no item).")
EntityType = Literal["estimate", "service_report", "project"]


class InboxQuery(PageQuery):
    """``notifications.list_inbox``'s query, and the admin API's query string."""

    unread: Literal["true", "false"] = Field(
        None, description="`true`: only items nobody has marked read; `false` or absent: all.")


class InboxEntity(Reply):
    type: EntityType
    id: IdText
    number: str | None = Field(description="The record's number, e.g. EST-0001; null if it "
                               "could not be looked up when the item was made.")


class InboxDetails(Reply):
    """What the customer added to the action; each key only where it applies."""

    signer_name: str | None = Field(None, description="The name the customer signed or answered with; "
                                    "for a comment, the contact's name.")
    reason: str | None = Field(None, description="Why the customer declined, as they wrote it.")
    certificate_id: CertificateId | None = Field(None, description="The evidence of the action "
                                                 "(`GET /evidence/<certificate_id>`).")


class InboxItem(Reply):
    id: IdText
    workspace_id: IdText
    kind: Kind = Field(description="What the customer did: " + KINDS)
    title: str = Field(description="One line for the inbox list.")
    summary: str = Field(description="A sentence or two with what staff need to act.")
    entity: InboxEntity
    details: InboxDetails
    occurred_at: Moment = Field(description="When the customer acted.")
    created_at: Moment = Field(description="When the item reached the inbox.")
    read_at: MaybeMoment = Field(description="When staff marked it read; null while unread.")
    read_by: str | None = Field(description="Who marked it read, e.g. api_key:<id>.")


class InboxPage(Reply):
    items: list[InboxItem]
    unread_count: int = Field(ge=0, description="Unread items in the whole inbox.")
    next_cursor: NextCursor


class MarkedAllRead(Reply):
    marked: int = Field(ge=0, description="How many items this call marked read.")


# -- the outbox ---------------------------------------------------------------------------
EmailStatus = Literal["queued", "sending", "sent", "failed"]
EMAIL_STATUS = ("`queued`: waiting for a delivery attempt (also between retries); `sending`: an "
                "attempt is under way; `sent`: the mail server accepted it; `failed`: refused "
                "for good, out of attempts, or interrupted — see `last_error`.")
Template = Literal[
    "estimate_ready", "estimate_reminder", "service_report_ready", "service_report_signed_copy",
    "office_estimate_accepted", "office_estimate_declined", "office_service_report_signed",
    "office_project_comment", "project_digest",
    "contact_invitation", "contact_sign_in", "contact_password_reset", "contact_password_changed",
    "contact_password_code", "information_request_sent"]
LinkedType = Literal["estimate", "service_report", "information_request"]
EmailAbout = Literal["estimate", "service_report", "project", "contact", "information_request"]


class EmailQuery(PageQuery):
    """``notifications.list_emails``'s query, and the admin API's query string."""

    recipient: Email = Field(None, description="Only emails to this address.")
    status: EmailStatus = Field(None, description="Only emails in this state.")
    customer_id: Id = Field(None, description="Only emails to this customer.")


class EmailEntity(Reply):
    type: EmailAbout = Field(description="The record the email is about; `contact` for a "
                             "portal invitation or sign-in; `project` for a comment on it or a "
                             "customer's digest of its changes.")
    id: IdText
    number: str | None = Field(description="The record's number, e.g. EST-0001.")


class EmailSummary(Reply):
    id: IdText
    workspace_id: IdText
    to: str = Field(description="The recipient's address.")
    audience: Literal["customer", "office"] = Field(
        description="`customer`: the record's customer; `office`: one of the workspace's "
                    "notification addresses.")
    customer_id: str | None = Field(description="The customer it went to, for `customer` emails.")
    template: Template = Field(description="Which email it is.")
    subject: str
    status: EmailStatus = Field(description=EMAIL_STATUS)
    attempts: int = Field(ge=0, description="Delivery attempts so far, resends included.")
    last_error: str | None = Field(description="The mail server's last refusal or what stopped the "
                                   "delivery; null once sent.")
    entity: EmailEntity
    created_at: Moment = Field(description="When it was queued.")
    updated_at: Moment
    sent_at: MaybeMoment = Field(description="When the mail server accepted it.")


class EmailAttachment(Reply):
    kind: Literal["signed_pdf"]
    filename: str


class EmailDetail(EmailSummary):
    """An email as sent, except that its share link reads
    ``[link removed: only the recipient has it]`` (a code likewise): the outbox never keeps them."""

    recipient_name: str | None
    sender_name: str = Field(description="The name it came from.")
    reply_to: str | None = Field(description="Where replies go.")
    language: str = Field(description="The language it was written in.")
    cause: str = Field(description="What made it: the event or command, and the record.")
    text_body: str = Field(description="The plain-text part.")
    html_body: str = Field(description="The HTML part.")
    attachments: list[EmailAttachment]
    has_link: bool = Field(description="Whether it carries a share link (a resend mints a new one).")
    resends: int = Field(ge=0, description="How often staff resent it.")
    bodies_removed_at: MaybeMoment = Field(
        description="When its text and HTML were removed from the outbox (`PORCHLIGHT_OUTBOX_BODY_DAYS` "
                    "after it was sent or failed); both then read as removed, and it cannot be resent.")


class EmailPage(Reply):
    emails: list[EmailSummary]
    next_cursor: NextCursor


# -- emailing the customer when a record is shared ------------------------------------------
NOTIFY_CUSTOMER = ("Email the customer the new link. Absent or null: yes if the customer has an "
                   "email address. `true` for a customer without one is not an error: the record "
                   "is still sent, and `customer_email` says why no email went.")


class NotifyCustomer(Contract):
    """The body of ``POST /estimates/<id>/send`` and ``/service-reports/<id>/complete``;
    it may be left out."""

    notify_customer: bool | None = Field(None, description=NOTIFY_CUSTOMER)


class EmailedRecord(Contract):
    """The record an email to its customer is about, as the email names it: documents, which
    owns it, puts it in the command, so notifications never asks documents back."""

    type: LinkedType
    id: Id
    number: StrictStr = Field(max_length=40)
    customer_id: Id | None = None
    # an estimate
    title: StrictStr | None = Field(None, max_length=300)
    total_minor: StrictInt | None = Field(None, ge=0, description="The total in the currency's minor units.")
    currency: Currency | None = None
    valid_until: StrictStr | None = Field(None, max_length=40)
    expires_at: StrictStr | None = Field(None, max_length=40)
    # a service report
    work_order_number: StrictStr | None = Field(None, max_length=40)
    work_order_title: StrictStr | None = Field(None, max_length=300)
    signed_by: StrictStr | None = Field(None, max_length=200)
    signed_at: StrictStr | None = Field(None, max_length=40)
    certificate_id: StrictStr | None = Field(None, max_length=80)
    # an information request (its title is ``title``)
    project_name: StrictStr | None = Field(None, max_length=200)


CustomerTemplate = Literal["estimate_ready", "estimate_reminder", "service_report_ready",
                           "service_report_signed_copy", "information_request_sent"]
# Emails that carry no share link: the signed copy (nothing to open), and what only a
# signed-in contact opens — its link is into their account, never a secret.
WITHOUT_SHARE_LINK = frozenset({"service_report_signed_copy", "information_request_sent"})
# Records a customer sees only in their account: emailed to its contacts, never to the
# customer's own address.
IN_ACCOUNT_ONLY = frozenset({"information_request"})


class CustomerEmailCommand(Contract):
    """``notifications.email_customer``: one email to a record's customer — the record
    just sent or completed with its new link, a reminder with a link of its own, or the
    signed copy. A point-to-point command from documents, the only way a raw link reaches
    notifications; ``cause`` keys it, so the same command twice queues one email."""

    template: CustomerTemplate
    cause: StrictStr = Field(max_length=200)
    record: EmailedRecord
    notify: bool | None = None
    url: StrictStr | None = Field(None, max_length=300)
    share_token_id: Id | None = None
    readers: list[Literal["owner", "member"]] = Field(
        min_length=1, max_length=2,
        description="The roles of the customer's portal contacts who may read the record "
                    "(documents' rule: only owners see money). When the customer has such contacts, "
                    "they are emailed a link into their account instead of the customer's own "
                    "address getting the share link.")

    @model_validator(mode="after")
    def _link_goes_with_its_id(self) -> CustomerEmailCommand:
        if (self.url is None) != (self.share_token_id is None):
            raise ValueError("A link needs both its address and its id.")
        if (self.url is None) != (self.template in WITHOUT_SHARE_LINK):
            raise ValueError("Every email to a customer but the signed copy and an information request "
                             "carries a link.")
        return self


class MailWorkspace(Contract):
    """The workspace as an email shows it and sends it: identity puts it in the command,
    so notifications never has to call identity back (calls flow one way)."""

    id: Id
    name: StrictStr = Field(max_length=200)
    brand_colour: StrictStr | None = Field(None, max_length=20)
    logo_url: StrictStr | None = Field(None, max_length=500)
    timezone: StrictStr = Field(max_length=64)
    locale: StrictStr = Field(DEFAULT_LOCALE_TAG, max_length=16)
    sender_name: StrictStr | None = Field(None, max_length=200)
    reply_to: StrictStr | None = Field(None, max_length=320)


class ContactEmailCommand(Contract):
    """``notifications.email_contact``: an invitation or a sign-in link with its code, for
    one portal contact — a point-to-point command from identity, handed over without
    waiting, the only way the link and the code reach notifications. Or the code a
    signed-in contact asked for to set their first password (its link: the profile page).
    Or the notice that their password was set, with the link to reset it if that was not
    them (its ``expires_at``: the moment past which the notice is no longer worth sending)."""

    workspace: MailWorkspace
    template: Literal["contact_invitation", "contact_sign_in", "contact_password_reset",
                      "contact_password_changed", "contact_password_code"]
    cause: StrictStr = Field(max_length=100)
    contact_id: Id
    customer_id: Id
    name: StrictStr = Field(max_length=200)
    email: Email
    company: StrictStr = Field(max_length=200)
    language: StrictStr | None = Field(None, max_length=10, description=(
        "The contact's language, else their customer's; none: the workspace's."))
    expires_at: StrictStr = Field(max_length=40)
    url: StrictStr = Field(max_length=300)
    code: StrictStr | None = Field(None, pattern=r"^[0-9]{6}$",
                                   description="A sign-in code or the code to set a first password; "
                                               "none in a password reset.")


class CustomerEmail(Reply):
    status: Literal["queued", "skipped", "unavailable"] = Field(
        description="`queued`: an email to the customer is on its way (see the outbox); `skipped`: "
                    "none was sent, `reason` says why; `unavailable`: the notifications service did "
                    "not answer — the record is sent all the same; send again to email it.")
    reason: str | None = Field(description="Why no email was queued.")
    email: EmailSummary | None = Field(description="The queued email (the first, when several went).")
    emails: list[EmailSummary] = Field(
        description="Every email queued: one to each of the customer's portal contacts who may read "
                    "the record (with a link into their account), or else one to the customer's own "
                    "address with the share link.")
