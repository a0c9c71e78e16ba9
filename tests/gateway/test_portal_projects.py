"""Projects in the signed-in portal, through Flask's test client with every service on real
RabbitMQ: a project shows only through a share — listed, opened, with its hours, the person
to call and its tasks, never a time entry's note — to owners and members alike; an
unshared project, another customer's, or one whose share stopped is the 404 page, the
very next view after the stop included; the list pages with a plain link; the page in
French writes hours and days as France does."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from babel.dates import format_date

from porchlight.contracts.clock import utcnow
from porchlight.runtime import i18n
from tests.gateway.test_admin_share_grants import EMAIL, joined_customer
from tests.gateway.test_portal_accounts import MEMBER_EMAIL, people, sign_in_by_code
from tests.gateway.test_portal_reads import heard
from tests.gateway.test_portal_sections import links
from tests.mail import Worker
from tests.staff import StaffApi

NOTE = "Internal: charge the skip hire to the second phase"
MANAGER = {"name": "Priya Shah", "email": "priya@acme.example", "phone": "+44 20 7946 0999"}


def shared_project(staff: StaffApi, customer_id: str, level: str = "comment",
                   **fields: Any) -> dict[str, Any]:
    """An active project of the customer's with hours, three tasks and a manager, shared
    with them at ``level``; the project and its grant."""
    project = staff.created("/projects", {
        "name": "Loft conversion", "customer_id": customer_id, "status": "active", "progress": 40,
        "description": "Dormer loft conversion with an en-suite.\nSecond line of the brief.",
        "manager": MANAGER, **fields})
    pid = project["id"]
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    for hours, billable, note in (("7.5", True, NOTE), ("2", False, None), ("0.25", True, "rate £55/h")):
        staff.created(f"/projects/{pid}/time-entries",
                      {"date": yesterday, "hours": hours, "billable": billable, "note": note})
    tasks = [staff.created(f"/projects/{pid}/tasks", {"title": title, "assignee": who})["id"]
             for title, who in (("Strip out", "Robin"), ("Steel beams", "Kai"), ("Plaster", None))]
    assert staff.patch(f"/projects/{pid}/tasks/{tasks[0]}", {"status": "done"}).status_code == 200
    grant = staff.created("/share-grants", {"resource": {"type": "project", "id": pid}, "level": level})
    return {"project": staff.get(f"/projects/{pid}").json, "grant": grant, "tasks": tasks}


def test_a_shared_project_is_listed_and_shown_with_its_hours_and_tasks_never_a_note(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    made = shared_project(staff, customer_id)
    pid = made["project"]["id"]
    unshared = staff.created("/projects", {"name": "Garden office", "customer_id": customer_id})

    listed = portal.get("/portal/projects")
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert "Loft conversion" in listed.text and "Garden office" not in listed.text
    assert f"/portal/projects/{pid}" in links(listed.text)
    assert "Dormer loft conversion" in listed.text and "Active" in listed.text and "40%" in listed.text
    assert "/portal/projects" in links(portal.get("/portal").text)  # the navigation

    page = portal.get(f"/portal/projects/{pid}")
    assert page.status_code == 200
    text = page.text
    assert made["project"]["number"] in text and "Loft conversion" in text
    # 7.5 + 2 + 0.25 hours, of which 7.75 billable: as decimal numbers, never a sum of money.
    assert re.search(r"Total hours</dt><dd>9\.75</dd>", text), text
    assert re.search(r"Billable hours</dt><dd>7\.75</dd>", text)
    assert "Last activity" in text and str(utcnow().year) in text
    assert NOTE not in text and "£" not in text and "rate" not in text
    assert 'href="mailto:priya@acme.example"' in text and 'href="tel:+442079460999"' in text
    assert "Priya Shah" in text
    # Open tasks first, in the project's order; the done one last.
    tasks = re.findall(r'class="task-title">([^<]+)<', text)
    assert tasks == ["Steel beams", "Plaster", "Strip out"]
    assert 'href="#tasks"' in text and 'id="tasks"' in text
    # The tabs need no script: the page's one script counts a comment's characters.
    assert re.findall(r'<script src="([^"]+)"', text) == ["/static/comment-counter.js"]
    assert ">Done<" in text and ">To do<" in text and "Robin" in text

    assert portal.get(f"/portal/projects/{unshared['id']}").status_code == 404
    assert portal.get("/portal/projects/" + "0" * 24).status_code == 404
    assert portal.get("/portal/projects/nope").status_code == 404


def test_another_customers_contact_gets_the_404_page(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal_app.test_client(), worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    other = people(staff, worker, email="olive@elsewhere.example")
    stranger = portal_app.test_client()
    assert sign_in_by_code(stranger, worker, mail_server, "olive@elsewhere.example", 2).status_code == 303
    assert other["customer"]["id"] != customer_id
    refused = stranger.get(f"/portal/projects/{pid}")
    assert refused.status_code == 404 and "Loft conversion" not in refused.text
    assert "Loft conversion" not in stranger.get("/portal/projects").text


def test_after_sharing_stops_the_very_next_view_is_the_404_page(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    made = shared_project(staff, customer_id)
    pid, gid = made["project"]["id"], made["grant"]["id"]
    assert portal.get(f"/portal/projects/{pid}").status_code == 200
    assert "Loft conversion" in portal.get("/portal/projects").text
    assert portal.get(f"/portal/projects/{pid}").status_code == 200  # from memory now
    with heard(model, "project", pid):
        assert staff.post(f"/share-grants/{gid}/stop").status_code == 200
    assert portal.get(f"/portal/projects/{pid}").status_code == 404
    assert "Loft conversion" not in portal.get("/portal/projects").text
    # Shared again: shown again, as soon as the portal has heard it.
    with heard(model, "project", pid):
        staff.created("/share-grants", {"resource": {"type": "project", "id": pid}, "level": "view"})
    assert portal.get(f"/portal/projects/{pid}").status_code == 200


def test_hours_logged_and_progress_changed_show_once_the_event_is_heard(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    assert re.search(r"Total hours</dt><dd>9\.75</dd>", portal.get(f"/portal/projects/{pid}").text)
    with heard(model, "project", pid):
        staff.created(f"/projects/{pid}/time-entries", {"date": utcnow().date().isoformat(), "hours": "1.25"})
    assert re.search(r"Total hours</dt><dd>11</dd>", portal.get(f"/portal/projects/{pid}").text)
    with heard(model, "project", pid):
        assert staff.patch(f"/projects/{pid}", {"progress": 65}).status_code == 200
    assert "65%" in portal.get("/portal/projects").text


def test_a_member_sees_a_shared_project_too(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal_app.test_client(), worker, mail_server)
    pid = shared_project(staff, customer_id, level="approve")["project"]["id"]
    sam = staff.created(f"/customers/{customer_id}/contacts",
                        {"name": "Sam Lee", "email": MEMBER_EMAIL, "role": "member"})
    assert staff.post(f"/customers/{customer_id}/contacts/{sam['id']}/invite").status_code == 200
    worker.queued(1)
    member = portal_app.test_client()
    assert sign_in_by_code(member, worker, mail_server, MEMBER_EMAIL, 2).status_code == 303
    assert "/portal/projects" in links(member.get("/portal").text)
    assert "Loft conversion" in member.get("/portal/projects").text
    page = member.get(f"/portal/projects/{pid}")
    assert page.status_code == 200 and re.search(r"Total hours</dt><dd>9\.75</dd>", page.text)


def test_the_projects_list_pages_with_a_plain_link_and_filters_by_state(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    for n in range(27):
        pid = staff.created("/projects", {"name": f"Project {n:02d}", "customer_id": customer_id,
                                          "status": "active" if n % 2 else "planned"})["id"]
        staff.created("/share-grants", {"resource": {"type": "project", "id": pid}})
    first = portal.get("/portal/projects")
    # 25 a page, the most recently active first (here: the newest).
    assert re.findall(r"Project (\d\d)", first.text) == [f"{n:02d}" for n in range(26, 1, -1)]
    [more] = [href for href in links(first.text) if "cursor=" in href]
    second = portal.get(more)
    assert re.findall(r"Project (\d\d)", second.text) == ["01", "00"]
    assert "Back to the newest" in second.text
    assert not [href for href in links(second.text) if "cursor=" in href]
    active = portal.get("/portal/projects?status=active")
    assert re.findall(r"Project (\d\d)", active.text) == [f"{n:02d}" for n in range(25, 0, -2)]
    dashboard = portal.get("/portal").text
    assert "13</span> active projects" in dashboard
    assert re.findall(r"Project (\d\d)", dashboard) == ["25", "23", "21"]
    for query in ("status=lost", "cursor=" + "0" * 24, "cursor=nope"):
        refused = portal.get(f"/portal/projects?{query}")
        assert refused.status_code == 422, query
        assert "That filter or page does not exist" in refused.text and "Project 26" in refused.text


def test_the_project_page_in_french_writes_hours_and_days_as_france_does(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    portal.set_cookie("porchlight_language", "fr")
    page = portal.get(f"/portal/projects/{pid}").text
    fr = i18n.translator("fr")
    assert '<html lang="fr"' in page
    assert fr("Total hours") != "Total hours" and fr("Total hours") in page
    assert re.search(r"</dt><dd>9,75</dd>", page) and re.search(r"</dt><dd>7,75</dd>", page)
    assert format_date(utcnow(), "long", locale="fr_FR") in page
    assert fr("Tasks") in page and "40\u00a0%" in page
    listed = portal.get("/portal/projects").text
    assert fr("Active") in listed and fr("Projects") in listed


def test_a_contact_without_shared_projects_sees_an_empty_list(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    assert EMAIL == "frances@northwind.example"
    customer_id = joined_customer(staff, portal, worker, mail_server)
    staff.created("/projects", {"name": "Not shared", "customer_id": customer_id})
    listed = portal.get("/portal/projects")
    assert listed.status_code == 200 and "No projects have been shared with you yet." in listed.text
    assert "Not shared" not in listed.text
    assert "0</span> active projects" in portal.get("/portal").text
