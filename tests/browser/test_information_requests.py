"""An information request in headless Chromium on a 360-pixel phone: the owner signs in,
goes to Information requests from the navigation, opens the request with the keyboard,
answers its first item with words and a file — a plain form, no script — and reads the
thanks; axe-core finds no violation on the list, the request, or the request answered."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from tests.browser.test_accounts import SMALL_PHONE, people_of, sign_in_with_temporary_password
from tests.browser.test_projects import join

PROMPTS = ["A copy of the land registry extract", "Your preferred tile colour", "Photos of the attic"]


def owner_answers_an_item(page: Any, shots: Any, portal: str, email: str, password: str,
                          title: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    sign_in_with_temporary_password(page, shots, portal, email, password)
    nav = page.get_by_role("navigation", name="Your account")
    nav.get_by_role("link", name="Information requests").click()
    expect(page.get_by_role("heading", name="Information requests", exact=True)).to_be_visible()
    shots("information requests")
    seen: dict[str, Any] = {"list": page.locator("main").inner_text(),
                            "scripts": page.locator("script").count()}
    page.get_by_role("link", name=title).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    shots("information request")
    seen["forms"] = page.locator("form.ir-form").count()
    first = page.locator("li.ir-item").first
    answer = first.get_by_label("Your answer")
    answer.focus()
    page.keyboard.type("The 2026 extract is attached.")
    pdf = Path(tempfile.mkdtemp()) / "extract.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + b"0" * 200)
    first.get_by_label("Files").set_input_files(str(pdf))
    first.get_by_role("button", name="Send answer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Thank you: your answer was sent.")
    shots("answered")
    seen["answered"] = page.locator("li.ir-item").first.inner_text()
    seen["forms_after"] = page.locator("form.ir-form").count()
    seen["url"] = page.url
    seen["widths"] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return seen


def test_an_owner_answers_an_information_request_on_a_phone(office, stack, browser):
    made = people_of(office, "information-requests")
    customer_id = made["customer"]["id"]
    join(stack.portal_url, made["member"]["email"], made["member"]["password"])
    project = office.post("/projects", {"name": "Loft conversion", "customer_id": customer_id,
                                        "status": "active"}).json
    pid = project["id"]
    shared = office.post("/share-grants", {"resource": {"type": "project", "id": pid}, "level": "comment"})
    assert shared.status_code == 201, shared.text
    title = "Documents for the permit"
    asked = office.post(f"/projects/{pid}/information-requests",
                        {"title": title, "items": [{"prompt": p} for p in PROMPTS]}).json
    sent = office.post(f"/information-requests/{asked['id']}/send")
    assert sent.status_code == 200, sent.text

    seen = browser.run(owner_answers_an_item, context=SMALL_PHONE, portal=stack.portal_url,
                       email=made["owner"]["email"], password=made["owner"]["password"], title=title)
    assert title in seen["list"] and "Loft conversion" in seen["list"] and "0 of 3 accepted" in seen["list"]
    assert seen["scripts"] == 0 and seen["forms"] == 3 and seen["forms_after"] == 2
    assert "The 2026 extract is attached." in seen["answered"] and "extract.pdf" in seen["answered"]
    assert re.search(r"/portal/information-requests/[0-9a-f]{24}\?answered=", seen["url"])
    scroll_width, viewport = seen["widths"]
    assert scroll_width <= viewport == 360
    assert [n.split("-", 1)[1] for n in seen["axe_checked"]] == [
        "choose-password", "information requests", "information request", "answered"]
    stored = office.get(f"/information-requests/{asked['id']}").json
    assert stored["status"] == "in_progress" and stored["items"][0]["files"][0]["name"] == "extract.pdf"
