"""Comments on the wire: as staff see them, and as a customer's contact does (a hidden
comment without its words)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.project_comments import Comment as CommentReply
from services.documents.project_comments.models import ProjectComment


def _author(comment: ProjectComment) -> dict[str, Any]:
    return {"kind": comment.author_kind, "name": comment.author_name, "contact_id": comment.contact_id}


def comment_to_wire(comment: ProjectComment) -> dict[str, Any]:
    return answer(CommentReply, id=str(comment.id), project_id=comment.project_id, body=comment.body,
                  author=_author(comment), created_at=isoformat(comment.created_at),
                  hidden_at=isoformat(comment.hidden_at), hidden_by=comment.hidden_by)


def customer_comment(comment: ProjectComment) -> dict[str, Any]:
    """What the customer's contacts read: the words only while the comment is not hidden."""
    hidden = comment.hidden_at is not None
    return {"id": str(comment.id), "body": None if hidden else comment.body, "hidden": hidden,
            "author": _author(comment), "created_at": isoformat(comment.created_at)}
