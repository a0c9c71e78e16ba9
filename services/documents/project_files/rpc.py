"""The project-file RPC methods of the documents service: staff upload, list and remove a
project's files and see who downloaded them; a customer's signed-in contacts list the
files of the projects shared with them and download them, a piece at a time.

A download is a view — "the customer opened the document" — recorded with the contact and
the time when a signed-in contact opens the file (``open_project_file``). Only a person
gets there: the portal hands out a file's link only on a page shown to a signed-in
contact, the link is signed, lives 10 minutes and works only with that contact's session
cookie, which a mail scanner or a link preview never holds."""

from __future__ import annotations

import base64
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import CONTRACT_ERRORS, NotFound
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.project_files import CustomerFileQuery, ProjectFileQuery
from porchlight.kit import grants
from porchlight.kit.grants import CustomerGrant
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.project_files import rules
from services.documents.project_files.models import ProjectFile
from services.documents.project_files.wire import customer_file, file_to_wire, view_to_wire


class ProjectFileRpc(DocumentsDependencies):
    # -- staff ------------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def add_project_file(self, workspace_id: str, actor: str, project_id: str, data: dict) -> dict[str, Any]:
        """Add an uploaded file (``ProjectFileUpload``) to a project that is not final."""
        self.repo.projects.get(workspace_id, project_id)  # an unknown project is 404, not 422
        name, content_type, content = rules.read_upload(data)
        project, added = self.repo.project_files.add(workspace_id, actor, project_id, name, content_type,
                                                     content)
        self._file_activity(workspace_id, actor, project, "file_added", str(added.id), file_name=added.name)
        return file_to_wire(added)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_project_files(self, workspace_id: str, project_id: str, query: dict) -> dict[str, Any]:
        """The project's files, newest first, a page at a time."""
        request = parse(ProjectFileQuery, query, message=QUERY_ATTENTION)
        self.repo.projects.get(workspace_id, project_id)
        found, more = self.repo.project_files.page(workspace_id, [project_id], cursor=request.cursor,
                                                   limit=request.limit or DEFAULT_PAGE)
        return {"files": [file_to_wire(f) for f in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def remove_project_file(self, workspace_id: str, actor: str, project_id: str,
                            file_id: str) -> dict[str, Any]:
        """Remove a file: its download links stop working at once. The file as it was; a
        second call is 404."""
        found = self.repo.project_files.get(workspace_id, project_id, file_id)
        project = self.repo.project_files.remove(workspace_id, project_id, file_id)
        self._file_activity(workspace_id, actor, project, "file_removed", file_id)
        return file_to_wire(found)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_file_views(self, workspace_id: str, project_id: str, file_id: str,
                        query: dict) -> dict[str, Any]:
        """Who of the customer's contacts downloaded the file, and when, newest first."""
        request = parse(ProjectFileQuery, query, message=QUERY_ATTENTION)
        found_file = self.repo.project_files.get(workspace_id, project_id, file_id)
        found, more = self.repo.project_files.views_page(workspace_id, found_file, cursor=request.cursor,
                                                         limit=request.limit or DEFAULT_PAGE)
        return {"views": [view_to_wire(v) for v in found], "next_cursor": next_cursor(found, more)}

    # -- customers --------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_documents(self, capability: str, query: dict | None = None) -> dict[str, Any]:
        """Every file of every project shared with a signed-in contact's customer — or of one
        (``project_id``; one not shared is ``NotFound``) — newest first, a page at a time
        (``CustomerFileQuery``): ``items``, ``next_cursor``."""
        grant = customer_access.session_of(capability)
        request = parse(CustomerFileQuery, query or {}, message=QUERY_ATTENTION)
        shared = list(customer_access.shared_projects(self.sharing, grant))
        if request.project_id is not None:
            if request.project_id not in shared:
                raise NotFound(grants.REFUSAL)
            shared = [request.project_id]
        found, more = self.repo.project_files.page(grant.workspace_id, shared, cursor=request.cursor,
                                                   limit=request.limit or DEFAULT_PAGE)
        names = self.repo.projects.names(grant.workspace_id, list({f.project_id for f in found}))
        return {"items": [customer_file(f, names.get(f.project_id)) for f in found],
                "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def open_project_file(self, capability: str, project_id: str, file_id: str) -> dict[str, Any]:
        """A file of a project shared with a signed-in contact's customer, to download:
        what it is and how many ``pieces`` to ask for (``project_file_piece``). Recorded as
        a view by the contact, now."""
        grant, found = self._shared_file(capability, project_id, file_id)
        self.repo.project_files.viewed(found, grant.customer_id, grant.contact_id, utcnow())
        self.dispatch("project_file_viewed", fact(
            grant.workspace_id, f"contact:{grant.contact_id}", project_id=project_id, file_id=file_id,
            customer_id=grant.customer_id, contact_id=grant.contact_id))
        stored = self.repo.files.get(grant.workspace_id, found.file_id)
        return {**customer_file(found), "pieces": max(stored.chunks, 1)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def project_file_piece(self, capability: str, project_id: str, file_id: str, n: int) -> dict[str, Any]:
        """The ``n``-th piece (from 0) of a file ``open_project_file`` opened, while the
        project is still shared and the file still there: ``content_b64``."""
        grant, found = self._shared_file(capability, project_id, file_id)
        stored = self.repo.files.get(grant.workspace_id, found.file_id)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise NotFound(rules.NO_PIECE)
        return {"content_b64": base64.b64encode(self.repo.files.piece(stored, n)).decode("ascii")}

    # -- shared steps -----------------------------------------------------------------------
    def _shared_file(self, capability: str, project_id: str,
                     file_id: str) -> tuple[CustomerGrant, ProjectFile]:
        """The grant of a signed-in contact whose customer sees the project, and the file;
        ``NotFound`` for anything else, alike."""
        grant = customer_access.allowed(self.repo, capability, "project", project_id, "view", self.sharing)
        if not isinstance(file_id, str):
            raise NotFound(grants.REFUSAL)
        return grant, self.repo.project_files.get(grant.workspace_id, project_id, file_id)

    def _file_activity(self, workspace_id: str, actor: str, project: Any, change: str,
                       item_id: str, **shown: str) -> None:
        """``shown``: for a file added, its name, which the customer's digest email names."""
        self.dispatch("project_activity", fact(
            workspace_id, actor, project_id=str(project.id), change=change, item_id=item_id,
            customer_id=project.customer_id, project_number=project.number, project_name=project.name,
            **shown))
