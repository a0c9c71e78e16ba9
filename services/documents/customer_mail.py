"""Sending a record to its customer: a new link from sharing, then the email from
notifications — both asked by documents, which owns the record.

Staff send an estimate or complete a service report with one command (one RPC from the
gateway). documents changes the record, asks sharing for a link (sharing takes the owner's
word that the record exists and when it ends) and gives notifications the email with all it
shows — the record's number and title, its customer, the link. Calls flow one way:
neither sharing nor notifications ever asks documents anything.

The steps are not one transaction. The record changes first; if sharing then does not
answer, the command is refused (503) with the record sent and no new link — and the same
command sent again mints the link and emails it: a retry completes it. Every send mints a
link that replaces the earlier ones, so a retry never leaves two working links. If
notifications does not answer, the record is sent with its link all the same and the reply
says the email is ``unavailable``; sending again emails a new link.

What staff chose — email the customer or not — is kept on the record
(``emails_customer``, true once an email was queued): it also decides the estimate's
reminder and the report's signed copy, which documents hands to notifications itself
(``CustomerMailRpc.send_due_emails`` and ``store_signed_pdf``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from porchlight.contracts import share_tokens
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Unavailable
from porchlight.kit.service_rpc import rpc
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.estimates.models import Estimate
from services.documents.estimates.wire import estimate_to_wire
from services.documents.service_reports.wire import service_report_to_wire

log = logging.getLogger(__name__)

# How long a send waits for sharing, and for notifications. Both below the gateway's own
# RPC timeout (10 s by default), so staff read documents' answer, not their own timeout.
SHARING_TIMEOUT = 3.0
SHARING_UNAVAILABLE = ("The customer's link could not be made just now. The record is saved; "
                       "send it again in a moment to make the link and email it.")
MAIL_TIMEOUT = 3.0
MAIL_UNAVAILABLE = "The notifications service did not answer; send again to email the customer."

ESTIMATE_FIELDS = ("number", "customer_id", "title", "total_minor", "currency", "valid_until", "expires_at")
REPORT_FIELDS = ("number", "work_order_number", "work_order_title", "signed_by", "signed_at",
                 "certificate_id")


def record(entity_type: str, view: dict[str, Any], customer_id: str | None = None) -> dict[str, Any]:
    """The record as an email to its customer names it (``EmailedRecord``), from the staff
    view; a report's customer is its work order's, given as ``customer_id``."""
    if entity_type == "estimate":
        fields = {key: view.get(key) for key in ESTIMATE_FIELDS}
    else:
        fields = {key: view.get(key) for key in REPORT_FIELDS}
        fields["customer_id"] = customer_id
    return {"type": entity_type, "id": view["id"], **fields}


def link(sharing: Any, workspace_id: str, actor: str, entity_type: str, entity_id: str,
         ends_at: datetime | None, customer_id: str | None, *, replace: bool) -> dict[str, Any]:
    """A link granting everything a link to such a record may: ``replace`` revokes the
    earlier ones (a send); otherwise it is one more (a reminder's own). Unavailable when
    sharing does not answer."""
    request = {"entity": {"type": entity_type, "id": entity_id},
               "permissions": list(share_tokens.ALLOWED_PERMISSIONS[entity_type])}
    mint = sharing.replace_token if replace else sharing.mint_token
    return mint(workspace_id, actor, request, isoformat(ends_at), customer_id)


def email(notifications: Any, workspace_id: str, actor: str, template: str, cause: str,
          emailed: dict[str, Any], *, notify: bool | None = True,
          minted: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask notifications to email the record's customer (``CustomerEmailCommand``); its
    answer (``CustomerEmail``), or ``unavailable`` when it did not give one."""
    command: dict[str, Any] = {"template": template, "cause": cause, "record": emailed,
                               "notify": notify, "readers": customer_access.readers(emailed["type"])}
    if minted is not None:
        command.update(url=minted["url"], share_token_id=minted["share_token"]["id"])
    try:
        return notifications.email_customer(workspace_id, actor, command)
    except Unavailable:
        log.warning("no email for %s: notifications did not answer", cause)
        return {"status": "unavailable", "reason": MAIL_UNAVAILABLE, "email": None, "emails": []}


def shared(entity_type: str, entity_id: str, minted: dict[str, Any]) -> str:
    """The cause of the email that carries a record's new link: one per link."""
    return f"{entity_type}_shared:{entity_id}:{minted['share_token']['id']}"


# A reminder goes out when an estimate's end is this close.
REMINDER_BEFORE = timedelta(hours=48)


class CustomerMailRpc(DocumentsDependencies):
    """The emails documents sends its customers without staff asking again: the estimate's
    reminder and the report's signed copy, each once, each only to a customer staff chose
    to email when they sent the record."""

    def _email_signed_copy(self, workspace_id: str, report_id: str) -> bool:
        """Hand the signed copy (with its PDF) to notifications, once; False when it is not
        due or notifications did not take it — the sweep then tries again."""
        report = self.repo.service_reports.claim_signed_copy(workspace_id, report_id, utcnow())
        if report is None:  # not chosen, no PDF yet, or already handed over
            return False

        def send() -> dict[str, Any]:
            work_order = self.repo.work_orders.find(workspace_id, report.work_order_id)
            return email(self.notifications, workspace_id, "system", "service_report_signed_copy",
                         f"service_report_signed_copy:{report_id}",
                         record("service_report", service_report_to_wire(report, None),
                                work_order and work_order.customer_id))

        return _claimed_send(send, lambda: self.repo.service_reports.release_signed_copy(
            workspace_id, report_id))

    def _remind(self, estimate: Estimate) -> bool:
        """One reminder for the estimate's revision, with a link of its own (the one first
        sent is kept nowhere to be sent again); False when it is not due or failed."""
        workspace_id, estimate_id = estimate.workspace_id, str(estimate.id)
        estimates = self.repo.estimates
        if estimates.claim_reminder(workspace_id, estimate_id, estimate.revision) is None:
            return False

        def send() -> dict[str, Any]:
            minted = link(self.sharing, workspace_id, "system", "estimate", estimate_id,
                          estimate.expires_at, estimate.customer_id, replace=False)
            emailed = email(self.notifications, workspace_id, "system", "estimate_reminder",
                            f"estimate_reminder:{estimate_id}:{estimate.revision}",
                            record("estimate", estimate_to_wire(estimate)), minted=minted)
            if emailed["status"] == "unavailable":
                raise Unavailable(MAIL_UNAVAILABLE)  # the sweep logs which neighbour it was
            return emailed

        return _claimed_send(send, lambda: estimates.release_reminder(
            workspace_id, estimate_id, estimate.revision))

    @rpc
    def send_due_emails(self) -> dict[str, int]:
        """Beat's sweep: one reminder per estimate revision whose end is 48 hours away or
        less (answered, expired and withdrawn estimates are not open, so none is due), and
        every signed copy not handed over yet. One record's trouble never stops the others."""
        now = utcnow()
        counts = {"reminders": 0, "signed_copies": 0}
        for estimate in self.repo.estimates.due_reminders(now, now + REMINDER_BEFORE):
            try:
                counts["reminders"] += self._remind(estimate)
            except Unavailable:
                log.warning("no reminder for estimate %s yet: a neighbour did not answer", estimate.id)
            except Exception:  # noqa: BLE001 - logged; the next sweep tries again
                log.exception("no reminder for estimate %s", estimate.id)
        for report in self.repo.service_reports.due_signed_copies():
            try:
                counts["signed_copies"] += self._email_signed_copy(report.workspace_id, str(report.id))
            except Exception:  # noqa: BLE001 - logged; the next sweep tries again
                log.exception("no signed copy for report %s", report.id)
        return counts


def _claimed_send(send: Callable[[], dict[str, Any]], release: Callable[[], object]) -> bool:
    """Hand over an email its record's claim was taken for: whether it was queued. When it
    did not go — an error, or notifications did not answer — the claim is released, so the
    next sweep sends it; an error is raised on."""
    try:
        emailed = send()
    except Exception:
        release()
        raise
    if emailed["status"] == "unavailable":
        release()
        return False
    return emailed["status"] == "queued"
