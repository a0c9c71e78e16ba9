"""notifications: the staff inbox — one item per customer action worth a look — and the
outbox, every email to customers and to the office (``outbox_rpc``).

It listens to documents' facts (``estimate_approved``, ``estimate_rejected``,
``service_report_signed``, and a customer's ``project_comment_posted``). Each fact carries,
besides its ids, what the item shows (number, title, the customer's name and reason:
``porchlight.contracts.events``), so the handler
makes the item from the fact alone — documents is never asked — then emails the item to the
workspace's notification addresses. A payload its model refuses makes no item (a warning).
Emails to a record's customer are asked for by documents, point to point (``outbox_rpc``).
A shared project's changes — a comment from the team, a document, a new status — reach its
customers as a digest, at most one per project an hour (``project_news``).

Handlers are nameko's default ``event_handler``: one queue per handler shared by every
replica of this service, so each fact is handled by one of them. A fact may still arrive
twice (a redelivery after a lost ack): each item is keyed by its cause
(``services.notifications.inbox.cause``) under a unique index, so the second delivery
makes nothing, and each email is keyed by its cause and recipient the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.events import event_handler

from porchlight.contracts import answer, parse
from porchlight.contracts.clock import isoformat
from porchlight.contracts.errors import CONTRACT_ERRORS
from porchlight.contracts.events import (
    EstimateAnswered,
    EstimateApproved,
    EstimateRejected,
    ProjectActivity,
    ProjectCommentHidden,
    ProjectCommentPosted,
    ProjectUpdated,
    ServiceReportSigned,
)
from porchlight.contracts.notifications import InboxItem as InboxItemReply
from porchlight.contracts.notifications import InboxQuery
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.kit.idempotency import idempotent
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import RequestTracing
from porchlight.kit.service_calls import TimedRpcProxy
from porchlight.kit.service_ops import Observed
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import Store, next_cursor
from porchlight.kit.task_queue import TaskQueue
from services.notifications import inbox
from services.notifications.models import ALIAS, InboxItem
from services.notifications.outbox_rpc import OutboxRpc
from services.notifications.project_news import ProjectNews
from services.notifications.repository import NotificationsRepository

log = logging.getLogger(__name__)

# How long notifications waits for a neighbour (identity's workspace and customer,
# sharing's new link). Far below the queue's patience: a fact is never held long.
LOOKUP_TIMEOUT = 5.0
LOOKUP_UNAVAILABLE = "The email could not be prepared just now; nothing was sent. Try again shortly."


def item_to_wire(item: InboxItem) -> dict[str, Any]:
    details = {"signer_name": item.signer_name, "reason": item.reason,
               "certificate_id": item.certificate_id}
    return answer(
        InboxItemReply, id=str(item.id), workspace_id=item.workspace_id, kind=item.kind,
        title=item.title, summary=item.summary,
        entity={"type": item.entity_type, "id": item.entity_id, "number": item.entity_number},
        details={k: v for k, v in details.items() if v is not None},
        occurred_at=isoformat(item.occurred_at), created_at=isoformat(item.created_at),
        read_at=isoformat(item.read_at), read_by=item.read_by)


class NotificationsService(OutboxRpc, ProjectNews, Ping, Observed):
    name = "notifications"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: NotificationsRepository = Store(ALIAS, NotificationsRepository)
    identity = TimedRpcProxy("identity", timeout=LOOKUP_TIMEOUT, refusal=LOOKUP_UNAVAILABLE)
    sharing = TimedRpcProxy("sharing", timeout=LOOKUP_TIMEOUT, refusal=LOOKUP_UNAVAILABLE)
    tasks = TaskQueue()

    # -- facts ----------------------------------------------------------------------------
    @event_handler("documents", "estimate_approved")
    def on_estimate_approved(self, payload: dict[str, Any]) -> None:
        self._estimate_answered(inbox.read(EstimateApproved, payload))

    @event_handler("documents", "estimate_rejected")
    def on_estimate_rejected(self, payload: dict[str, Any]) -> None:
        self._estimate_answered(inbox.read(EstimateRejected, payload))

    @event_handler("documents", "service_report_signed")
    def on_service_report_signed(self, payload: dict[str, Any]) -> None:
        event = inbox.read(ServiceReportSigned, payload)
        if event is not None:
            self._store(event, inbox.service_report_item(event))

    @event_handler("documents", "project_comment_posted")
    def on_project_comment_posted(self, payload: dict[str, Any]) -> None:
        """A customer's comment is an inbox item (and its office emails); the team's own is
        news for the project's customers (their digest)."""
        event = inbox.read(ProjectCommentPosted, payload)
        if event is None:
            return
        if event.author_kind == "contact":
            self._store(event, inbox.project_comment_item(event))
        else:
            self._team_commented(event)

    @event_handler("documents", "project_comment_hidden")
    def on_project_comment_hidden(self, payload: dict[str, Any]) -> None:
        event = inbox.read(ProjectCommentHidden, payload)
        if event is not None:
            self._comment_hidden(event)

    @event_handler("documents", "project_activity")
    def on_project_activity(self, payload: dict[str, Any]) -> None:
        event = inbox.read(ProjectActivity, payload)
        if event is not None:
            self._project_activity(event)

    @event_handler("documents", "project_updated")
    def on_project_updated(self, payload: dict[str, Any]) -> None:
        event = inbox.read(ProjectUpdated, payload)
        if event is not None:
            self._project_updated(event)

    def _estimate_answered(self, event: EstimateAnswered | None) -> None:
        if event is not None:
            self._store(event, inbox.estimate_item(event))

    def _store(self, event: inbox.Cause, fields: dict[str, Any]) -> None:
        """The inbox item, then its emails to the office — both once per cause."""
        cause = inbox.cause(event)
        if self.repo.has_cause(cause):  # a redelivery: the item and its emails are made
            return
        occurred_at = event.occurred_at
        occurred_at = occurred_at.replace(microsecond=occurred_at.microsecond // 1000 * 1000)
        self.repo.add_once({"workspace_id": event.workspace_id, "cause": cause,
                            "occurred_at": occurred_at, **fields})
        try:
            self._email_office(cause, event.workspace_id, {**fields, **inbox.extra_facts(event)},
                               isoformat(occurred_at))
        except Exception:  # noqa: BLE001 - the item stands; the log says which emails are missing
            log.exception("no office email for %s", cause)

    # -- staff ----------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_inbox(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's inbox (``InboxQuery``), newest first by when the customer acted,
        a page at a time: ``next_cursor`` continues after the page's last item."""
        request = parse(InboxQuery, query, message=QUERY_ATTENTION)
        limit = request.limit or DEFAULT_PAGE
        items, more = self.repo.page(workspace_id, unread=request.unread == "true",
                                     limit=limit, cursor=request.cursor)
        return {
            "items": [item_to_wire(i) for i in items],
            "unread_count": self.repo.unread_count(workspace_id),
            "next_cursor": next_cursor(items, more),
        }

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def mark_read(self, workspace_id: str, actor: str, item_id: str) -> dict[str, Any]:
        """Mark an item read. Repeating it changes nothing: the first reader is kept."""
        return item_to_wire(self.repo.mark_read(workspace_id, actor, item_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def mark_all_read(self, workspace_id: str, actor: str) -> dict[str, int]:
        """Mark every unread item read; ``{"marked": <how many this call marked>}``."""
        return {"marked": self.repo.mark_all_read(workspace_id, actor)}
