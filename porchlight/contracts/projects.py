"""Projects (owned by documents): weeks of work for one customer, with the hours staff log
on it and its tasks. For staff only so far: nothing here is shown to customers yet.

Hours travel as decimal strings with at most two places (``"1.5"``, ``"7.25"``) or whole
numbers, and come back as strings with two places (``"7.25"``); documents keeps them as
whole hundredths of an hour, so sums are exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, Moment
from porchlight.contracts.fields import (
    DateText,
    DocumentNumber,
    Email,
    Id,
    Phone,
    StrictBool,
    StrictInt,
    decimal,
    optional,
    optional_text,
    text,
)
from porchlight.contracts.paging import NextCursor, PageQuery

STATUSES = ("planned", "active", "on_hold", "completed", "cancelled")
Status = Literal["planned", "active", "on_hold", "completed", "cancelled"]
FINAL = frozenset({"completed", "cancelled"})
STATUS_RULES = (
    "Where the project stands. Planned can become active, on hold or cancelled; active can become "
    "on hold, completed or cancelled; on hold can become active, completed or cancelled. Completed and "
    "cancelled are final: nothing about the project, its hours or its tasks changes any more (409).")
StartStatus = Literal["planned", "active"]

MAX_HOURS_A_DAY = Decimal(24)
MAX_TASKS = 200

Name = text(160, description="The project's name.")
Description = optional_text(5000, multiline=True, description="What the project is about; may span lines.")
Progress = Annotated[StrictInt, Field(ge=0, le=100, description="How far along it is, in percent (0–100), "
                                                                "as staff judge it.")]
EstimateLink = Annotated[optional(Id), Field(
    description="The estimate the project came from: an estimate of the same workspace and customer.")]


class ProjectManager(Contract):
    """The person the customer will be told to call about the project."""

    name: text(120, description="Their name.")
    email: optional(Email) = None
    phone: optional(Phone) = None


Manager = Annotated[optional(ProjectManager), Field(
    description="Who runs the project: a name, and an email and a phone if you like; null for none.")]


class ProjectInput(Contract):
    """A new project. Documents also checks that `customer_id` is a customer of the workspace,
    that `estimate_id` is an estimate of that customer (422) and that a given `number` is not
    used yet (409)."""

    number: optional(DocumentNumber) = None
    name: Name
    description: Description = None
    customer_id: Id = Field(description="A customer of the same workspace; fixed once the project exists.")
    status: StartStatus = Field("planned", description="A project starts planned or active.")
    progress: Progress = 0
    manager: Manager = None
    estimate_id: EstimateLink = None


class ProjectPatch(Contract):
    """Only the fields sent change; null or "" clears an optional field. `name`, `status` and
    `progress` cannot be cleared; a status change must be an allowed move, and a completed or
    cancelled project is final (409). The customer is fixed: a project for another customer is
    a new project."""

    name: Name = None
    description: Description = None
    status: Status = Field(None, description=STATUS_RULES)
    progress: Progress = None
    manager: Manager = None
    estimate_id: EstimateLink = None


class ProjectQuery(PageQuery):
    """``documents.list_projects``'s query, and the admin API's query string."""

    status: Status = Field(None, description="Only projects with this status.")
    customer_id: Id = Field(None, description="Only this customer's projects.")


class ProjectTotals(Reply):
    total_hours: str = Field(description="Every hour logged on the project, a decimal string like \"12.50\".")
    billable_hours: str = Field(description="The billable ones among them.")
    last_activity_at: Moment = Field(description="The last change to the project, its hours or its tasks.")


class ProjectManagerReply(Reply):
    name: str
    email: str | None
    phone: str | None


class Project(Reply):
    """A project, as staff see it."""

    id: IdText
    workspace_id: IdText
    number: str = Field(description="Human number, e.g. PRJ-0001.")
    name: str
    description: str | None
    customer_id: IdText
    status: Status
    progress: int = Field(ge=0, le=100)
    manager: ProjectManagerReply | None
    estimate_id: str | None
    totals: ProjectTotals
    created_at: Moment
    updated_at: Moment = Field(description="The last change to the project's own fields.")


class ProjectList(Reply):
    projects: list[Project]
    next_cursor: NextCursor


# -- time entries --------------------------------------------------------------------------
Hours = decimal(places=2, low=Decimal(0), high=MAX_HOURS_A_DAY, above=True,
                description="Above 0 and at most 24, with at most 2 decimal places; all of a project's "
                            "entries on one day add up to at most 24.")
Day = Annotated[DateText, Field(description="The day worked: not after today in the workspace's time zone.")]
Note = optional_text(1000, multiline=True, description="For staff only, never shown to customers.")


class TimeEntryInput(Contract):
    """Hours worked on a project. Documents also checks the day against the workspace's time
    zone and the day's sum (422), and that the project is not final (409)."""

    date: Day
    hours: Hours
    billable: StrictBool = Field(True, description="Whether the hours are billed to the customer.")
    note: Note = None


class TimeEntryPatch(Contract):
    """Only the fields sent change; `date`, `hours` and `billable` cannot be cleared. The same
    checks as logging apply to the result."""

    date: Day = None
    hours: Hours = None
    billable: StrictBool = None
    note: Note = None


class TimeEntryQuery(PageQuery):
    """``documents.list_time_entries``'s query, and the admin API's query string."""


class TimeEntry(Reply):
    id: IdText
    project_id: IdText
    date: str = Field(description="The day worked, e.g. 2026-01-31.", json_schema_extra={"format": "date"})
    hours: str = Field(description="A decimal string with two places, e.g. \"7.50\".")
    billable: bool
    note: str | None
    created_at: Moment
    updated_at: Moment


class TimeEntryList(Reply):
    time_entries: list[TimeEntry]
    next_cursor: NextCursor


# -- tasks ---------------------------------------------------------------------------------
TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
TaskStatus = Literal["open", "in_progress", "done", "cancelled"]
OPEN_TASKS = frozenset({"open", "in_progress"})
Title = text(200, description="What is to be done.")
Assignee = optional_text(120, description="Who does it, as a display name.")
Due = Annotated[optional(DateText), Field(description="When it is due, a day like 2026-12-31.")]


class TaskInput(Contract):
    """A new task, placed after the project's others. Documents also checks that the project is
    not final and holds fewer than 200 tasks (409)."""

    title: Title
    assignee: Assignee = None
    status: TaskStatus = "open"
    due_date: Due = None


class TaskPatch(Contract):
    """Only the fields sent change; `title` and `status` cannot be cleared. Its place among the
    project's tasks changes by reordering them."""

    title: Title = None
    assignee: Assignee = None
    status: TaskStatus = None
    due_date: Due = None


class TaskOrder(Contract):
    """Every task of the project, each once, in the order wanted: anything else is 422."""

    task_ids: list[Id] = Field(max_length=MAX_TASKS, description="The ids of all the project's tasks.")


class Task(Reply):
    id: IdText
    project_id: IdText
    title: str
    assignee: str | None
    status: TaskStatus
    due_date: str | None = Field(json_schema_extra={"format": "date"})
    position: int = Field(ge=1, description="Its place in the project's order, from 1.")
    created_at: Moment
    updated_at: Moment


class TaskList(Reply):
    """All of a project's tasks: the open and in-progress ones first, then the others, each
    group in the project's order."""

    tasks: list[Task]
