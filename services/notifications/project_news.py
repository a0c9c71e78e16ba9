"""A customer's digest of a shared project's changes: the facts that feed it (a comment
from the team, a document added, a new status — and the ways back: a comment hidden, a
document removed before the digest went), and the sending, at once for the first change
after a quiet hour, else by the sweep when the hour is up (``services.notifications.digests``
states the rules).

Who is told is decided twice, from the owners' answers of the moment: when a change is
recorded, the customers the project is shared with now (``sharing.resource_shares``) each get
it in their digest; when a digest goes, a customer whose share has stopped since gets none.
It goes to the customer's portal contacts (``identity.record_readers``, owners and members:
both see shared projects), each in their own language, with a link into their account —
never a share link: the project is seen through the share, signed in.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from porchlight.contracts.clock import as_utc, isoformat, utcnow
from porchlight.contracts.events import (
    ProjectActivity,
    ProjectCommentHidden,
    ProjectCommentPosted,
    ProjectUpdated,
)
from services.notifications import digests, emails
from services.notifications.models import ProjectDigest

log = logging.getLogger(__name__)

# Who reads a shared project in the portal: owners and members alike.
PROJECT_READERS = ["owner", "member"]


def comment_change(event: ProjectCommentPosted) -> dict[str, Any]:
    return {"cause": f"{event.event}:{event.comment_id}", "kind": "staff_comment",
            "ref_id": event.comment_id, "at": isoformat(event.occurred_at)}


def file_change(event: ProjectActivity) -> dict[str, Any]:
    return {"cause": f"{event.event}:{event.change}:{event.item_id}", "kind": "file_added",
            "ref_id": event.item_id, "name": event.file_name, "at": isoformat(event.occurred_at)}


def status_change(event: ProjectUpdated) -> dict[str, Any]:
    # project_updated names no change of its own: the project, the moment and the status
    # it reached tell one from another, and a redelivery from nothing new.
    at = isoformat(event.occurred_at)
    return {"cause": f"{event.event}:{event.project_id}:{at}:{event.status}", "kind": "status",
            "ref_id": event.project_id, "status": event.status, "at": at}


class ProjectNews:
    """What is new on a shared project, for its customers: the facts that feed their
    digests, and the sending (the service's handlers and sweep call these)."""

    # -- what feeds a digest --------------------------------------------------------------
    def _team_commented(self, event: ProjectCommentPosted) -> None:
        self._tell_customers(event.workspace_id, event.project_id, comment_change(event),
                             {"project_number": event.project_number, "project_name": event.project_name})

    def _project_activity(self, event: ProjectActivity) -> None:
        if event.change == "file_added" and event.item_id:
            self._tell_customers(event.workspace_id, event.project_id, file_change(event),
                                 {"project_number": event.project_number, "project_name": event.project_name})
        elif event.change == "file_removed" and event.item_id:
            self.repo.digests.forget(event.workspace_id, event.project_id, "file_added", event.item_id)

    def _project_updated(self, event: ProjectUpdated) -> None:
        if "status" in event.fields and event.status is not None:
            self._tell_customers(event.workspace_id, event.project_id, status_change(event),
                                 {"project_number": event.project_number, "project_name": event.project_name})

    def _comment_hidden(self, event: ProjectCommentHidden) -> None:
        self.repo.digests.forget(event.workspace_id, event.project_id, "staff_comment", event.comment_id)

    def _tell_customers(self, workspace_id: str, project_id: str, change: dict[str, Any],
                        shown: dict[str, str | None]) -> None:
        """The change joins the digest of each customer the project is shared with now; a
        digest whose hour is up goes at once."""
        try:
            shares = self.sharing.resource_shares(workspace_id, "project", project_id)["shares"]
        except Exception:  # noqa: BLE001 - one fact; the log says which customers were not told
            log.exception("no digest for %s: the project's shares could not be read", change["cause"])
            return
        now = utcnow()
        for share in shares:
            digest = self.repo.digests.record(workspace_id, project_id, share["customer_id"], change,
                                              {k: v for k, v in shown.items() if v}, now)
            if digest is not None and as_utc(digest.next_at) <= now:
                self._send_digest(digest, now, shared=True)

    # -- sending ----------------------------------------------------------------------------
    def _send_digest(self, digest: ProjectDigest, now: datetime, *, shared: bool = False) -> bool:
        """Email the digest's pending changes to its customer's portal contacts if its hour
        is up: whether it went. ``shared``: the caller has just seen the share live."""
        try:
            if not shared:
                live = self.sharing.resource_shares(digest.workspace_id, "project", digest.project_id)
                if digest.customer_id not in {share["customer_id"] for share in live["shares"]}:
                    self.repo.digests.drop(digest.id)  # the share stopped: nobody is told
                    return False
            readers = self.identity.record_readers(digest.workspace_id, digest.customer_id, PROJECT_READERS)
            workspace = self.identity.get_workspace(digest.workspace_id)
        except Exception:  # noqa: BLE001 - the changes wait for the next sweep
            log.exception("digest %s not sent now: a neighbour did not answer", digest.id)
            return False
        taken = self.repo.digests.claim(digest.id, now)
        if taken is None:  # sent by another caller, or its hour is not up
            return False
        cause = f"project_digest:{taken.id}:{taken.sent + 1}"
        if not readers["contacts"]:
            log.warning("%s not emailed: the customer has no portal contact", cause)
            return False
        changes = digests.summary(taken.pending)
        about = {"project_id": taken.project_id, "project_number": taken.project_number,
                 "project_name": taken.project_name}
        for contact in readers["contacts"]:
            self._queue(workspace, cause,
                        emails.to_project_reader(about, changes, readers["customer"], contact))
        return True

    def _send_due_digests(self) -> int:
        """The sweep's part: every digest whose changes waited their hour goes; how many went."""
        now, sent = utcnow(), 0
        for digest in self.repo.digests.due(now):
            try:
                sent += self._send_digest(digest, now)
            except Exception:  # noqa: BLE001 - one digest's trouble does not hold the others
                log.exception("digest %s not sent", digest.id)
        return sent

