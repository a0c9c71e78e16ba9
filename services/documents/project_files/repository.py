"""A project's files: added and removed as changes of their project (one conditional update
on its revision decides each, as for its hours and tasks), listed newest first, and each
download by a customer's contact recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, NotFound
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.project_files import MAX_FILES
from porchlight.contracts.words import N_
from porchlight.kit.storage import is_object_id, page_after
from services.documents.files.repository import FileRepository
from services.documents.project_files.models import FileView, ProjectFile
from services.documents.projects.repository import Applied, ProjectRepository, Retry

NO_FILE = N_("No such file.")
FULL = f"A project holds at most {MAX_FILES} files; remove some first."


class ProjectFileRepository:
    def __init__(self, projects: ProjectRepository, files: FileRepository) -> None:
        self.projects, self.files = projects, files

    def ensure_indexes(self) -> None:
        ProjectFile.ensure_indexes()
        FileView.ensure_indexes()

    def add(self, workspace_id: str, actor: str, project_id: str, name: str, content_type: str,
            content: bytes) -> tuple[Any, ProjectFile]:
        """Store the bytes, then add the file to the project; if the project refuses it
        (final, full, changed too fast), the bytes go again: nothing is left half-written."""
        self.projects.get(workspace_id, project_id)  # an unknown project stores nothing
        stored = self.files.store_in_chunks(workspace_id, name, content_type, content)

        def apply(project: Any) -> Applied:
            if ProjectFile.objects(workspace_id=workspace_id, project_id=project_id).count() >= MAX_FILES:
                raise Conflict(FULL)
            added = ProjectFile(workspace_id=workspace_id, project_id=project_id, file_id=str(stored.id),
                                name=name, content_type=content_type, size=stored.size, sha256=stored.sha256,
                                uploaded_at=utcnow(), uploaded_by=actor).save(force_insert=True)
            return added, added.delete, {}

        try:
            return self.projects.change(workspace_id, project_id, apply)
        except Exception:
            self.files.discard(workspace_id, str(stored.id))
            raise

    def get(self, workspace_id: str, project_id: str, file_id: str) -> ProjectFile:
        found = (ProjectFile.objects(id=file_id, workspace_id=workspace_id, project_id=project_id).first()
                 if is_object_id(file_id) else None)
        if found is None:
            raise NotFound(NO_FILE)
        return found

    def remove(self, workspace_id: str, project_id: str, file_id: str) -> Any:
        """Remove the file from the project, then its bytes and its views; the project."""
        removed: list[ProjectFile] = []

        def apply(project: Any) -> Applied:
            found = self.get(workspace_id, project_id, file_id)
            if not ProjectFile.objects(id=found.id).delete():
                raise Retry
            removed.append(found)
            return None, lambda: found.save(force_insert=True), {}

        project = self.projects.change(workspace_id, project_id, apply)[0]
        self.files.discard(workspace_id, removed[-1].file_id)
        FileView.objects(workspace_id=workspace_id, project_file_id=file_id).delete()
        return project

    def page(self, workspace_id: str, project_ids: list[str], *, cursor: str | None,
             limit: int) -> tuple[list[ProjectFile], bool]:
        """A page of the files of these projects, newest first (``page_after``); a cursor
        must name one of them."""
        found = ProjectFile.objects(workspace_id=workspace_id, project_id__in=project_ids)
        return page_after(ProjectFile, found, workspace_id, cursor, order="-uploaded_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR, within=True)

    def counts(self, workspace_id: str, project_ids: list[str]) -> dict[str, int]:
        """How many files each project holds."""
        counted = dict.fromkeys(project_ids, 0)
        for row in ProjectFile._get_collection().aggregate([
                {"$match": {"workspace_id": workspace_id, "project_id": {"$in": list(project_ids)}}},
                {"$group": {"_id": "$project_id", "n": {"$sum": 1}}}]):
            counted[row["_id"]] = int(row["n"])
        return counted

    def viewed(self, project_file: ProjectFile, customer_id: str, contact_id: str, at: datetime) -> None:
        """A customer's contact downloaded the file: a view, and the file's count and latest."""
        FileView(workspace_id=project_file.workspace_id, project_id=project_file.project_id,
                 project_file_id=str(project_file.id), customer_id=customer_id, contact_id=contact_id,
                 at=at).save(force_insert=True)
        ProjectFile.objects(id=project_file.id).update(inc__views=1, max__last_viewed_at=at)

    def views_page(self, workspace_id: str, project_file: ProjectFile, *, cursor: str | None,
                   limit: int) -> tuple[list[FileView], bool]:
        found = FileView.objects(workspace_id=workspace_id, project_file_id=str(project_file.id))
        return page_after(FileView, found, workspace_id, cursor, order="-at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)
