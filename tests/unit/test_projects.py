"""Projects in documents: numbers, status moves (completed and cancelled are final), hours
(bounds, a day's sum, totals), tasks (order, reorder), nothing written on a refused request,
and nothing of another workspace's."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.contracts.projects import STATUSES
from services.documents.projects.models import Project, ProjectTask, TimeEntry
from services.documents.projects.rules import TRANSITIONS
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
YESTERDAY = (utcnow() - timedelta(days=1)).date().isoformat()
LINES = [{"description": "Labour", "quantity": 1, "unit_price": "80"}]


def create(documents: Any, ws: str = WS, **fields: Any) -> dict[str, Any]:
    return documents.create_project(ws, "staff", {"name": "Kitchen renovation", "customer_id": CUSTOMER,
                                                  **fields})


def log(documents: Any, project: dict[str, Any], hours: Any, day: str = YESTERDAY, **fields: Any) -> dict:
    return documents.log_time(WS, "staff", project["id"], {"date": day, "hours": hours, **fields})


def final(documents: Any, status: str = "completed") -> dict[str, Any]:
    project = create(documents, status="active")
    return documents.update_project(WS, "staff", project["id"], {"status": status})


# -- projects ------------------------------------------------------------------------------
def test_numbers_follow_the_workspaces_sequence(documents):
    assert create(documents)["number"] == "PRJ-0001"
    assert create(documents, number="PRJ-0002")["number"] == "PRJ-0002"
    assert create(documents)["number"] == "PRJ-0003"
    assert create(documents, ws=OTHER_WS)["number"] == "PRJ-0001"
    with pytest.raises(Conflict):
        create(documents, number="PRJ-0003")


def test_a_new_project_and_its_defaults(documents):
    project = create(documents, manager={"name": "Sam Lee", "phone": "+31 20 123 4567"},
                     description="Two weeks.\nNew cabinets.")
    assert project["status"] == "planned" and project["progress"] == 0
    assert project["manager"] == {"name": "Sam Lee", "email": None, "phone": "+31 20 123 4567"}
    assert project["totals"]["total_hours"] == project["totals"]["billable_hours"] == "0.00"
    assert project["totals"]["last_activity_at"]
    assert dispatched(documents) == ["project_created"]


@pytest.mark.parametrize("data, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 161}, "name"),
    ({"description": "x" * 5001}, "description"),
    ({"customer_id": None}, "customer_id"),
    ({"customer_id": "d" * 24}, "customer_id"),  # not a customer of the workspace
    ({"status": "completed"}, "status"),
    ({"progress": 101}, "progress"),
    ({"progress": -1}, "progress"),
    ({"progress": "50"}, "progress"),
    ({"manager": {"email": "sam@example.org"}}, "manager.name"),
    ({"manager": {"name": "Sam", "email": "not an email"}}, "manager.email"),
    ({"estimate_id": "e" * 24}, "estimate_id"),
])
def test_a_refused_project_writes_nothing(documents, data, field):
    with pytest.raises(InvalidInput) as info:
        create(documents, **data)
    assert field in info.value.fields
    assert Project.objects.count() == 0 and dispatched(documents) == []


def test_the_estimate_must_be_the_customers(documents):
    estimate = documents.create_estimate(WS, "staff", {
        "title": "Quote", "customer_id": CUSTOMER, "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=10)).date().isoformat()})
    assert create(documents, estimate_id=estimate["id"])["estimate_id"] == estimate["id"]
    no_customer = documents.create_estimate(WS, "staff", {
        "title": "Quote", "line_items": LINES,
        "valid_until": (utcnow() + timedelta(days=10)).date().isoformat()})
    with pytest.raises(InvalidInput) as info:
        create(documents, estimate_id=no_customer["id"])
    assert "estimate_id" in info.value.fields


@pytest.mark.parametrize("current, target", list(itertools.product(STATUSES, STATUSES)))
def test_every_status_move(documents, current, target):
    project = create(documents)
    Project.objects(id=project["id"]).update_one(set__status=current)
    if current == target:
        assert documents.update_project(WS, "staff", project["id"], {"status": target})["status"] == current
    elif target in TRANSITIONS[current]:
        moved = documents.update_project(WS, "staff", project["id"], {"status": target})
        assert moved["status"] == target
        assert dispatched(documents)[-1] == "project_updated"
    else:
        with pytest.raises(Conflict) as info:
            documents.update_project(WS, "staff", project["id"], {"status": target, "name": "Other"})
        assert current.replace("_", " ") in info.value.message
        stored = Project.objects.get(id=project["id"])
        assert stored.status == current and stored.name == "Kitchen renovation"


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_final_project_takes_no_change_at_all(documents, status):
    project = final(documents, status)
    changes = [
        lambda: documents.update_project(WS, "staff", project["id"], {"progress": 50}),
        lambda: documents.update_project(WS, "staff", project["id"], {"status": "active"}),
        lambda: log(documents, project, "2"),
        lambda: documents.add_task(WS, "staff", project["id"], {"title": "Paint"}),
    ]
    for change in changes:
        with pytest.raises(Conflict) as info:
            change()
        assert "final" in info.value.message
    # Saying what it already is changes nothing, and is no error.
    same = documents.update_project(WS, "staff", project["id"], {"status": status})
    assert same["updated_at"] == project["updated_at"]
    assert TimeEntry.objects.count() == 0 and ProjectTask.objects.count() == 0


def test_a_final_projects_entries_and_tasks_stay(documents):
    project = create(documents, status="active")
    entry = log(documents, project, "3")
    task = documents.add_task(WS, "staff", project["id"], {"title": "Paint"})
    documents.update_project(WS, "staff", project["id"], {"status": "completed"})
    for change in (
        lambda: documents.update_time_entry(WS, "staff", project["id"], entry["id"], {"hours": "4"}),
        lambda: documents.remove_time_entry(WS, "staff", project["id"], entry["id"]),
        lambda: documents.update_task(WS, "staff", project["id"], task["id"], {"status": "done"}),
        lambda: documents.reorder_tasks(WS, "staff", project["id"], {"task_ids": []}),
    ):
        with pytest.raises(Conflict):
            change()
    assert TimeEntry.objects.get(id=entry["id"]).hundredths == 300
    assert ProjectTask.objects.get(id=task["id"]).status == "open"


def test_patch_changes_only_what_was_sent_and_null_clears(documents):
    project = create(documents, description="Old", manager={"name": "Sam"})
    changed = documents.update_project(WS, "staff", project["id"], {"description": None, "progress": 40})
    assert changed["description"] is None and changed["progress"] == 40
    assert changed["manager"]["name"] == "Sam" and changed["name"] == "Kitchen renovation"
    cleared = documents.update_project(WS, "staff", project["id"], {"manager": None})
    assert cleared["manager"] is None
    with pytest.raises(InvalidInput) as info:
        documents.update_project(WS, "staff", project["id"],
                                 {"name": None, "progress": None, "customer_id": CUSTOMER})
    assert set(info.value.fields) == {"name", "progress", "customer_id"}


# -- time entries --------------------------------------------------------------------------
@pytest.mark.parametrize("hours", ["0", 0, "25", 25, "24.01", "-1", "1.234", 1.5, "1e1", True])
def test_hours_out_of_bounds_are_refused_and_nothing_is_logged(documents, hours):
    project = create(documents)
    with pytest.raises(InvalidInput) as info:
        log(documents, project, hours)
    assert "hours" in info.value.fields
    assert TimeEntry.objects.count() == 0
    assert documents.get_project(WS, project["id"])["totals"]["last_activity_at"] == \
        project["totals"]["last_activity_at"]


def test_a_day_holds_at_most_24_hours_on_a_project(documents):
    project, other = create(documents), create(documents)
    log(documents, project, "12")
    with pytest.raises(InvalidInput) as info:
        log(documents, project, "13")
    assert "24" in info.value.fields["hours"]
    assert TimeEntry.objects(project_id=project["id"]).count() == 1
    log(documents, project, "12")  # exactly 24
    log(documents, other, "13")  # another project's day is its own
    log(documents, project, "13", day=(utcnow() - timedelta(days=30)).date().isoformat())


def test_a_day_to_come_is_refused(documents):
    project = create(documents)
    with pytest.raises(InvalidInput) as info:
        log(documents, project, "2", day=(utcnow() + timedelta(days=2)).date().isoformat())
    assert "date" in info.value.fields
    with pytest.raises(InvalidInput) as info:
        log(documents, project, "2", day="2026-02-30")
    assert "date" in info.value.fields
    assert TimeEntry.objects.count() == 0


def test_today_is_the_workspaces_today(documents):
    # 23:30 UTC is already the next day in Amsterdam (the fake workspace's time zone).
    with time_machine.travel("2026-03-10T23:30:00Z", tick=False):
        project = create(documents)
        assert log(documents, project, "1", day="2026-03-11")["date"] == "2026-03-11"
        with pytest.raises(InvalidInput):
            log(documents, project, "1", day="2026-03-12")


def test_totals_sum_the_entries_and_follow_edits_and_deletes(documents):
    project = create(documents)
    first = log(documents, project, "7.5")
    log(documents, project, "1.25", billable=False, note="Travel")
    log(documents, project, 2, day=(utcnow() - timedelta(days=3)).date().isoformat())
    totals = documents.get_project(WS, project["id"])["totals"]
    assert (totals["total_hours"], totals["billable_hours"]) == ("10.75", "9.50")
    edited = documents.update_time_entry(WS, "staff", project["id"], first["id"], {"hours": "8", "note": "x"})
    assert edited["hours"] == "8.00" and edited["note"] == "x" and edited["billable"] is True
    after = documents.remove_time_entry(WS, "staff", project["id"], first["id"])
    assert (after["totals"]["total_hours"], after["totals"]["billable_hours"]) == ("3.25", "2.00")
    with pytest.raises(NotFound):
        documents.remove_time_entry(WS, "staff", project["id"], first["id"])
    listed = documents.list_projects(WS, {})["projects"][0]["totals"]
    assert listed["total_hours"] == "3.25"
    assert dispatched(documents).count("project_activity") == 5


def test_an_edit_keeps_the_days_bound(documents):
    project = create(documents)
    a = log(documents, project, "12")
    b = log(documents, project, "10")
    with pytest.raises(InvalidInput):
        documents.update_time_entry(WS, "staff", project["id"], b["id"], {"hours": "12.01"})
    edited = documents.update_time_entry(WS, "staff", project["id"], b["id"], {"hours": "12"})
    assert edited["hours"] == "12.00"
    other_day = (utcnow() - timedelta(days=5)).date().isoformat()
    moved = documents.update_time_entry(WS, "staff", project["id"], a["id"], {"date": other_day})
    assert moved["date"] == other_day
    assert TimeEntry.objects.get(id=b["id"]).hundredths == 1200


def test_last_activity_moves_with_any_change(documents):
    with time_machine.travel("2026-03-01T09:00:00Z", tick=False) as clock:
        project = create(documents)
        before = project["totals"]["last_activity_at"]
        clock.shift(timedelta(hours=1))
        log(documents, project, "1", day="2026-02-28")
        seen = documents.get_project(WS, project["id"])
        assert seen["totals"]["last_activity_at"] > before
        assert seen["updated_at"] == project["updated_at"]  # its own fields did not change
        clock.shift(timedelta(hours=1))
        documents.add_task(WS, "staff", project["id"], {"title": "Paint"})
        assert documents.get_project(WS, project["id"])["totals"]["last_activity_at"] > \
            seen["totals"]["last_activity_at"]


def test_time_entries_page_latest_day_first(documents):
    project = create(documents)
    days = [(utcnow() - timedelta(days=n)).date().isoformat() for n in (3, 1, 2)]
    for day in days:
        log(documents, project, "1", day=day)
    first = documents.list_time_entries(WS, project["id"], {"limit": "2"})
    rest = documents.list_time_entries(WS, project["id"], {"limit": "2", "cursor": first["next_cursor"]})
    assert [e["date"] for e in first["time_entries"] + rest["time_entries"]] == sorted(days, reverse=True)
    assert rest["next_cursor"] is None
    other = create(documents)
    with pytest.raises(InvalidInput) as info:  # a cursor of another project's list
        documents.list_time_entries(WS, other["id"], {"cursor": first["next_cursor"]})
    assert "cursor" in info.value.fields


# -- tasks ---------------------------------------------------------------------------------
def test_tasks_are_listed_open_first_then_in_the_projects_order(documents):
    project = create(documents)
    ids = [documents.add_task(WS, "staff", project["id"], {"title": title})["id"]
           for title in ("Demolish", "Plumb", "Tile", "Paint")]
    documents.update_task(WS, "staff", project["id"], ids[0], {"status": "done"})
    documents.update_task(WS, "staff", project["id"], ids[2], {"status": "in_progress", "assignee": "Robin"})
    listed = documents.list_tasks(WS, project["id"])["tasks"]
    assert [t["title"] for t in listed] == ["Plumb", "Tile", "Paint", "Demolish"]
    assert [t["position"] for t in listed] == [2, 3, 4, 1]
    reordered = documents.reorder_tasks(WS, "staff", project["id"], {"task_ids": ids[::-1]})["tasks"]
    assert [t["title"] for t in reordered] == ["Paint", "Tile", "Plumb", "Demolish"]
    assert dispatched(documents)[-1] == "project_activity"


@pytest.mark.parametrize("wrong", ["missing", "extra", "twice", "other project's", "malformed"])
def test_a_reorder_must_name_exactly_the_projects_tasks(documents, wrong):
    project, other = create(documents), create(documents)
    ids = [documents.add_task(WS, "staff", project["id"], {"title": f"Task {n}"})["id"] for n in range(3)]
    foreign = documents.add_task(WS, "staff", other["id"], {"title": "Elsewhere"})["id"]
    task_ids = {"missing": ids[1:], "extra": [*ids, "f" * 24], "twice": [*ids, ids[0]],
                "other project's": [*ids[1:], foreign], "malformed": [*ids[1:], "nope"]}[wrong]
    revision = Project.objects.get(id=project["id"]).revision
    with pytest.raises(InvalidInput) as info:
        documents.reorder_tasks(WS, "staff", project["id"], {"task_ids": task_ids})
    assert any(field.startswith("task_ids") for field in info.value.fields)
    stored = Project.objects.get(id=project["id"])
    assert stored.task_order == ids and stored.revision == revision


def test_a_task_is_checked_and_belongs_to_its_project(documents):
    project, other = create(documents), create(documents)
    for data, field in (({"title": ""}, "title"), ({"title": "x" * 201}, "title"),
                        ({"title": "Paint", "status": "blocked"}, "status"),
                        ({"title": "Paint", "due_date": "31-12-2026"}, "due_date"),
                        ({"title": "Paint", "assignee": "x" * 121}, "assignee")):
        with pytest.raises(InvalidInput) as info:
            documents.add_task(WS, "staff", project["id"], data)
        assert field in info.value.fields
    assert ProjectTask.objects.count() == 0
    task = documents.add_task(WS, "staff", project["id"], {"title": "Paint", "due_date": "2026-12-31"})
    assert task["due_date"] == "2026-12-31" and task["position"] == 1 and task["status"] == "open"
    with pytest.raises(NotFound):
        documents.update_task(WS, "staff", other["id"], task["id"], {"title": "Mine"})
    with pytest.raises(InvalidInput):
        documents.update_task(WS, "staff", project["id"], task["id"], {"title": None})


# -- workspaces ----------------------------------------------------------------------------
def test_another_workspaces_project_is_not_found(documents):
    project = create(documents)
    entry = log(documents, project, "2")
    task = documents.add_task(WS, "staff", project["id"], {"title": "Paint"})
    pid = project["id"]
    for call in (
        lambda: documents.get_project(OTHER_WS, pid),
        lambda: documents.update_project(OTHER_WS, "x", pid, {"name": "Mine"}),
        lambda: documents.log_time(OTHER_WS, "x", pid, {"date": YESTERDAY, "hours": "1"}),
        lambda: documents.update_time_entry(OTHER_WS, "x", pid, entry["id"], {"hours": "1"}),
        lambda: documents.remove_time_entry(OTHER_WS, "x", pid, entry["id"]),
        lambda: documents.list_time_entries(OTHER_WS, pid, {}),
        lambda: documents.add_task(OTHER_WS, "x", pid, {"title": "Mine"}),
        lambda: documents.update_task(OTHER_WS, "x", pid, task["id"], {"title": "Mine"}),
        lambda: documents.reorder_tasks(OTHER_WS, "x", pid, {"task_ids": [task["id"]]}),
        lambda: documents.list_tasks(OTHER_WS, pid),
        lambda: documents.get_project(WS, "../etc/passwd"),
    ):
        with pytest.raises(NotFound):
            call()
    assert documents.list_projects(OTHER_WS, {}) == {"projects": [], "next_cursor": None}
    assert Project.objects.get(id=pid).name == "Kitchen renovation"
    assert TimeEntry.objects.get(id=entry["id"]).hundredths == 200


def test_the_list_filters_by_customer_and_status(documents):
    planned, active = create(documents), create(documents, status="active")
    listed = documents.list_projects(WS, {"status": "active"})["projects"]
    assert [p["id"] for p in listed] == [active["id"]]
    assert [p["id"] for p in documents.list_projects(WS, {"customer_id": CUSTOMER})["projects"]] == [
        active["id"], planned["id"]]
    assert documents.list_projects(WS, {"customer_id": "d" * 24})["projects"] == []


def test_a_change_that_loses_the_race_is_taken_back_and_checked_again(documents, monkeypatch):
    # Another worker logs 12 hours on the same day between this call's check and its claim:
    # the claim is lost, the 13 hours written are deleted again, and the second look sees 24+.
    from services.documents.projects.repository import ProjectRepository

    project = create(documents)
    check = ProjectRepository._check_day
    raced = []

    def check_then_race(repo, workspace_id, project_id, day, amount, besides=None):
        check(repo, workspace_id, project_id, day, amount, besides)
        if not raced:
            raced.append(True)
            log(documents, project, "12")

    monkeypatch.setattr(ProjectRepository, "_check_day", check_then_race)
    with pytest.raises(InvalidInput):
        log(documents, project, "13")
    assert [e.hundredths for e in TimeEntry.objects(project_id=project["id"])] == [1200]
    assert documents.get_project(WS, project["id"])["totals"]["total_hours"] == "12.00"
