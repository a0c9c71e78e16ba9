"""Projects as a signed-in contact sees them: only those shared with their customer, each
read on the contact's verified grant (``customer_access.session_of``) and the share's
level, which sharing — the shares' owner — gives on every read (calls flow documents →
sharing only).

What a customer reads of a project: its name, number, description, status in their words,
progress, the project manager to call, the hours as Total hours, Billable hours and Last
activity, its tasks (title, assignee, status), and what they may do with it. Never a time
entry, its note, a rate or an amount: those stay with staff, because this answer leaves
them out, not because a page hides them.

Every refusal — an unknown project, another workspace's, one not shared with the
customer, a share stopped — is the same ``NotFound``.
"""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import isoformat
from porchlight.contracts.customer_lists import CustomerProjectQuery
from porchlight.contracts.errors import InvalidInput, NotFound, Unavailable
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.projects import STATUSES
from porchlight.contracts.share_grants import permissions
from porchlight.contracts.words import N_
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.documents import customer_access
from services.documents.dependencies import DocumentsDependencies
from services.documents.projects.models import Project, ProjectTask
from services.documents.projects.rules import hours_text

# Each state as the customer reads it.
STATUS_LABELS = {
    "planned": N_("Planned"),
    "active": N_("Active"),
    "on_hold": N_("On hold"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
TASK_LABELS = {
    "open": N_("To do"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}
NO_PROJECT = N_("No such project.")


def _manager(project: Project) -> dict[str, Any] | None:
    manager = project.manager
    return None if manager is None else {"name": manager.name, "email": manager.email, "phone": manager.phone}


def project_card(project: Project, level: str, role: str, document_count: int) -> dict[str, Any]:
    """A project as the customer's list shows it."""
    return {
        "id": str(project.id), "number": project.number, "name": project.name,
        "description": project.description, "status": project.status,
        "status_label": STATUS_LABELS[project.status], "progress": project.progress,
        "last_activity_at": isoformat(project.last_activity_at),
        "document_count": document_count,
        "permissions": list(permissions(level, role)),
    }


def project_for_customer(project: Project, totals: tuple[int, int], tasks: list[ProjectTask],
                         level: str, role: str, document_count: int) -> dict[str, Any]:
    """The project's page: its card, the person to call, the hours and the tasks."""
    total, billable = totals
    return {
        **project_card(project, level, role, document_count),
        "manager": _manager(project),
        "totals": {"total_hours": hours_text(total), "billable_hours": hours_text(billable),
                   "last_activity_at": isoformat(project.last_activity_at)},
        "tasks": [{"id": str(task.id), "title": task.title, "assignee": task.assignee,
                   "status": task.status, "status_label": TASK_LABELS[task.status]} for task in tasks],
    }


class CustomerProjectsRpc(DocumentsDependencies):
    @rpc(expected_exceptions=(NotFound, InvalidInput, Unavailable))
    def customer_projects(self, capability: str, query: dict | None = None) -> dict[str, Any]:
        """The projects shared with a signed-in contact's customer, the most recently
        active first, a page at a time, filtered by state if asked
        (``CustomerProjectQuery``): ``items`` (cards), ``next_cursor``, ``counts`` (how many
        shared projects are in each state, on every page) and ``filters`` (each state with
        the customer's label)."""
        grant = customer_access.session_of(capability)
        request = parse(CustomerProjectQuery, query or {}, message=QUERY_ATTENTION)
        workspace_id = grant.workspace_id
        levels = customer_access.shared_projects(self.sharing, grant)
        page, more = self.repo.projects.shared_page(workspace_id, list(levels), request.status,
                                                    cursor=request.cursor,
                                                    limit=request.limit or DEFAULT_PAGE)
        files = self.repo.project_files.counts(workspace_id, [str(p.id) for p in page])
        return {"items": [project_card(p, levels[str(p.id)], grant.role, files[str(p.id)]) for p in page],
                "next_cursor": next_cursor(page, more),
                "counts": self.repo.projects.status_counts(workspace_id, list(levels)),
                "filters": [[state, STATUS_LABELS[state]] for state in STATUSES]}

    @rpc(expected_exceptions=(NotFound, Unavailable))
    def get_project_for_customer(self, capability: str, project_id: str) -> dict[str, Any]:
        """One project shared with the signed-in contact's customer, as they see it
        (``project_for_customer``), with what they may do on it (``permissions``: view,
        comment, approve). Anything else is ``NotFound``."""
        grant = customer_access.session_of(capability)
        if not isinstance(project_id, str):
            raise NotFound(NO_PROJECT)
        workspace_id = grant.workspace_id
        project = self.repo.projects.get(workspace_id, project_id)
        found = str(project.id)
        level = customer_access.shared_level(self.sharing, grant, found)
        if not permissions(level, grant.role):
            raise NotFound(NO_PROJECT)
        totals = self.repo.projects.totals(workspace_id, [found])[found]
        files = self.repo.project_files.counts(workspace_id, [found])[found]
        return project_for_customer(project, totals, self.repo.projects.tasks(workspace_id, project), level,
                                    grant.role, files)
