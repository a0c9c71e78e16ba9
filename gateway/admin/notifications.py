"""What notifications keeps for staff: the inbox (what customers did that staff should look
at) and the outbox (every email Porchlight was asked to send for the workspace)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.notifications import (
    EmailDetail,
    EmailPage,
    EmailQuery,
    InboxItem,
    InboxPage,
    InboxQuery,
    MarkedAllRead,
)

api = Api(Blueprint("notifications", __name__))


# -- the staff inbox ------------------------------------------------------------------
@api.operation("GET", "/notifications/inbox", "listInbox", tag="inbox", query=InboxQuery, reply=InboxPage,
               errors=(422,))
def list_inbox(query: InboxQuery) -> Any:
    """List the inbox

    What customers did that staff should look at — an estimate accepted or declined, a service
    report signed, a comment on a project — newest first by when the customer acted.
    `unread=true` leaves out the items marked read.
    """
    with rpc() as services:
        return services.notifications.list_inbox(g.workspace_id, wire(query, partial=True))


@api.operation("POST", "/notifications/inbox/<item_id>/read", "markInboxItemRead", tag="inbox",
               reply=InboxItem, errors=(404,))
def mark_inbox_item_read(item_id: str) -> Any:
    """Mark an inbox item read

    Marks one item read. Repeating it changes nothing: the item keeps the first `read_at` and
    `read_by`.
    """
    with rpc() as services:
        return services.notifications.mark_read(g.workspace_id, g.actor, item_id)


@api.operation("POST", "/notifications/inbox/read-all", "markInboxRead", tag="inbox", reply=MarkedAllRead)
def mark_inbox_read() -> Any:
    """Mark the whole inbox read

    Marks every unread item read and answers how many it marked; nothing left to mark answers 0.
    """
    with rpc() as services:
        return services.notifications.mark_all_read(g.workspace_id, g.actor)


# -- the outbox -----------------------------------------------------------------------
@api.operation("GET", "/notifications/emails", "listEmails", tag="emails", query=EmailQuery, reply=EmailPage,
               errors=(422,))
def list_emails(query: EmailQuery) -> Any:
    """List emails

    Every email Porchlight was asked to send for the workspace — to customers and to the office —
    newest first, with its delivery state. Filter by `recipient`, `status` or `customer_id`.
    """
    with rpc() as services:
        return services.notifications.list_emails(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/notifications/emails/<email_id>", "getEmail", tag="emails", reply=EmailDetail,
               errors=(404,))
def get_email(email_id: str) -> Any:
    """Get an email

    One email with both parts as sent — except its share link, which is never kept — its attempts
    and the mail server's last refusal.
    """
    with rpc() as services:
        return services.notifications.get_email(g.workspace_id, email_id)


@api.operation("POST", "/notifications/emails/<email_id>/resend", "resendEmail", tag="emails",
               reply=EmailDetail, errors=(404, 409))
def resend_email(email_id: str) -> Any:
    """Resend a failed email

    Queues a failed email for delivery again. One that carried a share link gets a new link, and the
    old one stops working. An email that is not failed, or whose link was since replaced, revoked or
    has expired, is a conflict (409).
    """
    with rpc() as services:
        return services.notifications.resend_email(g.workspace_id, g.actor, email_id)
