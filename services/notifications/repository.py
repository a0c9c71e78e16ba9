"""Inbox storage. Every query takes the workspace id; an item is made once per cause."""

from __future__ import annotations

from typing import Any

from mongoengine import NotUniqueError
from mongoengine.queryset.visitor import Q

from porchlight.clock import utcnow
from porchlight.errors import InvalidInput, NotFound
from porchlight.storage import get_in_workspace
from services.notifications.models import InboxItem
from services.notifications.outbox import Outbox

NO_ITEM = "No such inbox item."


class NotificationsRepository:
    """The inbox's queries here; the outbox's under ``outbox``."""

    def __init__(self) -> None:
        self.outbox = Outbox()

    def ensure_indexes(self) -> None:
        InboxItem.ensure_indexes()
        self.outbox.ensure_indexes()

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
        """Newest first by ``occurred_at`` (ties by id), after the item ``cursor`` names;
        returns the page and whether more follow."""
        items = InboxItem.objects(workspace_id=workspace_id)
        if unread:
            items = items.filter(read_at=None)
        if cursor is not None:
            try:
                last = self.get(workspace_id, cursor)
            except NotFound:
                raise InvalidInput("Some query parameters need attention.",
                                   {"cursor": "Not a cursor of this inbox."}) from None
            items = items.filter(Q(occurred_at__lt=last.occurred_at)
                                 | Q(occurred_at=last.occurred_at, id__lt=last.id))
        found = list(items.order_by("-occurred_at", "-id").limit(limit + 1))
        return found[:limit], len(found) > limit

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
