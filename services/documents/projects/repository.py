"""Project storage. Every query carries the workspace id.

Every change to a project — its own fields, a time entry, a task, the tasks' order — is
decided by one conditional update of the project whose filter is the revision it read
(``change``): of two concurrent changes exactly one wins, and a project that became final
meanwhile takes no more. A change to a time entry or a task writes that record first and
then claims the project; a change that loses the claim undoes its own write and starts
again from what is stored now, so the rules that span records (a day holds at most 24
hours; a reorder names exactly the project's tasks) are checked against every change that
won. The project's totals are summed from its entries when read, so they never drift from
the entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.projects import MAX_TASKS, STATUSES
from porchlight.kit.storage import get_in_workspace, is_object_id, page_after
from services.documents.numbering.repository import create_numbered
from services.documents.projects.models import Project, ProjectManager, ProjectTask, TimeEntry
from services.documents.projects.rules import (
    FINAL,
    HUNDREDTHS_A_DAY,
    can_move,
    final_message,
    hours_text,
    listed_order,
)

ATTEMPTS = 5
TOO_FAST = "The project is changing too fast; try again."
NO_PROJECT = "No such project."
NO_ENTRY = "No such time entry on this project."
NO_TASK = "No such task on this project."
ATTENTION = "Some fields need attention."

# What a change to a project's records gives back: its result, how to take its write back
# if the project's claim is lost, and what else the claim sets on the project.
Applied = tuple[Any, Callable[[], Any], dict[str, Any]]


class Retry(Exception):  # noqa: N818 - a signal to the loop, not an error anyone sees
    """The record changed between reading and writing it: read again and start over."""


def _manager(value: dict[str, Any] | None) -> ProjectManager | None:
    return None if value is None else ProjectManager(**value)


def _stored(project: Project, field: str) -> Any:
    """A field of the project in the words of a patch."""
    value = getattr(project, field)
    if field == "manager" and value is not None:
        return {"name": value.name, "email": value.email, "phone": value.phone}
    return value


class ProjectRepository:
    def ensure_indexes(self) -> None:
        for model in (Project, TimeEntry, ProjectTask):
            model.ensure_indexes()

    # -- projects ---------------------------------------------------------------------------
    def create(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> Project:
        fields = {**fields, "manager": _manager(fields.get("manager"))}
        return create_numbered(Project, "project", workspace_id, actor, fields)

    def get(self, workspace_id: str, project_id: str) -> Project:
        return get_in_workspace(Project, workspace_id, project_id, NO_PROJECT)

    def page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
             limit: int) -> tuple[list[Project], bool]:
        """A page of the workspace's projects newest first (``page_after``), narrowed by
        ``filters`` (``list_filters``)."""
        found = Project.objects(workspace_id=workspace_id, **filters)
        return page_after(Project, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def names(self, workspace_id: str, project_ids: list[str]) -> dict[str, str]:
        """Each project's name, by id (ids of no project of the workspace left out)."""
        ids = [pid for pid in project_ids if is_object_id(pid)]
        found = Project.objects(workspace_id=workspace_id, id__in=ids).only("name")
        return {str(p.id): p.name for p in found}

    def totals(self, workspace_id: str, project_ids: list[str]) -> dict[str, tuple[int, int]]:
        """Each project's (total, billable) hours in hundredths, summed from its entries."""
        sums = {project_id: (0, 0) for project_id in project_ids}
        found = TimeEntry._get_collection().aggregate([
            {"$match": {"workspace_id": workspace_id, "project_id": {"$in": list(project_ids)}}},
            {"$group": {"_id": "$project_id", "total": {"$sum": "$hundredths"},
                        "billable": {"$sum": {"$cond": ["$billable", "$hundredths", 0]}}}},
        ])
        for row in found:
            sums[row["_id"]] = (int(row["total"]), int(row["billable"]))
        return sums

    def shared_page(self, workspace_id: str, project_ids: list[str], status: str | None, *,
                    cursor: str | None, limit: int) -> tuple[list[Project], bool]:
        """A page of these projects (those shared with a customer), the most recently active
        first (``page_after``); a cursor must be one of them. The order follows the work: a
        project that moves while someone pages may come up again on the first page."""
        found = Project.objects(workspace_id=workspace_id, id__in=[ObjectId(i) for i in project_ids])
        if status is not None:
            found = found.filter(status=status)
        return page_after(Project, found, workspace_id, cursor, order="-last_activity_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR, within=True)

    def status_counts(self, workspace_id: str, project_ids: list[str]) -> dict[str, int]:
        """How many of these projects are in each state (every state named, 0 included)."""
        counts = dict.fromkeys(STATUSES, 0)
        found = Project._get_collection().aggregate([
            {"$match": {"workspace_id": workspace_id, "_id": {"$in": [ObjectId(i) for i in project_ids]}}},
            {"$group": {"_id": "$status", "count": {"$sum": 1}}},
        ])
        for row in found:
            counts[row["_id"]] = int(row["count"])
        return counts

    def update(self, workspace_id: str, actor: str, project_id: str,
               changes: dict[str, Any]) -> tuple[Project, list[str], str | None]:
        """Apply a patch in one conditional update; returns the project, the fields that
        changed and, when the status did, the one before. A patch that changes nothing
        (every value as stored) is no change, even to a final project."""
        for _ in range(ATTEMPTS):
            current = self.get(workspace_id, project_id)
            changed = {k: v for k, v in changes.items() if _stored(current, k) != v}
            if not changed:
                return current, [], None
            if current.status in FINAL:
                raise Conflict(final_message(current.status))
            target = changed.get("status")
            if target is not None and not can_move(current.status, target):
                raise Conflict(f"A project that is {current.status.replace('_', ' ')} cannot become "
                               f"{target.replace('_', ' ')}.")
            updates = {f"set__{k}": _manager(v) if k == "manager" else v for k, v in changed.items()}
            now = utcnow()
            updated = Project.objects(
                id=current.id, workspace_id=workspace_id, revision=current.revision,
            ).modify(new=True, inc__revision=1, set__updated_at=now, set__updated_by=actor,
                     set__last_activity_at=now, **updates)
            if updated is not None:
                return updated, sorted(changed), current.status if target is not None else None
        raise Conflict(TOO_FAST)

    def change(self, workspace_id: str, project_id: str,
               apply: Callable[[Project], Applied]) -> tuple[Project, Any]:
        """Change one of the project's records (``apply`` writes it) and claim the project
        for that change; the project as it now is, and what ``apply`` gave back. ``apply``
        raises before writing anything when the change breaks a rule."""
        for _ in range(ATTEMPTS):
            project = self.get(workspace_id, project_id)
            if project.status in FINAL:
                raise Conflict(final_message(project.status))
            try:
                result, undo, updates = apply(project)
            except Retry:
                continue
            claimed = Project.objects(
                id=project.id, workspace_id=workspace_id, revision=project.revision, status=project.status,
            ).modify(new=True, inc__revision=1, set__last_activity_at=utcnow(), **updates)
            if claimed is not None:
                return claimed, result
            undo()
        raise Conflict(TOO_FAST)

    # -- time entries -----------------------------------------------------------------------
    def entry(self, workspace_id: str, project_id: str, entry_id: str) -> TimeEntry:
        found = (TimeEntry.objects(id=entry_id, workspace_id=workspace_id, project_id=project_id).first()
                 if is_object_id(entry_id) else None)
        if found is None:
            raise NotFound(NO_ENTRY)
        return found

    def entries_page(self, workspace_id: str, project_id: str, *, cursor: str | None,
                     limit: int) -> tuple[list[TimeEntry], bool]:
        """A page of the project's entries, the latest day first (``page_after``)."""
        found = TimeEntry.objects(workspace_id=workspace_id, project_id=project_id)
        return page_after(TimeEntry, found, workspace_id, cursor, order="-day", limit=limit,
                          not_a_cursor=NOT_A_CURSOR, within=True)

    def _check_day(self, workspace_id: str, project_id: str, day: str, amount: int,
                   besides: Any = None) -> None:
        """A day's entries on one project hold at most 24 hours (``besides``: the entry being
        edited, counted with its new hours instead)."""
        others = TimeEntry.objects(workspace_id=workspace_id, project_id=project_id, day=day)
        if besides is not None:
            others = others.filter(id__ne=besides)
        logged = sum(entry.hundredths for entry in others.only("hundredths"))
        if logged + amount > HUNDREDTHS_A_DAY:
            raise InvalidInput(ATTENTION, {"hours": (
                f"{hours_text(logged)} hours are already logged on this project on {day}; with these "
                f"{hours_text(amount)} the day would hold {hours_text(logged + amount)}, and a day "
                "holds at most 24.")})

    def log_time(self, workspace_id: str, actor: str, project_id: str,
                 fields: dict[str, Any]) -> tuple[Project, TimeEntry]:
        def apply(project: Project) -> Applied:
            self._check_day(workspace_id, project_id, fields["day"], fields["hundredths"])
            now = utcnow()
            entry = TimeEntry(workspace_id=workspace_id, project_id=project_id, created_at=now,
                              updated_at=now, created_by=actor, updated_by=actor, **fields)
            entry.save(force_insert=True)
            return entry, entry.delete, {}

        return self.change(workspace_id, project_id, apply)

    def edit_time(self, workspace_id: str, actor: str, project_id: str, entry_id: str,
                  changes: dict[str, Any]) -> tuple[Project, TimeEntry]:
        def apply(project: Project) -> Applied:
            entry = self.entry(workspace_id, project_id, entry_id)
            if "day" in changes or "hundredths" in changes:
                self._check_day(workspace_id, project_id, changes.get("day", entry.day),
                                changes.get("hundredths", entry.hundredths), besides=entry.id)
            return (*_edited(entry, actor, changes), {})

        return self.change(workspace_id, project_id, apply)

    def remove_time(self, workspace_id: str, project_id: str, entry_id: str) -> Project:
        def apply(project: Project) -> Applied:
            entry = self.entry(workspace_id, project_id, entry_id)
            if not TimeEntry.objects(id=entry.id, version=entry.version).delete():
                raise Retry
            return None, lambda: entry.save(force_insert=True), {}

        return self.change(workspace_id, project_id, apply)[0]

    # -- tasks ------------------------------------------------------------------------------
    def tasks(self, workspace_id: str, project: Project) -> list[ProjectTask]:
        """The project's tasks as listed (``listed_order``); at most ``MAX_TASKS``."""
        found = ProjectTask.objects(workspace_id=workspace_id, project_id=str(project.id))
        return listed_order(found, project.task_order)

    def task(self, workspace_id: str, project: Project, task_id: str) -> ProjectTask:
        mine = is_object_id(task_id) and task_id in project.task_order
        found = ProjectTask.objects(id=task_id, workspace_id=workspace_id).first() if mine else None
        if found is None:
            raise NotFound(NO_TASK)
        return found

    def add_task(self, workspace_id: str, actor: str, project_id: str,
                 fields: dict[str, Any]) -> tuple[Project, ProjectTask]:
        def apply(project: Project) -> Applied:
            if len(project.task_order) >= MAX_TASKS:
                raise Conflict(f"A project holds at most {MAX_TASKS} tasks.")
            now = utcnow()
            task = ProjectTask(workspace_id=workspace_id, project_id=project_id, created_at=now,
                               updated_at=now, created_by=actor, updated_by=actor, **fields)
            task.save(force_insert=True)
            return task, task.delete, {"push__task_order": str(task.id)}

        return self.change(workspace_id, project_id, apply)

    def edit_task(self, workspace_id: str, actor: str, project_id: str, task_id: str,
                  changes: dict[str, Any]) -> tuple[Project, ProjectTask]:
        def apply(project: Project) -> Applied:
            task = self.task(workspace_id, project, task_id)
            return (*_edited(task, actor, changes), {})

        return self.change(workspace_id, project_id, apply)

    def reorder_tasks(self, workspace_id: str, project_id: str, task_ids: list[str]) -> Project:
        def apply(project: Project) -> Applied:
            if len(set(task_ids)) != len(task_ids):
                raise InvalidInput(ATTENTION, {"task_ids": "Name each task once."})
            if set(task_ids) != set(project.task_order):
                raise InvalidInput(ATTENTION, {"task_ids": (
                    f"Send the ids of all {len(project.task_order)} tasks of this project, each once "
                    "(list them with GET …/tasks).")})
            return None, lambda: None, {"set__task_order": list(task_ids)}

        return self.change(workspace_id, project_id, apply)[0]


def _edited(record: Any, actor: str, changes: dict[str, Any]) -> tuple[Any, Callable[[], None]]:
    """A time entry or task with ``changes`` made, if it is still the version read (else
    ``Retry``), and how to take them back should the project's claim be lost."""
    kind = type(record)
    before = {f"set__{k}": getattr(record, k) for k in changes}
    updated = kind.objects(id=record.id, version=record.version).modify(
        new=True, inc__version=1, set__updated_at=utcnow(), set__updated_by=actor,
        **{f"set__{k}": v for k, v in changes.items()})
    if updated is None:
        raise Retry

    def undo() -> None:
        kind.objects(id=record.id, version=updated.version).update(
            inc__version=1, set__updated_at=record.updated_at, set__updated_by=record.updated_by, **before)

    return updated, undo
