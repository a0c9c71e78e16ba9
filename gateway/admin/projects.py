"""Projects: weeks of work for one customer, with the hours staff log and the tasks they keep.
Documents owns them; customers see no project yet."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from gateway.admin.common import rpc, uploaded_file, wire
from gateway.admin.operations import Api
from porchlight.contracts.project_comments import Comment, CommentList, CommentQuery, StaffCommentInput
from porchlight.contracts.project_files import (
    MAX_FILE_BYTES,
    UPLOAD_RULES,
    FileViewList,
    ProjectFile,
    ProjectFileList,
    ProjectFileQuery,
)
from porchlight.contracts.projects import (
    Project,
    ProjectInput,
    ProjectList,
    ProjectPatch,
    ProjectQuery,
    Task,
    TaskInput,
    TaskList,
    TaskOrder,
    TaskPatch,
    TimeEntry,
    TimeEntryInput,
    TimeEntryList,
    TimeEntryPatch,
    TimeEntryQuery,
)

api = Api(Blueprint("projects", __name__))
TAG = "projects"
ENTRY_LINKS = {"updateTimeEntry": {"project_id": "/project_id", "entry_id": "/id"},
               "removeTimeEntry": {"project_id": "/project_id", "entry_id": "/id"}}


@api.operation("POST", "/projects", "createProject", tag=TAG, status=201, body=ProjectInput, reply=Project,
               errors=(409, 422),
               links={"getProject": {"project_id": "/id"}, "updateProject": {"project_id": "/id"},
                      "logTime": {"project_id": "/id"}, "addTask": {"project_id": "/id"}})
def create_project(body: ProjectInput) -> Any:
    """Create a project

    Creates a project for a customer, numbered PRJ-0001, PRJ-0002, … unless `number` is given. It
    starts planned (or active, if sent). Checked by the documents service: `customer_id` must be a
    customer of the workspace and `estimate_id` an estimate of that customer (422); a number already
    used in the workspace is a conflict (409).
    """
    with rpc() as services:
        return services.documents.create_project(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/projects", "listProjects", tag=TAG, query=ProjectQuery, reply=ProjectList,
               errors=(422,))
def list_projects(query: ProjectQuery) -> Any:
    """List projects

    The workspace's projects, newest first, each with its totals; filter by `status` or `customer_id`.
    """
    with rpc() as services:
        return services.documents.list_projects(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/projects/<project_id>", "getProject", tag=TAG, reply=Project, errors=(404,))
def get_project(project_id: str) -> Any:
    """Get a project

    One project, with its totals: the hours logged, the billable ones, and its last activity (the
    last change to it, its hours or its tasks).
    """
    with rpc() as services:
        return services.documents.get_project(g.workspace_id, project_id)


@api.operation("PATCH", "/projects/<project_id>", "updateProject", tag=TAG, body=ProjectPatch, reply=Project,
               errors=(404, 409, 422))
def update_project(project_id: str, body: ProjectPatch) -> Any:
    """Change a project

    Changes only the fields sent. Checked by the documents service: a status change must be an
    allowed move (planned → active, on hold or cancelled; active → on hold, completed or cancelled;
    on hold → active, completed or cancelled), and a completed or cancelled project is final: any
    change to it is 409. `estimate_id` must be an estimate of the project's customer (422).
    """
    with rpc() as services:
        return services.documents.update_project(g.workspace_id, g.actor, project_id,
                                                 wire(body, partial=True))


# -- time entries --------------------------------------------------------------------------
@api.operation("POST", "/projects/<project_id>/time-entries", "logTime", tag=TAG, status=201,
               body=TimeEntryInput, reply=TimeEntry, errors=(404, 409, 422), links=ENTRY_LINKS)
def log_time(project_id: str, body: TimeEntryInput) -> Any:
    """Log hours on a project

    Records hours worked on one day. Checked by the documents service: the day is not after today in
    the workspace's time zone, and the project's entries on that day add up to at most 24 hours (422);
    a completed or cancelled project takes no more hours (409).
    """
    with rpc() as services:
        return services.documents.log_time(g.workspace_id, g.actor, project_id, wire(body))


@api.operation("GET", "/projects/<project_id>/time-entries", "listTimeEntries", tag=TAG,
               query=TimeEntryQuery, reply=TimeEntryList, errors=(404, 422))
def list_time_entries(project_id: str, query: TimeEntryQuery) -> Any:
    """List a project's hours

    The project's time entries, the latest day first (the project's totals are on the project).
    """
    with rpc() as services:
        return services.documents.list_time_entries(g.workspace_id, project_id, wire(query, partial=True))


@api.operation("PATCH", "/projects/<project_id>/time-entries/<entry_id>", "updateTimeEntry", tag=TAG,
               body=TimeEntryPatch, reply=TimeEntry, errors=(404, 409, 422))
def update_time_entry(project_id: str, entry_id: str, body: TimeEntryPatch) -> Any:
    """Change a time entry

    Changes only the fields sent, with the same checks as logging it (422); a completed or cancelled
    project's entries do not change (409).
    """
    with rpc() as services:
        return services.documents.update_time_entry(g.workspace_id, g.actor, project_id, entry_id,
                                                    wire(body, partial=True))


@api.operation("DELETE", "/projects/<project_id>/time-entries/<entry_id>", "removeTimeEntry", tag=TAG,
               reply=Project, errors=(404, 409))
def remove_time_entry(project_id: str, entry_id: str) -> Any:
    """Delete a time entry

    Deletes the entry and answers the project with its new totals. Deleting it again is 404; a
    completed or cancelled project's entries stay (409).
    """
    with rpc() as services:
        return services.documents.remove_time_entry(g.workspace_id, g.actor, project_id, entry_id)


# -- tasks ---------------------------------------------------------------------------------
@api.operation("POST", "/projects/<project_id>/tasks", "addTask", tag=TAG, status=201, body=TaskInput,
               reply=Task, errors=(404, 409, 422),
               links={"updateTask": {"project_id": "/project_id", "task_id": "/id"}})
def add_task(project_id: str, body: TaskInput) -> Any:
    """Add a task to a project

    Adds a task after the project's others. A project holds at most 200 tasks, and a completed or
    cancelled one takes no new task (409).
    """
    with rpc() as services:
        return services.documents.add_task(g.workspace_id, g.actor, project_id, wire(body))


@api.operation("GET", "/projects/<project_id>/tasks", "listTasks", tag=TAG, reply=TaskList, errors=(404,))
def list_tasks(project_id: str) -> Any:
    """List a project's tasks

    All the project's tasks (at most 200, so not paged): open and in progress first, then done and
    cancelled, each group in the project's order (`position`).
    """
    with rpc() as services:
        return services.documents.list_tasks(g.workspace_id, project_id)


@api.operation("PATCH", "/projects/<project_id>/tasks/<id:task_id>", "updateTask", tag=TAG, body=TaskPatch,
               reply=Task, errors=(404, 409, 422))
def update_task(project_id: str, task_id: str, body: TaskPatch) -> Any:
    """Change a task

    Changes only the fields sent; a completed or cancelled project's tasks do not change (409). Its
    place in the order changes by reordering the tasks.
    """
    with rpc() as services:
        return services.documents.update_task(g.workspace_id, g.actor, project_id, task_id,
                                              wire(body, partial=True))


@api.operation("PUT", "/projects/<project_id>/tasks/order", "reorderTasks", tag=TAG, body=TaskOrder,
               reply=TaskList, errors=(404, 409, 422))
def reorder_tasks(project_id: str, body: TaskOrder) -> Any:
    """Reorder a project's tasks

    Puts the project's tasks in the order of `task_ids`, which must name every task of the project
    exactly once (422 otherwise); answers the tasks as listed now. The same order again changes
    nothing; a completed or cancelled project's order stays (409).
    """
    with rpc() as services:
        return services.documents.reorder_tasks(g.workspace_id, g.actor, project_id, wire(body))


# -- files ---------------------------------------------------------------------------------
# A project's file may be 25 MB; multipart framing adds a little.
MAX_UPLOAD_BODY = MAX_FILE_BYTES + 256 * 1024


@api.operation("POST", "/projects/<project_id>/files", "addProjectFile", tag=TAG, status=201,
               upload=UPLOAD_RULES, reply=ProjectFile, errors=(404, 409, 413, 422),
               notes={422: "The field `file` is missing or empty, too large, or not of an allowed type."})
def add_project_file(project_id: str) -> Any:
    """Upload a file to a project

    Adds one file — a drawing, a plan, a photo, a deliverable — sent as multipart/form-data in the
    field `file`. The customer's contacts download it while the project is shared with them.

    A completed or cancelled project takes no more files, and a project holds at most 500 (409).
    """
    request.max_content_length = MAX_UPLOAD_BODY
    upload = uploaded_file()
    with rpc() as services:
        return services.documents.add_project_file(g.workspace_id, g.actor, project_id, upload)


@api.operation("GET", "/projects/<project_id>/files", "listProjectFiles", tag=TAG, query=ProjectFileQuery,
               reply=ProjectFileList, errors=(404, 422))
def list_project_files(project_id: str, query: ProjectFileQuery) -> Any:
    """List a project's files

    Newest first, each with how many times the customer's contacts downloaded it.
    """
    with rpc() as services:
        return services.documents.list_project_files(g.workspace_id, project_id, wire(query, partial=True))


@api.operation("DELETE", "/projects/<project_id>/files/<file_id>", "removeProjectFile", tag=TAG,
               reply=ProjectFile, errors=(404, 409))
def remove_project_file(project_id: str, file_id: str) -> Any:
    """Remove a project's file

    Deletes the file and its download record; links to it stop working at once. Answers the file
    as it was; removing it again is 404. A completed or cancelled project's files stay (409).
    """
    with rpc() as services:
        return services.documents.remove_project_file(g.workspace_id, g.actor, project_id, file_id)


@api.operation("GET", "/projects/<project_id>/files/<file_id>/views", "listProjectFileViews", tag=TAG,
               query=ProjectFileQuery, reply=FileViewList, errors=(404, 422))
def list_project_file_views(project_id: str, file_id: str, query: ProjectFileQuery) -> Any:
    """List who opened a file

    Each download by a customer's signed-in contact, newest first: which contact, when. Downloads
    need the contact's session, so a link preview or a mail scanner never counts as one.
    """
    with rpc() as services:
        return services.documents.list_file_views(g.workspace_id, project_id, file_id,
                                                  wire(query, partial=True))


# -- comments ------------------------------------------------------------------------------
@api.operation("GET", "/projects/<project_id>/comments", "listProjectComments", tag=TAG, query=CommentQuery,
               reply=CommentList, errors=(404, 422))
def list_project_comments(project_id: str, query: CommentQuery) -> Any:
    """List a project's comments

    The conversation with the customer, newest first: the team's comments and those of the customer's
    contacts, hidden ones included (with their words and who hid them).
    """
    with rpc() as services:
        return services.documents.list_project_comments(g.workspace_id, project_id, wire(query, partial=True))


@api.operation("POST", "/projects/<project_id>/comments", "postProjectComment", tag=TAG, status=201,
               body=StaffCommentInput, reply=Comment, errors=(404, 422))
def post_project_comment(project_id: str, body: StaffCommentInput) -> Any:
    """Comment on a project

    Adds a comment by a member of the team, shown to the customer's contacts under `author_name`
    while the project is shared with them. Plain text: line breaks are kept and web addresses become
    links; nothing is read as HTML.
    """
    with rpc() as services:
        return services.documents.post_staff_comment(g.workspace_id, g.actor, project_id, wire(body))


@api.operation("POST", "/projects/<project_id>/comments/<comment_id>/hide", "hideProjectComment", tag=TAG,
               reply=Comment, errors=(404,))
def hide_project_comment(project_id: str, comment_id: str) -> Any:
    """Hide a comment

    The customer's contacts then read "comment removed" in its place; staff still see it. Hiding a
    hidden comment changes nothing.
    """
    with rpc() as services:
        return services.documents.hide_project_comment(g.workspace_id, g.actor, project_id, comment_id)
