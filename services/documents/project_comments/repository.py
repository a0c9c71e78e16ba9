"""A project's comments: posted once per form key, hidden by staff, listed newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mongoengine.errors import NotUniqueError

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import NotFound
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.words import N_
from porchlight.kit.storage import is_object_id, page_after
from services.documents.project_comments.models import ProjectComment
from services.documents.projects.models import Project

NO_COMMENT = N_("No such comment.")


class ProjectCommentRepository:
    def ensure_indexes(self) -> None:
        ProjectComment.ensure_indexes()

    def post(self, workspace_id: str, project_id: str, key: str,
             fields: dict[str, Any]) -> tuple[ProjectComment, bool]:
        """The comment, and whether this call posted it: a key already used on the project
        answers the comment it posted. The project's last activity moves to now."""
        now = utcnow()
        try:
            comment = ProjectComment(workspace_id=workspace_id, project_id=project_id, key=key,
                                     created_at=now, **fields).save(force_insert=True)
        except NotUniqueError:
            same = ProjectComment.objects.get(workspace_id=workspace_id, project_id=project_id, key=key)
            return same, False
        Project.objects(id=project_id, workspace_id=workspace_id).update(max__last_activity_at=now)
        return comment, True

    def get(self, workspace_id: str, project_id: str, comment_id: str) -> ProjectComment:
        found = None
        if is_object_id(comment_id):
            found = ProjectComment.objects(id=comment_id, workspace_id=workspace_id,
                                           project_id=project_id).first()
        if found is None:
            raise NotFound(NO_COMMENT)
        return found

    def hide(self, workspace_id: str, actor: str, project_id: str, comment_id: str,
             now: datetime | None = None) -> tuple[ProjectComment, bool]:
        """Hide a comment; whether this call did (hiding a hidden one changes nothing)."""
        found = self.get(workspace_id, project_id, comment_id)
        hidden = ProjectComment.objects(id=found.id, hidden_at=None).modify(
            new=True, set__hidden_at=now or utcnow(), set__hidden_by=actor)
        if hidden is None:  # hidden already
            return self.get(workspace_id, project_id, comment_id), False
        return hidden, True

    def page(self, workspace_id: str, project_id: str, *, cursor: str | None,
             limit: int) -> tuple[list[ProjectComment], bool]:
        """A page of the project's comments, newest first; a cursor must be one of them."""
        found = ProjectComment.objects(workspace_id=workspace_id, project_id=project_id)
        return page_after(ProjectComment, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR, within=True)
