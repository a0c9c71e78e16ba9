"""Inbox storage. Every query takes the workspace id; an item is made once per cause."""

from __future__ import annotations

from typing import Any

from mongoengine import NotUniqueError

from porchlight.contracts.clock import utcnow
from porchlight.kit.idempotency import CommandLog
from porchlight.kit.storage import get_in_workspace, page_after
from services.notifications.digests import ProjectDigests
from services.notifications.models import InboxItem, NotificationsCommand
from services.notifications.outbox import Outbox

NO_ITEM = "No such inbox item."


class NotificationsRepository:
    """The inbox's queries here; the outbox's under ``outbox``, the project digests' under
    ``digests``."""

    def __init__(self) -> None:
        self.outbox = Outbox()
        self.digests = ProjectDigests()
        self.commands = CommandLog(NotificationsCommand)

    def ensure_indexes(self) -> None:
        InboxItem.ensure_indexes()
        self.outbox.ensure_indexes()
        self.digests.ensure_indexes()
        self.commands.ensure_indexes()

    def has_cause(self, cause: str) -> bool:
        """Whether the fact ``cause`` names already made its item (a redelivery)."""
        return InboxItem.objects(cause=cause).only("id").first() is not None

    def add_once(self, fields: dict[str, Any]) -> tuple[InboxItem, bool]:
        """Store the item for ``fields["cause"]`` unless one exists; returns the item and
        whether this call made it. The unique index on ``cause`` decides between two
        deliveries of one fact that race: the loser gets the winner's item."""
        try:
            return InboxItem(**fields).save(force_insert=True), True
        except NotUniqueError:
            return InboxItem.objects.get(cause=fields["cause"]), False

    def get(self, workspace_id: str, item_id: str) -> InboxItem:
        return get_in_workspace(InboxItem, workspace_id, item_id, NO_ITEM)

    def page(self, workspace_id: str, *, unread: bool, limit: int,
             cursor: str | None) -> tuple[list[InboxItem], bool]:
        """Newest first by when the customer acted, after the item ``cursor`` names."""
        items = InboxItem.objects(workspace_id=workspace_id)
        if unread:
            items = items.filter(read_at=None)
        return page_after(InboxItem, items, workspace_id, cursor, order="-occurred_at", limit=limit,
                          not_a_cursor="Not a cursor of this inbox.")

    def unread_count(self, workspace_id: str) -> int:
        return InboxItem.objects(workspace_id=workspace_id, read_at=None).count()

    def mark_read(self, workspace_id: str, actor: str, item_id: str) -> InboxItem:
        """Mark one item read; an item already read keeps who read it first and when."""
        item = self.get(workspace_id, item_id)
        marked = InboxItem.objects(id=item.id, workspace_id=workspace_id, read_at=None).modify(
            set__read_at=utcnow(), set__read_by=actor, new=True)
        return marked or self.get(workspace_id, item_id)

    def mark_all_read(self, workspace_id: str, actor: str) -> int:
        """Mark every unread item of the workspace read, in one update; returns how many."""
        return InboxItem.objects(workspace_id=workspace_id, read_at=None).update(
            set__read_at=utcnow(), set__read_by=actor)
