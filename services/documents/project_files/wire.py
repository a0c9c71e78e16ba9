"""Project files on the wire: the staff view, a view (download) of one, and the customer's."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.project_files import FileView as FileViewReply
from porchlight.contracts.project_files import ProjectFile as ProjectFileReply
from services.documents.project_files.models import FileView, ProjectFile


def file_to_wire(found: ProjectFile) -> dict[str, Any]:
    return answer(ProjectFileReply, id=str(found.id), project_id=found.project_id, name=found.name,
                  content_type=found.content_type, size=found.size, sha256=found.sha256,
                  uploaded_at=isoformat(found.uploaded_at), uploaded_by=found.uploaded_by,
                  views=found.views, last_viewed_at=isoformat(found.last_viewed_at))


def view_to_wire(view: FileView) -> dict[str, Any]:
    return answer(FileViewReply, id=str(view.id), contact_id=view.contact_id, customer_id=view.customer_id,
                  at=isoformat(view.at))


def customer_file(found: ProjectFile, project_name: str | None = None) -> dict[str, Any]:
    """What a customer's contact sees of a file: never who uploaded it or its views."""
    return {"id": str(found.id), "project_id": found.project_id, "project_name": project_name,
            "name": found.name, "content_type": found.content_type, "size": found.size,
            "uploaded_at": isoformat(found.uploaded_at)}
