"""The project-comment RPC methods of the documents service: staff list, post and hide a
project's comments; a customer's signed-in contacts read the thread of a project shared
with them and post to it when their share allows (``comment`` or higher). A comment by a
customer is a fact the team hears of (``project_comment_posted``: an inbox item)."""

from __future__ import annotations

import uuid
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.errors import CONTRACT_ERRORS
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.project_comments import CommentQuery, CustomerCommentInput, StaffCommentInput
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.project_comments.models import ProjectComment
from services.documents.project_comments.wire import comment_to_wire, customer_comment
from services.documents.projects.models import Project

EXCERPT = 200  # characters of a comment its fact carries, for the team's inbox


class ProjectCommentRpc(DocumentsDependencies):
    # -- staff ------------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_project_comments(self, workspace_id: str, project_id: str, query: dict) -> dict[str, Any]:
        """The project's comments, newest first, hidden ones with their words."""
        request = parse(CommentQuery, query, message=QUERY_ATTENTION)
        self.repo.projects.get(workspace_id, project_id)
        found, more = self.repo.project_comments.page(workspace_id, project_id, cursor=request.cursor,
                                                      limit=request.limit or DEFAULT_PAGE)
        return {"comments": [comment_to_wire(c) for c in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def post_staff_comment(self, workspace_id: str, actor: str, project_id: str,
                           data: dict) -> dict[str, Any]:
        """A comment by a member of the team, under the name they give."""
        request = parse(StaffCommentInput, data)
        project = self.repo.projects.get(workspace_id, project_id)
        comment, _ = self.repo.project_comments.post(workspace_id, project_id, uuid.uuid4().hex, {
            "body": request.body, "author_kind": "staff", "author_name": request.author_name,
            "created_by": actor})
        self._posted(project, comment, actor)
        return comment_to_wire(comment)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def hide_project_comment(self, workspace_id: str, actor: str, project_id: str,
                             comment_id: str) -> dict[str, Any]:
        """Hide a comment: customers then read "comment removed". Hiding it again changes nothing."""
        comment, changed = self.repo.project_comments.hide(workspace_id, actor, project_id, comment_id)
        if changed:
            self.dispatch("project_comment_hidden", fact(workspace_id, actor, project_id=project_id,
                                                         comment_id=comment_id))
        return comment_to_wire(comment)

    # -- customers --------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_comments(self, capability: str, project_id: str,
                          query: dict | None = None) -> dict[str, Any]:
        """The thread of a project shared with a signed-in contact's customer, newest first,
        a page at a time: ``items`` (a hidden comment without its words), ``next_cursor``."""
        grant = customer_access.allowed(self.repo, capability, "project", project_id, "view", self.sharing)
        request = parse(CommentQuery, query or {}, message=QUERY_ATTENTION)
        found, more = self.repo.project_comments.page(grant.workspace_id, project_id, cursor=request.cursor,
                                                      limit=request.limit or DEFAULT_PAGE)
        return {"items": [customer_comment(c) for c in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def post_customer_comment(self, capability: str, project_id: str, data: dict) -> dict[str, Any]:
        """A comment by a signed-in contact whose customer's share of the project allows
        commenting (``NotFound`` otherwise, as for a project they cannot see), under their
        name. The form's ``key`` posts once: a double click answers the same comment."""
        grant = customer_access.allowed(self.repo, capability, "project", project_id, "comment", self.sharing)
        request = parse(CustomerCommentInput, data)
        project = self.repo.projects.get(grant.workspace_id, project_id)
        name = self.identity.get_contact(grant.workspace_id, grant.customer_id, grant.contact_id)["name"]
        actor = f"contact:{grant.contact_id}"
        comment, posted = self.repo.project_comments.post(grant.workspace_id, project_id, request.key, {
            "body": request.body, "author_kind": "contact", "author_name": name,
            "contact_id": grant.contact_id, "customer_id": grant.customer_id, "created_by": actor})
        if posted:
            self._posted(project, comment, actor)
        return customer_comment(comment)

    def _posted(self, project: Project, comment: ProjectComment, actor: str) -> None:
        self.dispatch("project_comment_posted", fact(
            project.workspace_id, actor, project_id=str(project.id), comment_id=str(comment.id),
            customer_id=comment.customer_id, author_kind=comment.author_kind, author_name=comment.author_name,
            project_number=project.number, project_name=project.name, excerpt=comment.body[:EXCERPT]))
