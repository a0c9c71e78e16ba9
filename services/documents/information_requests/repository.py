"""Information-request storage. Every query carries the workspace id.

Every change to a request — a draft's edit, sending, cancelling, a customer's answer,
staff's review of an item — is decided by one conditional update of the request whose
filter is the revision it read (``decide``): of two concurrent changes exactly one wins;
the other reads the request again and is judged by the rules against what won (a second
answer to the same item is refused, a second accept changes nothing). An answer's files
are stored before the claim and discarded when the answer is refused, so a refused
answer leaves nothing behind; the files an answer replaces go once it has won.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bson import ObjectId

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.contracts.information_requests import OPEN
from porchlight.contracts.paging import NOT_A_CURSOR, QUERY_ATTENTION
from porchlight.kit.storage import get_in_workspace, page_after
from services.documents.files.repository import FileRepository
from services.documents.information_requests import rules
from services.documents.information_requests.models import AnswerFile, InformationRequest, RequestItem
from services.documents.numbering.repository import create_numbered

ATTEMPTS = 5
TOO_FAST = "The information request is changing too fast; try again."

# What a rule decides about a request read: the updates of its claim, or None for no change.
Decision = Callable[[InformationRequest], dict[str, Any] | None]


def new_items(prompts: list[str]) -> list[RequestItem]:
    return [RequestItem(id=str(ObjectId()), prompt=prompt, status="pending") for prompt in prompts]


def item_of(request: InformationRequest, item_id: Any) -> RequestItem:
    for item in request.items:
        if item.id == item_id:
            return item
    raise NotFound(rules.NO_ITEM)


def _replaced(request: InformationRequest, item_id: str, **fields: Any) -> list[RequestItem]:
    """The request's items with one of them changed (copies: the request read stays as read)."""
    items = []
    for item in request.items:
        copy = RequestItem(**item.to_mongo().to_dict())
        if item.id == item_id:
            for name, value in fields.items():
                setattr(copy, name, value)
        items.append(copy)
    return items


class InformationRequestRepository:
    def __init__(self, files: FileRepository) -> None:
        self.files = files

    def ensure_indexes(self) -> None:
        InformationRequest.ensure_indexes()

    def create(self, workspace_id: str, actor: str, project_id: str, title: str,
               prompts: list[str]) -> InformationRequest:
        return create_numbered(InformationRequest, "information_request", workspace_id, actor, {
            "project_id": project_id, "title": title, "items": new_items(prompts)})

    def get(self, workspace_id: str, request_id: Any) -> InformationRequest:
        return get_in_workspace(InformationRequest, workspace_id, request_id, rules.NO_REQUEST)

    def page(self, workspace_id: str, project_id: str, status: str | None, *, cursor: str | None,
             limit: int) -> tuple[list[InformationRequest], bool]:
        """A page of a project's requests, newest first; a cursor must name one of them."""
        found = InformationRequest.objects(workspace_id=workspace_id, project_id=project_id)
        if status is not None:
            found = found.filter(status=status)
        self._check_cursor(found, cursor)
        return page_after(InformationRequest, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def shown_page(self, workspace_id: str, project_ids: list[str], statuses: tuple[str, ...], *,
                   cursor: str | None, limit: int) -> tuple[list[InformationRequest], bool]:
        """A page of the requests of these projects (those shared with a customer) in these
        states, the latest sent first; a cursor must name one of them."""
        found = InformationRequest.objects(workspace_id=workspace_id, project_id__in=list(project_ids),
                                           status__in=list(statuses))
        self._check_cursor(found, cursor)
        return page_after(InformationRequest, found, workspace_id, cursor, order="-sent_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def shown_counts(self, workspace_id: str, project_ids: list[str]) -> dict[str, int]:
        """How many of these projects' requests are open, and completed."""
        counts = dict.fromkeys(("sent", "in_progress", "completed"), 0)
        for row in InformationRequest._get_collection().aggregate([
                {"$match": {"workspace_id": workspace_id, "project_id": {"$in": list(project_ids)},
                            "status": {"$in": list(counts)}}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = int(row["n"])
        return {"open": counts["sent"] + counts["in_progress"], "completed": counts["completed"]}

    @staticmethod
    def _check_cursor(found: Any, cursor: str | None) -> None:
        if cursor is not None and (not ObjectId.is_valid(cursor)
                                   or not found.filter(id=cursor).only("id").first()):
            raise InvalidInput(QUERY_ATTENTION, {"cursor": NOT_A_CURSOR})

    # -- changes ----------------------------------------------------------------------------
    def decide(self, workspace_id: str, actor: str, request_id: str,
               decision: Decision) -> tuple[InformationRequest, bool]:
        """The request after ``decision`` (a rule: raises to refuse, None for no change),
        claimed in one conditional update on the revision read; whether it changed."""
        for _ in range(ATTEMPTS):
            current = self.get(workspace_id, request_id)
            updates = decision(current)
            if updates is None:
                return current, False
            claimed = InformationRequest.objects(
                id=current.id, workspace_id=workspace_id, revision=current.revision,
            ).modify(new=True, inc__revision=1, set__updated_at=utcnow(), set__updated_by=actor, **updates)
            if claimed is not None:
                return claimed, True
        raise Conflict(TOO_FAST)

    def edit_draft(self, workspace_id: str, actor: str, request_id: str, title: str | None,
                   prompts: list[str] | None) -> tuple[InformationRequest, bool]:
        def decision(current: InformationRequest) -> dict[str, Any] | None:
            updates: dict[str, Any] = {}
            if title is not None and title != current.title:
                updates["set__title"] = title
            if prompts is not None and prompts != [item.prompt for item in current.items]:
                updates["set__items"] = new_items(prompts)
            if not updates:
                return None  # nothing to change, whatever the state
            rules.ensure_draft(current.status)
            return updates

        return self.decide(workspace_id, actor, request_id, decision)

    def send(self, workspace_id: str, actor: str, request_id: str,
             now: datetime | None = None) -> tuple[InformationRequest, bool]:
        """draft → sent; a request sent or answered already stays as it is."""
        def decision(current: InformationRequest) -> dict[str, Any] | None:
            rules.ensure_sendable(current.status)
            if current.status != "draft":
                return None
            return {"set__status": "sent", "set__sent_at": now or utcnow()}

        return self.decide(workspace_id, actor, request_id, decision)

    def cancel(self, workspace_id: str, actor: str, request_id: str) -> tuple[InformationRequest, bool]:
        def decision(current: InformationRequest) -> dict[str, Any] | None:
            rules.ensure_cancellable(current.status)
            return {"set__status": "cancelled", "set__cancelled_at": utcnow()}

        return self.decide(workspace_id, actor, request_id, decision)

    def answer(self, workspace_id: str, actor: str, request_id: str, item_id: str, text: str | None,
               files: list[tuple[str, str, bytes]]) -> InformationRequest:
        """The customer's answer to one item: its files stored first, then the answer
        claimed; a refused answer takes its files away again, a winning one the files of
        the answer it replaces."""
        stored = [self.files.store_in_chunks(workspace_id, name, content_type, content)
                  for name, content_type, content in files]
        attached = [AnswerFile(id=str(ObjectId()), file_id=str(s.id), name=name, content_type=content_type,
                               size=s.size, sha256=s.sha256)
                    for s, (name, content_type, _) in zip(stored, files, strict=True)]
        replaced: list[str] = []

        def decision(current: InformationRequest) -> dict[str, Any]:
            item = item_of(current, item_id)
            rules.ensure_answerable(current.status, item.status)
            replaced[:] = [f.file_id for f in item.files]
            items = _replaced(current, item_id, status="submitted", answer_text=text, files=attached,
                              answered_at=utcnow(), answered_by=actor)
            return {"set__items": items, "set__status": "in_progress"}

        try:
            answered, _ = self.decide(workspace_id, actor, request_id, decision)
        except Exception:
            for s in stored:
                self.files.discard(workspace_id, str(s.id))
            raise
        for file_id in replaced:
            self.files.discard(workspace_id, file_id)
        return answered

    def accept(self, workspace_id: str, actor: str, request_id: str,
               item_id: str) -> tuple[InformationRequest, bool]:
        """A submitted item accepted; the last one completes the request. Accepting an
        accepted item changes nothing."""
        def decision(current: InformationRequest) -> dict[str, Any] | None:
            item = item_of(current, item_id)
            if item.status == "accepted":
                return None
            self._reviewable(current, item)
            now = utcnow()
            items = _replaced(current, item_id, status="accepted", reviewed_at=now, reviewed_by=actor)
            updates: dict[str, Any] = {"set__items": items}
            if all(i.status == "accepted" for i in items):
                updates.update(set__status="completed", set__completed_at=now)
            return updates

        return self.decide(workspace_id, actor, request_id, decision)

    def send_back(self, workspace_id: str, actor: str, request_id: str, item_id: str,
                  note: str) -> InformationRequest:
        """A submitted item returned to the customer with staff's note."""
        def decision(current: InformationRequest) -> dict[str, Any]:
            item = item_of(current, item_id)
            self._reviewable(current, item)
            return {"set__items": _replaced(current, item_id, status="returned", note=note,
                                            reviewed_at=utcnow(), reviewed_by=actor)}

        return self.decide(workspace_id, actor, request_id, decision)[0]

    @staticmethod
    def _reviewable(current: InformationRequest, item: RequestItem) -> None:
        if current.status == "draft":
            raise Conflict("A draft has no answers to review yet: send it first.")
        if current.status not in OPEN:
            raise Conflict(f"A request that is {current.status} is not reviewed any more.")
        rules.ensure_submitted(item.status)

    def answer_file(self, workspace_id: str, request: InformationRequest, item_id: str,
                    file_id: str) -> AnswerFile:
        for found in item_of(request, item_id).files:
            if found.id == file_id:
                return found
        raise NotFound("No such file in this item's answer.")
