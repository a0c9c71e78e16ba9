"""Projects through the admin API against the running services: create, list (paged,
filtered), change, log hours, keep tasks and reorder them; a retried create acts once; and
the 404, 409 and 422 answers, each with a message a person can act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from porchlight.contracts.clock import utcnow
from tests.staff import StaffApi

KEY = "Idempotency-Key"
YESTERDAY = (utcnow() - timedelta(days=1)).date().isoformat()


def customer(staff: StaffApi) -> str:
    return staff.created("/customers", {"name": "Dana Fields", "email": "dana@example.org"})["id"]


def project(staff: StaffApi, customer_id: str, **fields: Any) -> dict[str, Any]:
    return staff.created("/projects", {"name": "Kitchen renovation", "customer_id": customer_id, **fields})


def test_a_project_from_creation_to_hours_and_tasks(staff: StaffApi) -> None:
    dana = customer(staff)
    created = project(staff, dana, description="New cabinets.\nNew floor.",
                      manager={"name": "Sam Lee", "email": "sam@acme.example", "phone": "+44 20 7946 0000"})
    assert created["number"] == "PRJ-0001" and created["status"] == "planned"
    pid = created["id"]
    assert staff.get(f"/projects/{pid}").json == created

    changed = staff.patch(f"/projects/{pid}", {"status": "active", "progress": 40})
    assert changed.status_code == 200, changed.text
    assert (changed.json["status"], changed.json["progress"]) == ("active", 40)

    hours = f"/projects/{pid}/time-entries"
    entry = staff.created(hours, {"date": YESTERDAY, "hours": "7.5", "note": "Demo"})
    assert entry["hours"] == "7.50" and entry["billable"] is True and entry["date"] == YESTERDAY
    staff.created(hours, {"date": YESTERDAY, "hours": 2, "billable": False})
    totals = staff.get(f"/projects/{pid}").json["totals"]
    assert (totals["total_hours"], totals["billable_hours"]) == ("9.50", "7.50")
    edited = staff.patch(f"/projects/{pid}/time-entries/{entry['id']}", {"hours": "8"})
    assert edited.status_code == 200 and edited.json["hours"] == "8.00"
    assert [e["hours"] for e in staff.every(hours, "time_entries")] == ["2.00", "8.00"]
    removed = staff.delete(f"/projects/{pid}/time-entries/{entry['id']}")
    assert removed.status_code == 200 and removed.json["totals"]["total_hours"] == "2.00"
    assert staff.delete(f"/projects/{pid}/time-entries/{entry['id']}").status_code == 404

    tasks = [staff.created(f"/projects/{pid}/tasks", {"title": title, "assignee": "Robin"})["id"]
             for title in ("Demolish", "Plumb", "Tile")]
    done = staff.patch(f"/projects/{pid}/tasks/{tasks[0]}", {"status": "done"})
    assert done.status_code == 200 and done.json["status"] == "done"
    listed = staff.get(f"/projects/{pid}/tasks").json["tasks"]
    assert [t["title"] for t in listed] == ["Plumb", "Tile", "Demolish"]  # open ones first
    reordered = staff.put(f"/projects/{pid}/tasks/order", {"task_ids": [tasks[2], tasks[1], tasks[0]]})
    assert reordered.status_code == 200, reordered.text
    assert [(t["title"], t["position"]) for t in reordered.json["tasks"]] == [
        ("Tile", 1), ("Plumb", 2), ("Demolish", 3)]


def test_the_list_pages_and_filters(staff: StaffApi) -> None:
    dana, robin = customer(staff), customer(staff)
    ids = [project(staff, dana)["id"], project(staff, robin, status="active")["id"],
           project(staff, dana)["id"]]
    first = staff.get("/projects?limit=2")
    assert first.status_code == 200 and len(first.json["projects"]) == 2 and first.json["next_cursor"]
    assert [p["id"] for p in staff.every("/projects", "projects")] == ids[::-1]
    assert [p["id"] for p in staff.every(f"/projects?customer_id={dana}", "projects")] == [ids[2], ids[0]]
    assert [p["id"] for p in staff.every("/projects?status=active", "projects")] == [ids[1]]
    bad = staff.get("/projects?limit=0&status=done")
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"limit", "status"}


def test_a_create_retried_with_its_key_acts_once(staff: StaffApi) -> None:
    body = {"name": "Loft conversion", "customer_id": customer(staff)}
    first = staff.send("POST", "/projects", {**staff.headers, KEY: "loft-1"}, json=body)
    again = staff.send("POST", "/projects", {**staff.headers, KEY: "loft-1"}, json=body)
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert len(staff.every("/projects", "projects")) == 1
    pid = first.json["id"]
    hours = {"date": YESTERDAY, "hours": "3"}
    logged = [staff.send("POST", f"/projects/{pid}/time-entries", {**staff.headers, KEY: "hours-1"},
                         json=hours) for _ in range(2)]
    assert [r.status_code for r in logged] == [201, 201] and logged[0].json == logged[1].json
    assert staff.get(f"/projects/{pid}").json["totals"]["total_hours"] == "3.00"


def test_refusals_say_why(staff: StaffApi) -> None:
    dana = customer(staff)
    missing = staff.post("/projects", {"name": "", "customer_id": "f" * 24, "progress": 101})
    assert missing.status_code == 422 and set(missing.json["error"]["fields"]) == {"name", "progress"}
    stranger = staff.post("/projects", {"name": "Roof", "customer_id": "f" * 24})
    assert stranger.status_code == 422 and "customer_id" in stranger.json["error"]["fields"]
    pid = project(staff, dana, status="active")["id"]
    for hours in ("0", "25"):
        refused = staff.post(f"/projects/{pid}/time-entries", {"date": YESTERDAY, "hours": hours})
        assert refused.status_code == 422 and "hours" in refused.json["error"]["fields"]
    staff.created(f"/projects/{pid}/time-entries", {"date": YESTERDAY, "hours": "12"})
    over = staff.post(f"/projects/{pid}/time-entries", {"date": YESTERDAY, "hours": "13"})
    assert over.status_code == 422 and "at most 24" in over.json["error"]["fields"]["hours"]
    wrong_order = staff.put(f"/projects/{pid}/tasks/order", {"task_ids": ["f" * 24]})
    assert wrong_order.status_code == 422 and "task_ids" in wrong_order.json["error"]["fields"]
    not_a_task = staff.patch(f"/projects/{pid}/tasks/order", {"task_ids": []})  # the order is no task
    assert not_a_task.status_code == 405 and "PUT" in not_a_task.headers["Allow"]
    assert staff.patch(f"/projects/{pid}/tasks/nope", {"title": "x"}).status_code == 404
    backwards = staff.patch(f"/projects/{pid}", {"status": "planned"})
    assert backwards.status_code == 409 and "cannot become planned" in backwards.json["error"]["message"]

    assert staff.patch(f"/projects/{pid}", {"status": "completed"}).status_code == 200
    for response in (staff.patch(f"/projects/{pid}", {"name": "Again"}),
                     staff.post(f"/projects/{pid}/time-entries", {"date": YESTERDAY, "hours": "1"}),
                     staff.post(f"/projects/{pid}/tasks", {"title": "More"})):
        assert response.status_code == 409 and "final" in response.json["error"]["message"]
    assert staff.get(f"/projects/{pid}").json["totals"]["total_hours"] == "12.00"


def test_another_workspaces_project_is_404(make_staff: Any) -> None:
    acme, other = make_staff("Acme"), make_staff("Other Co")
    pid = project(acme, customer(acme))["id"]
    entry = acme.created(f"/projects/{pid}/time-entries", {"date": YESTERDAY, "hours": "1"})
    for response in (other.get(f"/projects/{pid}"), other.patch(f"/projects/{pid}", {"name": "Mine"}),
                     other.get(f"/projects/{pid}/time-entries"), other.get(f"/projects/{pid}/tasks"),
                     other.post(f"/projects/{pid}/tasks", {"title": "Mine"}),
                     other.delete(f"/projects/{pid}/time-entries/{entry['id']}"),
                     acme.get("/projects/not-an-id")):
        assert response.status_code == 404, response.text
        assert response.json["error"]["message"]
    assert other.every("/projects", "projects") == []
    assert acme.get(f"/projects/{pid}").json["totals"]["total_hours"] == "1.00"


def test_the_openapi_document_describes_the_projects(staff: StaffApi) -> None:
    paths = staff.get("/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/projects"])
    assert {"get", "patch"} <= set(paths["/api/v1/projects/{project_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/projects/{project_id}/time-entries"])
    assert {"patch", "delete"} <= set(paths["/api/v1/projects/{project_id}/time-entries/{entry_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/projects/{project_id}/tasks"])
    assert "patch" in paths["/api/v1/projects/{project_id}/tasks/{task_id}"]
    assert "put" in paths["/api/v1/projects/{project_id}/tasks/order"]
