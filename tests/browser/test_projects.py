"""A project shared with a customer, in headless Chromium on a 360-pixel phone: the owner
signs in, goes to Projects from the navigation, opens the project and follows its tabs
with the keyboard — plain links to sections of the page, no script — and axe-core finds no
violation on the projects page or the project's page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import requests

from porchlight.contracts.clock import utcnow
from tests.browser.test_accounts import SMALL_PHONE, people_of, sign_in_with_temporary_password


def owner_follows_the_project(page: Any, shots: Any, portal: str, email: str, password: str,
                              project: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    sign_in_with_temporary_password(page, shots, portal, email, password)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    shots("projects")
    seen: dict[str, Any] = {"projects": page.locator("main").inner_text(),
                            "scripts": page.locator("script").count()}
    page.get_by_role("link", name=project).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=project, level=1)).to_be_visible()
    shots("project")
    seen["project"] = page.locator("main").inner_text()
    tab = page.get_by_role("navigation", name="Project sections").get_by_role("link", name="Tasks")
    tab.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#tasks$"))
    expect(page.locator("#tasks")).to_be_visible()
    shots("tasks tab")
    seen["tasks"] = page.locator("#tasks").inner_text()
    seen["widths"] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    seen["manager_links"] = [page.locator("section.manager a").nth(i).get_attribute("href")
                             for i in range(page.locator("section.manager a").count())]
    return seen


def join(portal: str, email: str, password: str) -> None:
    """A contact signs in once (outside the browser), so their customer may receive a share."""
    http = requests.Session()
    form = http.get(portal + "/portal/sign-in", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed = http.post(portal + "/portal/sign-in/password", timeout=10, allow_redirects=False,
                       data={"csrf_token": token, "email": email, "password": password})
    assert signed.status_code == 303, signed.text


def test_an_owner_opens_a_shared_project_and_follows_its_tabs_on_a_phone(office, stack, browser):
    made = people_of(office, "projects")
    customer_id = made["customer"]["id"]
    join(stack.portal_url, made["member"]["email"], made["member"]["password"])
    project = office.post("/projects", {
        "name": "Loft conversion", "customer_id": customer_id, "status": "active", "progress": 40,
        "description": "Dormer loft conversion with an en-suite shower room.",
        "manager": {"name": "Priya Shah", "email": "priya@acme.example", "phone": "+44 20 7946 0999"}}).json
    pid = project["id"]
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    for hours, billable in (("7.5", True), ("2", False)):
        logged = office.post(f"/projects/{pid}/time-entries",
                             {"date": day, "hours": hours, "billable": billable, "note": "internal only"})
        assert logged.status_code == 201
    for title in ("Strip out", "Steel beams", "Plaster"):
        assert office.post(f"/projects/{pid}/tasks", {"title": title, "assignee": "Robin"}).status_code == 201
    shared = office.post("/share-grants", {"resource": {"type": "project", "id": pid}, "level": "comment"})
    assert shared.status_code == 201, shared.text

    seen = browser.run(owner_follows_the_project, context=SMALL_PHONE, portal=stack.portal_url,
                       email=made["owner"]["email"], password=made["owner"]["password"],
                       project="Loft conversion")
    assert "Loft conversion" in seen["projects"] and "40%" in seen["projects"] and seen["scripts"] == 0
    text = seen["project"].replace("\n", " ")
    assert "Total hours" in text and "9.5" in text and "7.5" in text and "internal only" not in text
    assert "Priya Shah" in text
    assert seen["manager_links"] == ["mailto:priya@acme.example", "tel:+442079460999"]
    assert seen["tasks"].split("\n")[0].lower() == "tasks" and "Steel beams" in seen["tasks"]
    scroll_width, viewport = seen["widths"]
    assert scroll_width <= viewport == 360
    assert [n.split("-", 1)[1] for n in seen["axe_checked"]] == [
        "choose-password", "projects", "project", "tasks tab"]
