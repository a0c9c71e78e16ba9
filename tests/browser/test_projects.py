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


def owner_downloads_and_comments(page: Any, shots: Any, portal: str, email: str, password: str,
                                 project: str, file: str, comment: str) -> dict[str, Any]:
    """On the project's page: the Documents tab, a download; the Comments tab, a comment
    typed (the counter counts down) and posted."""
    from playwright.sync_api import expect

    sign_in_with_temporary_password(page, shots, portal, email, password)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project).click()
    tabs = page.get_by_role("navigation", name="Project sections")
    tabs.get_by_role("link", name="Documents").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#documents")).to_be_visible()
    shots("documents tab")
    with page.expect_download() as info:
        page.locator("#documents").get_by_role("link", name=file).click()
    download = info.value
    seen: dict[str, Any] = {"filename": download.suggested_filename,
                            "start": open(download.path(), "rb").read(8).decode("latin-1")}
    tabs.get_by_role("link", name="Comments").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#comments")).to_be_visible()
    page.get_by_label("Your comment").fill(comment)
    seen["counter"] = page.locator("#comment-left").inner_text()
    shots("comment typed")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comments").get_by_text(comment)).to_be_visible()
    shots("comment posted")
    seen["comments"] = page.locator("#comments").inner_text()
    seen["widths"] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", name="Documents", level=1)).to_be_visible()
    shots("documents page")
    seen["documents"] = page.locator("main").inner_text()
    return seen


def reader_sees_no_comment_form(page: Any, shots: Any, portal: str, email: str, password: str,
                                project: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    sign_in_with_temporary_password(page, shots, portal, email, password)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project).click()
    page.get_by_role("navigation", name="Project sections").get_by_role("link", name="Comments").click()
    expect(page.locator("#comments")).to_be_visible()
    shots("comments read only")
    return {"forms": page.locator("#comments form").count(),
            "comments": page.locator("#comments").inner_text()}


def test_an_owner_downloads_a_file_and_posts_a_comment_and_a_reader_gets_no_form(office, stack, browser):
    made = people_of(office, "project-comments")
    join(stack.portal_url, made["member"]["email"], made["member"]["password"])
    pid = office.post("/projects", {"name": "Kitchen refit", "customer_id": made["customer"]["id"],
                                    "status": "active"}).json["id"]
    uploaded = office.upload(f"/projects/{pid}/files", "file",
                             ("Site plan.pdf", b"%PDF-1.7\n" + b"%" * 5000, "application/pdf"))
    assert uploaded.status_code == 201, uploaded.text
    assert office.post(f"/projects/{pid}/comments", {"body": "Units arrive Tuesday.",
                                                     "author_name": "Priya Shah"}).status_code == 201
    assert office.post("/share-grants", {"resource": {"type": "project", "id": pid},
                                         "level": "comment"}).status_code == 201
    seen = browser.run(owner_downloads_and_comments, context=SMALL_PHONE, portal=stack.portal_url,
                       email=made["owner"]["email"], password=made["owner"]["password"],
                       project="Kitchen refit", file="Site plan.pdf", comment="Can we keep the old sink?")
    assert seen["filename"] == "Site plan.pdf" and seen["start"] == "%PDF-1.7"
    assert seen["counter"] == f"Characters left: {2000 - len('Can we keep the old sink?'):,}"
    thread = seen["comments"]
    assert thread.index("Units arrive Tuesday.") < thread.index("Can we keep the old sink?")
    assert "Site plan.pdf" in seen["documents"] and "Kitchen refit" in seen["documents"]
    scroll_width, viewport = seen["widths"]
    assert scroll_width <= viewport == 360
    views = office.get(f"/projects/{pid}/files/{uploaded.json['id']}/views").json["views"]
    assert [v["contact_id"] for v in views] == [made["owner"]["id"]]
    assert [n.split("-", 1)[1] for n in seen["axe_checked"]] == [
        "choose-password", "documents tab", "comment typed", "comment posted", "documents page"]

    readers = people_of(office, "project-readers")
    join(stack.portal_url, readers["member"]["email"], readers["member"]["password"])
    shared = office.post("/share-grants", {"resource": {"type": "project", "id": pid},
                                           "customer_id": readers["customer"]["id"], "level": "view"})
    assert shared.status_code == 201, shared.text
    read_only = browser.run(reader_sees_no_comment_form, context=SMALL_PHONE, portal=stack.portal_url,
                            email=readers["owner"]["email"], password=readers["owner"]["password"],
                            project="Kitchen refit")
    assert read_only["forms"] == 0 and "Can we keep the old sink?" in read_only["comments"]
    assert "posting is not part of your access" in read_only["comments"]
