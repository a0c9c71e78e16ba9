"""Outbox storage: every email Porchlight was asked to send. Every staff query takes the
workspace id; the delivery's calls (``claim``, ``record``) name one email by id, as the
task that carries it does.

Exactly once, as the recipient sees it:

- an email is queued once per ``key`` (its cause and recipient) under a unique index, so a
  cause delivered twice — a redelivered event, a repeated command — queues nothing more;
- a delivery attempt first *claims* the email (``queued`` → ``sending``, one atomic update),
  and only the attempt that made that change may send. A retried or redelivered task whose
  attempt already claimed it finds nothing to do;
- an email left ``sending`` — its worker stopped between claiming and recording — is
  never sent again on its own: the sweep marks it ``failed`` saying the outcome is unknown,
  and staff may resend it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mongoengine import NotUniqueError

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict
from porchlight.kit.storage import get_in_workspace, page_after
from services.notifications.models import Email

NO_EMAIL = "No such email."
INTERRUPTED = ("The delivery stopped after claiming this email and did not say how it ended; "
               "it may or may not have reached the recipient. Resend it if they did not get it.")
NEVER_DELIVERED = "No delivery attempt picked this email up in time; resend it."
BODY_REMOVED = "[removed from the outbox after its retention period]"
TOO_OLD = ("This email's text was removed from the outbox after its retention period, so it "
           "cannot be resent; send the record again instead.")


class Outbox:
    def ensure_indexes(self) -> None:
        Email.ensure_indexes()

    # -- queueing ------------------------------------------------------------------------
    def has_key(self, key: str) -> bool:
        return Email.objects(key=key).only("id").first() is not None

    def has_cause(self, cause: str) -> bool:
        """Whether any email was queued for ``cause`` (whoever it went to)."""
        return Email.objects(cause=cause).only("id").first() is not None

    def queue_once(self, fields: dict[str, Any]) -> tuple[Email, bool]:
        """Store the email for ``fields["key"]`` unless one exists; returns the email and
        whether this call queued it (only then is a delivery task to be sent)."""
        try:
            return Email(**fields).save(force_insert=True), True
        except NotUniqueError:
            return Email.objects.get(key=fields["key"]), False

    def fail_unqueued(self, email: Email, reason: str) -> None:
        """The delivery task could not be handed to the broker: say so on the email."""
        Email.objects(id=email.id, status="queued").update(
            set__status="failed", set__last_error=reason, set__updated_at=utcnow())

    # -- delivery ------------------------------------------------------------------------
    def claim(self, email_id: str) -> Email | None:
        """``queued`` → ``sending`` for one attempt; ``None`` if the email is not waiting
        (already sent, being sent, failed, or unknown)."""
        now = utcnow()
        return Email.objects(id=email_id, status="queued").modify(
            set__status="sending", inc__attempts=1, set__claimed_at=now, set__updated_at=now,
            new=True)

    def record(self, email_id: str, attempt: int, outcome: str, error: str | None) -> Email | None:
        """What became of the attempt that claimed the email as its ``attempt``-th:
        ``sent``, ``retry`` (back to queued) or ``failed``. Only that attempt's word counts."""
        now = utcnow()
        changes: dict[str, Any] = {"set__updated_at": now}
        if outcome == "sent":
            changes.update(set__status="sent", set__sent_at=now, set__last_error=None)
        elif outcome == "retry":
            changes.update(set__status="queued", set__last_error=error)
        else:
            changes.update(set__status="failed", set__last_error=error)
        return Email.objects(id=email_id, status="sending", attempts=attempt).modify(
            new=True, **changes)

    def sweep(self, now: datetime, *, claimed_before: datetime, queued_before: datetime,
              bodies_before: datetime) -> dict[str, int]:
        """Fail what will not finish by itself: emails claimed long ago and never recorded,
        and emails queued long ago that no attempt picked up (a lost task). Then remove the
        bodies of emails finished (sent or failed) before ``bodies_before``: what was said
        to whom is kept only as long as it is needed to resend or look it up."""
        interrupted = Email.objects(status="sending", claimed_at__lt=claimed_before).update(
            set__status="failed", set__last_error=INTERRUPTED, set__updated_at=now)
        lost = Email.objects(status="queued", updated_at__lt=queued_before).update(
            set__status="failed", set__last_error=NEVER_DELIVERED, set__updated_at=now)
        pruned = Email.objects(status__in=("sent", "failed"), updated_at__lt=bodies_before,
                               bodies_removed_at=None).update(
            set__text_body=BODY_REMOVED, set__html_body=BODY_REMOVED, set__bodies_removed_at=now)
        return {"interrupted": interrupted, "never_delivered": lost, "bodies_removed": pruned}

    # -- staff ---------------------------------------------------------------------------
    def get(self, workspace_id: str, email_id: str) -> Email:
        return get_in_workspace(Email, workspace_id, email_id, NO_EMAIL)

    def page(self, workspace_id: str, filters: dict[str, str], *, limit: int,
             cursor: str | None) -> tuple[list[Email], bool]:
        """Newest first by when it was queued, after the email ``cursor`` names."""
        return page_after(Email, Email.objects(workspace_id=workspace_id, **filters), workspace_id, cursor,
                          order="-created_at", limit=limit, not_a_cursor="Not a cursor of this outbox.")

    def requeue_failed(self, workspace_id: str, email_id: str, changes: dict[str, Any]) -> Email:
        """A failed email back to ``queued`` for one more delivery (with ``changes``, e.g.
        its new link); any other state is a conflict."""
        email = self.get(workspace_id, email_id)
        requeued = Email.objects(id=email.id, workspace_id=workspace_id, status="failed",
                                 bodies_removed_at=None).modify(
            set__status="queued", inc__resends=1, set__updated_at=utcnow(), new=True, **changes)
        if requeued is None:
            if email.bodies_removed_at is not None:
                raise Conflict(TOO_OLD)
            raise Conflict(f"Only a failed email can be resent; this one is {email.status}.")
        return requeued
