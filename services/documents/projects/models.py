"""The project, its time entries and its tasks as stored."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from services.documents import ALIAS


class ProjectManager(me.EmbeddedDocument):
    name = me.StringField(required=True)
    email = me.StringField()
    phone = me.StringField()


class Project(me.Document):
    """``revision`` grows with every change to the project, its time entries or its tasks:
    each such change is decided by one conditional update on it (``ProjectRepository.change``).
    ``task_order`` holds the ids of its tasks in the order staff chose, so a reorder is that
    one update too."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists: a customer's record of the work."
    meta = {
        "db_alias": ALIAS,
        "collection": "projects",
        "indexes": [
            {"fields": ["workspace_id", "number"], "unique": True},
            {"fields": ["workspace_id", "-created_at", "-id"]},  # staff's list
            {"fields": ["workspace_id", "status", "-created_at", "-id"]},
            {"fields": ["workspace_id", "customer_id", "-created_at", "-id"]},
            # A customer's shared projects, the most recently active first (projects/customer.py).
            {"fields": ["workspace_id", "-last_activity_at", "-id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    number = me.StringField(required=True)
    name = me.StringField(required=True)
    description = me.StringField()
    customer_id = me.StringField(required=True)
    status = me.StringField(required=True, default="planned")
    progress = me.IntField(required=True, default=0)
    manager = me.EmbeddedDocumentField(ProjectManager)
    estimate_id = me.StringField()
    task_order = me.ListField(me.StringField())
    revision = me.IntField(required=True, default=1)
    last_activity_at = me.DateTimeField(required=True, default=utcnow)
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)


class TimeEntry(me.Document):
    """Hours in whole hundredths, so a day's and a project's sums are exact. ``version``
    grows with each edit: an edit names the version it read, so two edits of one entry
    never mix."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists, until staff delete the entry."
    meta = {
        "db_alias": ALIAS,
        "collection": "project_time_entries",
        "indexes": [
            # A project's entries, latest day first; also a day's entries and the totals.
            {"fields": ["workspace_id", "project_id", "-day", "-id"]},
        ],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    day = me.StringField(required=True)  # ISO 8601, so it sorts as text
    hundredths = me.IntField(required=True)
    billable = me.BooleanField(required=True, default=True)
    note = me.StringField()
    version = me.IntField(required=True, default=1)
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)


class ProjectTask(me.Document):
    """A task; its place among the project's tasks is kept on the project (``task_order``)."""

    RETENTION: ClassVar[str] = "Kept while the workspace exists, with its project."
    meta = {
        "db_alias": ALIAS,
        "collection": "project_tasks",
        "indexes": [{"fields": ["workspace_id", "project_id", "id"]}],
    }

    workspace_id = me.StringField(required=True)
    project_id = me.StringField(required=True)
    title = me.StringField(required=True)
    assignee = me.StringField()
    status = me.StringField(required=True, default="open")
    due_date = me.StringField()
    version = me.IntField(required=True, default=1)
    created_at = me.DateTimeField(required=True, default=utcnow)
    created_by = me.StringField(required=True)
    updated_at = me.DateTimeField(required=True, default=utcnow)
    updated_by = me.StringField(required=True)
