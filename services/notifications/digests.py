"""Project digests: what a customer has not yet been told of a project shared with them,
and when they may next be told.

A customer whose shared project gets a comment from the team, a new document or a new
status is emailed **at most once per project per hour**: one ``ProjectDigest`` per
(workspace, project, customer) holds

- ``pending``: the changes not yet emailed, in the order they came (a comment, a file, a
  status; each with the id it is about);
- ``recent``: the causes of the last ``RECENT_CAUSES`` changes it recorded, so that a fact
  delivered twice is recorded once, before and after its digest went;
- ``next_at``: the earliest moment the next digest may go — when it was made, then an hour
  after each digest; ``waiting``: whether changes wait (the sweep's index).

The rules, each one conditional update on that one document:

- **record** pushes a change unless its cause is in ``recent`` (a redelivery changes nothing);
- **claim** takes every pending change and moves ``next_at`` an hour on, in one
  ``find_one_and_update`` whose filter *is* the rule (changes waiting, ``next_at`` reached):
  of two callers at once one wins, and a change pushed meanwhile is either in what the
  winner took or left for the next digest — never in two, never lost;
- **forget** drops a pending change that no longer holds (a comment hidden, a file removed
  before its digest went): hidden comments are never announced.

The first change after a quiet hour is sent at once by the handler that records it; what
comes within the hour waits, and the sweep (``sweep_emails``, every 5 minutes) sends it when
the hour is up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from porchlight.contracts.clock import to_millis
from services.notifications.models import ProjectDigest

# At most one digest per project and customer in this long.
DIGEST_EVERY = timedelta(hours=1)
# How many recorded causes a digest remembers to recognise a fact delivered again.
RECENT_CAUSES = 200
# Digests one sweep sends at most; the next sweep takes the rest.
SWEEP_BATCH = 500


class ProjectDigests:
    def ensure_indexes(self) -> None:
        ProjectDigest.ensure_indexes()

    @staticmethod
    def _collection() -> Any:
        return ProjectDigest._get_collection()

    def record(self, workspace_id: str, project_id: str, customer_id: str, change: dict[str, Any],
               shown: dict[str, str], now: datetime) -> ProjectDigest | None:
        """Add ``change`` (with its ``cause``) to the customer's digest of the project, made
        on first use; ``shown``: the project's number and name as the fact gave them.
        Returns the digest, or ``None`` when the change was recorded already."""
        now = to_millis(now)
        key = {"workspace_id": workspace_id, "project_id": project_id, "customer_id": customer_id}
        try:
            self._collection().update_one(key, {"$setOnInsert": {
                **key, "pending": [], "recent": [], "waiting": False, "next_at": now, "sent": 0,
                "created_at": now}}, upsert=True)
        except DuplicateKeyError:  # a racing caller made it: it is there now
            pass
        found = self._collection().find_one_and_update(
            {**key, "recent": {"$ne": change["cause"]}},
            {"$push": {"pending": change, "recent": {"$each": [change["cause"]], "$slice": -RECENT_CAUSES}},
             "$set": {"waiting": True, **{k: v for k, v in shown.items() if v}}},
            return_document=ReturnDocument.AFTER)
        return ProjectDigest._from_son(found) if found else None

    def claim(self, digest_id: Any, now: datetime) -> ProjectDigest | None:
        """Take the digest's pending changes to send them now, if it may go (changes wait
        and its hour is up): the digest as it was, with them; ``None`` otherwise."""
        now = to_millis(now)
        taken = self._collection().find_one_and_update(
            {"_id": digest_id, "waiting": True, "next_at": {"$lte": now}, "pending.0": {"$exists": True}},
            {"$set": {"pending": [], "waiting": False, "last_sent_at": now, "next_at": now + DIGEST_EVERY},
             "$inc": {"sent": 1}},
            return_document=ReturnDocument.BEFORE)
        return ProjectDigest._from_son(taken) if taken else None

    def drop(self, digest_id: Any) -> None:
        """Nobody is to be told (the share stopped): the pending changes go, the hour stays."""
        self._collection().update_one({"_id": digest_id}, {"$set": {"pending": [], "waiting": False}})

    def forget(self, workspace_id: str, project_id: str, kind: str, ref_id: str) -> None:
        """A pending change about ``ref_id`` no longer holds (a comment hidden, a file
        removed): it leaves every digest of the project not sent yet."""
        scope = {"workspace_id": workspace_id, "project_id": project_id}
        self._collection().update_many({**scope, "waiting": True},
                                       {"$pull": {"pending": {"kind": kind, "ref_id": ref_id}}})
        self._settle(scope)

    def _settle(self, scope: dict[str, Any]) -> None:
        """Digests left with nothing pending wait no more."""
        self._collection().update_many({**scope, "waiting": True, "pending": {"$size": 0}},
                                       {"$set": {"waiting": False}})

    def due(self, now: datetime) -> list[ProjectDigest]:
        """Digests with changes waiting whose hour is up, longest waiting first."""
        self._settle({})
        return list(ProjectDigest.objects(waiting=True, next_at__lte=to_millis(now))
                    .order_by("next_at").limit(SWEEP_BATCH))

    def get(self, workspace_id: str, project_id: str, customer_id: str) -> ProjectDigest | None:
        return ProjectDigest.objects(workspace_id=workspace_id, project_id=project_id,
                                     customer_id=customer_id).first()


def summary(pending: list[dict[str, Any]]) -> dict[str, Any]:
    """What a digest says of its changes, collapsed: how many comments from the team, the
    documents added (by name, in order), and the status the project ended in."""
    comments = sum(1 for change in pending if change["kind"] == "staff_comment")
    files = [change.get("name") for change in pending if change["kind"] == "file_added"]
    statuses = [change["status"] for change in pending if change["kind"] == "status"]
    return {"comments": comments, "files": files, "status": statuses[-1] if statuses else None}
