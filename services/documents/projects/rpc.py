"""The project RPC methods of the documents service: staff create and change projects, log
their hours and keep their tasks. Customers see no project yet."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.projects import (
    ProjectInput,
    ProjectPatch,
    ProjectQuery,
    TaskInput,
    TaskOrder,
    TaskPatch,
    TimeEntryInput,
    TimeEntryPatch,
    TimeEntryQuery,
)
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import list_filters, next_cursor
from services.documents.dependencies import DocumentsDependencies
from services.documents.projects.models import Project
from services.documents.projects.repository import ATTENTION
from services.documents.projects.rules import FINAL, final_message, hundredths
from services.documents.projects.wire import project_to_wire, task_to_wire, time_entry_to_wire
from services.documents.workspace import ensure_customer, workspace_today

NO_ESTIMATE = "No such estimate of this project's customer in this workspace."


class ProjectRpc(DocumentsDependencies):
    # -- projects ---------------------------------------------------------------------------
    @rpc(expected_exceptions=(InvalidInput, Conflict, Unavailable))
    @idempotent()
    def create_project(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        request = parse(ProjectInput, data)
        fields = request.model_dump(exclude={"number"} if request.number is None else set())
        self._ensure_estimate(workspace_id, request.customer_id, request.estimate_id)
        ensure_customer(self.identity, workspace_id, request.customer_id)
        project = self.repo.projects.create(workspace_id, actor, fields)
        self.dispatch("project_created", fact(workspace_id, actor, project_id=str(project.id),
                                              customer_id=project.customer_id))
        return self._project(workspace_id, project)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    @idempotent()
    def update_project(self, workspace_id: str, actor: str, project_id: str, data: dict) -> dict[str, Any]:
        patch = parse(ProjectPatch, data)
        changes = patch.model_dump(include=patch.sent())
        current = self.repo.projects.get(workspace_id, project_id)  # an unknown one is 404, not 422
        if (changes.get("estimate_id") and changes["estimate_id"] != current.estimate_id
                and current.status not in FINAL):  # a final one is 409, whatever else is wrong
            self._ensure_estimate(workspace_id, current.customer_id, changes["estimate_id"])
        project, changed, _ = self.repo.projects.update(workspace_id, actor, project_id, changes)
        if changed:
            self.dispatch("project_updated", fact(workspace_id, actor, project_id=str(project.id),
                                                  fields=changed, customer_id=project.customer_id,
                                                  status=project.status, project_number=project.number,
                                                  project_name=project.name))
        return self._project(workspace_id, project)

    @rpc(expected_exceptions=(NotFound,))
    def get_project(self, workspace_id: str, project_id: str) -> dict[str, Any]:
        return self._project(workspace_id, self.repo.projects.get(workspace_id, project_id))

    @rpc(expected_exceptions=(InvalidInput,))
    def list_projects(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's projects newest first, a page at a time (``ProjectQuery``)."""
        request = parse(ProjectQuery, query, message=QUERY_ATTENTION)
        found, more = self.repo.projects.page(workspace_id, list_filters(request), cursor=request.cursor,
                                              limit=request.limit or DEFAULT_PAGE)
        totals = self.repo.projects.totals(workspace_id, [str(p.id) for p in found])
        return {"projects": [project_to_wire(p, totals[str(p.id)]) for p in found],
                "next_cursor": next_cursor(found, more)}

    # -- time entries -----------------------------------------------------------------------
    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    @idempotent()
    def log_time(self, workspace_id: str, actor: str, project_id: str, data: dict) -> dict[str, Any]:
        request = parse(TimeEntryInput, data)
        self._open_project(workspace_id, project_id)
        self._ensure_past(workspace_id, request.date)
        project, entry = self.repo.projects.log_time(workspace_id, actor, project_id, {
            "day": request.date.isoformat(), "hundredths": hundredths(request.hours),
            "billable": request.billable, "note": request.note})
        self._activity(workspace_id, actor, project, "time_entry_logged", str(entry.id))
        return time_entry_to_wire(entry)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    @idempotent()
    def update_time_entry(self, workspace_id: str, actor: str, project_id: str, entry_id: str,
                          data: dict) -> dict[str, Any]:
        patch = parse(TimeEntryPatch, data)
        sent = patch.sent()
        self.repo.projects.get(workspace_id, project_id)
        entry = self.repo.projects.entry(workspace_id, project_id, entry_id)
        changes: dict[str, Any] = {name: getattr(patch, name) for name in ("billable", "note")
                                   if name in sent}
        if "date" in sent:
            changes["day"] = patch.date.isoformat()
        if "hours" in sent:
            changes["hundredths"] = hundredths(patch.hours)
        if all(getattr(entry, name) == value for name, value in changes.items()):
            return time_entry_to_wire(entry)  # nothing to change, whatever the project's status
        self._open_project(workspace_id, project_id)
        if "date" in sent:
            self._ensure_past(workspace_id, patch.date)
        project, entry = self.repo.projects.edit_time(workspace_id, actor, project_id, entry_id, changes)
        self._activity(workspace_id, actor, project, "time_entry_changed", str(entry.id))
        return time_entry_to_wire(entry)

    @rpc(expected_exceptions=(NotFound, Conflict))
    def remove_time_entry(self, workspace_id: str, actor: str, project_id: str,
                          entry_id: str) -> dict[str, Any]:
        """Deletes the entry; the project with its new totals. A second call is 404."""
        project = self.repo.projects.remove_time(workspace_id, project_id, entry_id)
        self._activity(workspace_id, actor, project, "time_entry_removed", entry_id)
        return self._project(workspace_id, project)

    @rpc(expected_exceptions=(InvalidInput, NotFound))
    def list_time_entries(self, workspace_id: str, project_id: str, query: dict) -> dict[str, Any]:
        """The project's time entries, the latest day first, a page at a time."""
        request = parse(TimeEntryQuery, query, message=QUERY_ATTENTION)
        self.repo.projects.get(workspace_id, project_id)
        found, more = self.repo.projects.entries_page(workspace_id, project_id, cursor=request.cursor,
                                                      limit=request.limit or DEFAULT_PAGE)
        return {"time_entries": [time_entry_to_wire(e) for e in found],
                "next_cursor": next_cursor(found, more)}

    # -- tasks ------------------------------------------------------------------------------
    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    @idempotent()
    def add_task(self, workspace_id: str, actor: str, project_id: str, data: dict) -> dict[str, Any]:
        request = parse(TaskInput, data)
        project, task = self.repo.projects.add_task(workspace_id, actor, project_id,
                                                    request.model_dump(mode="json"))
        self._activity(workspace_id, actor, project, "task_added", str(task.id))
        return task_to_wire(task, project.task_order)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    @idempotent()
    def update_task(self, workspace_id: str, actor: str, project_id: str, task_id: str,
                    data: dict) -> dict[str, Any]:
        patch = parse(TaskPatch, data)
        changes = patch.model_dump(mode="json", include=patch.sent())
        project = self.repo.projects.get(workspace_id, project_id)
        task = self.repo.projects.task(workspace_id, project, task_id)
        if all(getattr(task, name) == value for name, value in changes.items()):
            return task_to_wire(task, project.task_order)  # nothing to change
        project, task = self.repo.projects.edit_task(workspace_id, actor, project_id, task_id, changes)
        self._activity(workspace_id, actor, project, "task_changed", str(task.id))
        return task_to_wire(task, project.task_order)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    def reorder_tasks(self, workspace_id: str, actor: str, project_id: str, data: dict) -> dict[str, Any]:
        """Puts the project's tasks in the order given; the tasks as listed now."""
        request = parse(TaskOrder, data)
        project = self.repo.projects.get(workspace_id, project_id)
        if request.task_ids != project.task_order:
            project = self.repo.projects.reorder_tasks(workspace_id, project_id, request.task_ids)
            self._activity(workspace_id, actor, project, "tasks_reordered", None)
        return self._tasks(workspace_id, project)

    @rpc(expected_exceptions=(NotFound,))
    def list_tasks(self, workspace_id: str, project_id: str) -> dict[str, Any]:
        """All the project's tasks: open and in progress first, then by the project's order."""
        return self._tasks(workspace_id, self.repo.projects.get(workspace_id, project_id))

    # -- shared steps -----------------------------------------------------------------------
    def _project(self, workspace_id: str, project: Project) -> dict[str, Any]:
        totals = self.repo.projects.totals(workspace_id, [str(project.id)])
        return project_to_wire(project, totals[str(project.id)])

    def _tasks(self, workspace_id: str, project: Project) -> dict[str, Any]:
        return {"tasks": [task_to_wire(task, project.task_order)
                          for task in self.repo.projects.tasks(workspace_id, project)]}

    def _activity(self, workspace_id: str, actor: str, project: Project, change: str,
                  item_id: str | None) -> None:
        self.dispatch("project_activity", fact(workspace_id, actor, project_id=str(project.id),
                                               change=change, item_id=item_id,
                                               customer_id=project.customer_id))

    def _open_project(self, workspace_id: str, project_id: str) -> Project:
        """The project, if it can still change: unknown is 404, final is 409 (checked again by
        the change itself, which a project that became final meanwhile refuses too)."""
        project = self.repo.projects.get(workspace_id, project_id)
        if project.status in FINAL:
            raise Conflict(final_message(project.status))
        return project

    def _ensure_past(self, workspace_id: str, day: Any) -> None:
        if day > workspace_today(self.identity, workspace_id):
            raise InvalidInput(ATTENTION, {"date": "Must be today or earlier, in the workspace's time zone."})

    def _ensure_estimate(self, workspace_id: str, customer_id: str, estimate_id: str | None) -> None:
        """A project comes from an estimate of its own customer: documents owns both."""
        if estimate_id is None:
            return
        try:
            estimate = self.repo.estimates.get(workspace_id, estimate_id)
        except NotFound:
            estimate = None
        if estimate is None or estimate.customer_id != customer_id:
            raise InvalidInput(ATTENTION, {"estimate_id": NO_ESTIMATE})
