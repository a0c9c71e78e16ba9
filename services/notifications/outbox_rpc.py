"""The outbox's entry points: emailing a record's customer (documents asks: the record
sent with its link, a reminder, the signed copy), a portal contact (identity hands it over)
and the office when a customer acts; the worker's claim and record; staff's list, detail
and resend.

A raw share link arrives only in a command (``email_customer``'s ``url``, or minted here by
``sharing`` for a resend); it is passed on to the delivery task's arguments and nowhere
else — not the outbox, not a log line, not an event.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from porchlight.contracts import ATTENTION, answer, parse
from porchlight.contracts.clock import isoformat, parse_iso, utcnow
from porchlight.contracts.errors import CONTRACT_ERRORS, Conflict, InvalidInput
from porchlight.contracts.notifications import (
    ContactEmailCommand,
    CustomerEmailCommand,
    EmailDetail,
    EmailQuery,
    EmailSummary,
)
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from porchlight.runtime.settings import get_settings
from services.notifications import emails, mail
from services.notifications.models import Attachment, Email, EmailLink

log = logging.getLogger(__name__)

DELIVER = "porchlight.deliver_email"
# The sweep fails what will not finish by itself (see ``services.notifications.outbox``).
CLAIM_LOST_AFTER = timedelta(minutes=15)
QUEUE_LOST_AFTER = timedelta(hours=6)


def _summary(email: Email) -> dict[str, Any]:
    return {
        "id": str(email.id), "workspace_id": email.workspace_id, "to": email.recipient,
        "audience": email.audience, "customer_id": email.customer_id, "template": email.template,
        "subject": email.subject, "status": email.status, "attempts": email.attempts,
        "last_error": email.last_error,
        "entity": {"type": email.entity_type, "id": email.entity_id, "number": email.entity_number},
        "created_at": isoformat(email.created_at), "updated_at": isoformat(email.updated_at),
        "sent_at": isoformat(email.sent_at),
    }


def email_summary(email: Email) -> dict[str, Any]:
    return answer(EmailSummary, **_summary(email))


def email_detail(email: Email) -> dict[str, Any]:
    return answer(
        EmailDetail, **_summary(email), recipient_name=email.recipient_name,
        sender_name=email.sender_name, reply_to=email.reply_to, language=email.language,
        cause=email.cause, text_body=email.text_body, html_body=email.html_body,
        attachments=[{"kind": a.kind, "filename": a.filename} for a in email.attachments],
        has_link=email.link is not None, resends=email.resends,
        bodies_removed_at=isoformat(email.bodies_removed_at))


class OutboxRpc:
    # -- queueing, shared by every kind of email ------------------------------------------
    def _queue(self, workspace: dict[str, Any], cause: str, fields: dict[str, Any], *,
               secrets: dict[str, str] | None = None, link: dict[str, str] | None = None,
               attachments: tuple[dict[str, str], ...] = ()) -> Email:
        """Render and store the email for ``cause`` and its recipient, once, and hand it to a
        delivery task; an email already queued for both is returned as it is."""
        fields = dict(fields)
        context = fields.pop("context")
        key = f"{cause}>{fields['recipient']}"
        rendered = mail.render(fields["template"], fields.pop("language"), {
            "workspace": emails.branding(workspace), "recipient_name": fields["recipient_name"],
            **context})
        email, new = self.repo.outbox.queue_once({
            **fields, **emails.sender(workspace), "workspace_id": workspace["id"], "key": key,
            "cause": cause, "language": rendered.language, "subject": rendered.subject,
            "text_body": rendered.text, "html_body": rendered.html,
            "link": EmailLink(**link) if link else None,
            "attachments": [Attachment(**a) for a in attachments],
        })
        if new:
            self._hand_over(email, secrets)
        return email

    def _hand_over(self, email: Email, secrets: dict[str, str] | None) -> None:
        # The secrets ride in the task's arguments only; Celery shows ``shown`` instead.
        if not self.tasks.enqueue(DELIVER, str(email.id), secrets, shown=f"('{email.id}', <secrets>)"):
            self.repo.outbox.fail_unqueued(email, "The delivery could not be queued (the broker "
                                           "refused it); resend it.")

    # -- a record's customer ------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def email_customer(self, workspace_id: str, actor: str, command: dict) -> dict[str, Any]:
        """Email a record's customer (``CustomerEmailCommand``, from documents, with all
        the email shows) unless staff said not to or there is nobody to write to;
        ``CustomerEmail`` says which. Mail goes where the customer reads it: to each of its
        portal contacts who may read the record, with a link into their account, or — a
        customer without such contacts — to its own address with the share link. The
        same cause twice queues the same emails once."""
        cmd = parse(CustomerEmailCommand, command)
        record = cmd.record
        readers = (self.identity.record_readers(workspace_id, record.customer_id, list(cmd.readers))
                   if record.customer_id and cmd.notify is not False else None)
        customer = readers["customer"] if readers else None
        reason = emails.customer_reason(cmd.notify, customer, readers["contacts"] if readers else [],
                                        record.type)
        if reason is not None:
            return {"status": "skipped", "reason": reason, "email": None, "emails": []}
        view = record.model_dump()
        attachments = ()
        if cmd.template == "service_report_signed_copy":
            attachments = ({"kind": "signed_pdf", "record_id": record.id,
                            "filename": f"{record.number}-signed.pdf"},)
        workspace = self.identity.get_workspace(workspace_id)
        if readers["contacts"]:
            queued = [self._queue(workspace, cmd.cause,
                                  emails.to_reader(cmd.template, record.type, view, customer, contact),
                                  attachments=attachments)
                      for contact in readers["contacts"]]
        else:
            queued = [self._queue(
                workspace, cmd.cause, emails.to_customer(cmd.template, record.type, view, customer),
                secrets={"link": cmd.url} if cmd.url else None,
                link={"share_token_id": cmd.share_token_id, "entity_type": record.type,
                      "entity_id": record.id} if cmd.share_token_id else None,
                attachments=attachments)]
        summaries = [email_summary(email) for email in queued]
        return {"status": "queued", "reason": None, "email": summaries[0], "emails": summaries}

    # -- portal contacts: an invitation, a sign-in link -------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def email_contact(self, workspace_id: str, command: dict) -> dict[str, Any] | None:
        """Email a portal contact their link and code (``ContactEmailCommand``), once per
        cause; both are kept out of the outbox like a share link. The command is handed
        over without a deadline, so one that waited in the queue past its link's end (the
        service was down) is dropped: the email would carry a code that no longer works."""
        cmd = parse(ContactEmailCommand, command)
        if cmd.workspace.id != workspace_id:
            raise InvalidInput("The email names another workspace.",
                               {"workspace.id": "Must be the command's workspace."})
        try:
            ends = parse_iso(cmd.expires_at)
        except ValueError:
            raise InvalidInput(ATTENTION, {"expires_at": "Must be a moment with its offset."}) from None
        if ends <= utcnow():
            log.warning("%s not emailed: its link had ended before the email could be queued",
                        cmd.cause)
            return None
        email = self._queue(
            cmd.workspace.model_dump(), cmd.cause,
            emails.to_contact(cmd.model_dump()), secrets={"link": cmd.url, "code": cmd.code})
        return email_summary(email)

    # -- the office, when a customer acts ----------------------------------------------------
    def _email_office(self, cause: str, workspace_id: str, item: dict[str, Any],
                      occurred_at: str) -> None:
        """One email per notification address about an inbox item; queued once each."""
        workspace = self.identity.get_workspace(workspace_id)
        for address in workspace.get("notification_addresses") or []:
            if not self.repo.outbox.has_key(f"{cause}>{address}"):
                self._queue(workspace, cause, emails.to_office(address, item, occurred_at))

    # -- the worker ---------------------------------------------------------------------------
    @rpc
    def claim_email(self, email_id: str) -> dict[str, Any] | None:
        """For one delivery attempt: the email to send, now ``sending``; ``None`` if it is
        not waiting to be sent (another attempt has it, or it is sent or failed)."""
        email = self.repo.outbox.claim(email_id)
        if email is None:
            return None
        return {
            "id": str(email.id), "workspace_id": email.workspace_id, "attempt": email.attempts,
            "to": email.recipient, "to_name": email.recipient_name,
            "sender_name": email.sender_name, "reply_to": email.reply_to,
            "subject": email.subject, "text": email.text_body, "html": email.html_body,
            "language": email.language, "auto_submitted": email.template == "estimate_reminder",
            "message_id": f"{email.id}.{email.resends}",
            "attachments": [{"kind": a.kind, "record_id": a.record_id, "filename": a.filename}
                            for a in email.attachments],
        }

    @rpc
    def record_delivery(self, email_id: str, attempt: int, outcome: str,
                        error: str | None = None) -> bool:
        """How the attempt that claimed the email ended: ``sent``, ``retry`` or ``failed``.
        False when that attempt no longer holds it (the sweep gave up on it)."""
        if outcome not in ("sent", "retry", "failed"):
            raise ValueError(f"unknown outcome {outcome!r}")
        return self.repo.outbox.record(email_id, attempt, outcome, (error or "")[:1000] or None) is not None

    @rpc
    def sweep_emails(self) -> dict[str, int]:
        """Beat's timed sweep: fails what will not finish by itself, removes old bodies, and
        sends the project digests whose hour is up (``digests_sent``)."""
        now = utcnow()
        swept = self.repo.outbox.sweep(
            now, claimed_before=now - CLAIM_LOST_AFTER, queued_before=now - QUEUE_LOST_AFTER,
            bodies_before=now - timedelta(days=get_settings().outbox_body_days))
        return {**swept, "digests_sent": self._send_due_digests()}

    # -- staff --------------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_emails(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's outbox (``EmailQuery``), newest first, a page at a time."""
        request = parse(EmailQuery, query, message=QUERY_ATTENTION)
        filters = {name: value for name, value in (
            ("recipient", request.recipient), ("status", request.status),
            ("customer_id", request.customer_id)) if value is not None}
        found, more = self.repo.outbox.page(workspace_id, filters, limit=request.limit or DEFAULT_PAGE,
                                            cursor=request.cursor)
        return {"emails": [email_summary(e) for e in found],
                "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_email(self, workspace_id: str, email_id: str) -> dict[str, Any]:
        return email_detail(self.repo.outbox.get(workspace_id, email_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def resend_email(self, workspace_id: str, actor: str, email_id: str) -> dict[str, Any]:
        """Queue a failed email again. One that carried a share link gets a new link: the
        old one is replaced (``sharing.rotate_token``), since it was never kept to be sent
        again. Any other state is a conflict."""
        email = self.repo.outbox.get(workspace_id, email_id)
        if email.status != "failed":
            raise Conflict(f"Only a failed email can be resent; this one is {email.status}.")
        changes: dict[str, Any] = {}
        secrets = None
        if email.link is not None:
            try:
                minted = self.sharing.rotate_token(workspace_id, actor, email.link.share_token_id)
            except Conflict:
                raise Conflict("The link in this email no longer works (it was replaced, revoked "
                               "or has expired); send the record again to email a new one.") from None
            secrets = {"link": minted["url"]}
            changes["set__link"] = EmailLink(share_token_id=minted["share_token"]["id"],
                                             entity_type=email.link.entity_type,
                                             entity_id=email.link.entity_id)
        email = self.repo.outbox.requeue_failed(workspace_id, email_id, changes)
        self._hand_over(email, secrets)
        return email_detail(self.repo.outbox.get(workspace_id, email_id))
