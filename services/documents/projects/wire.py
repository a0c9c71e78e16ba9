"""Projects, their time entries and their tasks on the wire: the staff views (customers see
no project yet)."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import answer
from porchlight.contracts.clock import isoformat
from porchlight.contracts.projects import Project as ProjectReply
from porchlight.contracts.projects import Task as TaskReply
from porchlight.contracts.projects import TimeEntry as TimeEntryReply
from services.documents.projects.models import Project, ProjectTask, TimeEntry
from services.documents.projects.rules import hours_text


def project_to_wire(project: Project, totals: tuple[int, int]) -> dict[str, Any]:
    """The staff view, with the totals of its entries (``ProjectRepository.totals``)."""
    manager = project.manager
    total, billable = totals
    return answer(ProjectReply, **{
        "id": str(project.id),
        "workspace_id": project.workspace_id,
        "number": project.number,
        "name": project.name,
        "description": project.description,
        "customer_id": project.customer_id,
        "status": project.status,
        "progress": project.progress,
        "manager": None if manager is None else {
            "name": manager.name, "email": manager.email, "phone": manager.phone},
        "estimate_id": project.estimate_id,
        "totals": {"total_hours": hours_text(total), "billable_hours": hours_text(billable),
                   "last_activity_at": isoformat(project.last_activity_at)},
        "created_at": isoformat(project.created_at),
        "updated_at": isoformat(project.updated_at),
    })


def time_entry_to_wire(entry: TimeEntry) -> dict[str, Any]:
    return answer(TimeEntryReply, **{
        "id": str(entry.id),
        "project_id": entry.project_id,
        "date": entry.day,
        "hours": hours_text(entry.hundredths),
        "billable": entry.billable,
        "note": entry.note,
        "created_at": isoformat(entry.created_at),
        "updated_at": isoformat(entry.updated_at),
    })


def task_to_wire(task: ProjectTask, order: list[str]) -> dict[str, Any]:
    """A task, with its place in the project's ``order`` counted from 1."""
    return answer(TaskReply, **{
        "id": str(task.id),
        "project_id": task.project_id,
        "title": task.title,
        "assignee": task.assignee,
        "status": task.status,
        "due_date": task.due_date,
        "position": order.index(str(task.id)) + 1,
        "created_at": isoformat(task.created_at),
        "updated_at": isoformat(task.updated_at),
    })
