"""The signed-in portal in headless Chromium, on a 360-pixel-wide phone: a contact invited
by the office signs in with the code from their email, using the keyboard alone, and lands
on their dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from porchlight.clock import utcnow
from tests.running_stack import eventually

SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
               "is_mobile": True, "has_touch": True}


def sign_in_with_code(page: Any, shots: Any, portal: str, email: str, code: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(portal + "/portal")  # not signed in: the sign-in page
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    shots("sign-in")
    page.keyboard.press("Tab")
    # The first form: a link and code by email (the second signs in with a password).
    page.locator("#email").fill(email)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    shots("check-email")
    page.get_by_label("6-digit code").fill(code)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible()
    shots("dashboard")
    return {
        "url": page.url,
        "heading": page.get_by_role("heading", level=1).inner_text(),
        "text": page.locator("main").inner_text(),
        "widths": page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"),
        "cookies": [(c["name"], c["httpOnly"], c["sameSite"]) for c in page.context.cookies()
                    if c["name"].endswith("porchlight_session")],
    }


def test_an_invited_contact_signs_in_with_the_code_on_a_phone(office, stack, browser):
    customer = office.post("/customers", {"name": "Northwind Facilities",
                                          "email": f"office-{office.workspace_id}@northwind.example"}).json
    address = f"frances-{office.workspace_id}@northwind.example"
    contact = office.post(f"/customers/{customer['id']}/contacts",
                          {"name": "Frances Marsh", "email": address, "role": "owner"}).json
    office.work_order(customer_id=customer["id"], title="Roof drains")
    estimate = office.post("/estimates", {
        "title": "Gutter guards", "customer_id": customer["id"],
        "valid_until": (utcnow() + timedelta(days=5)).date().isoformat(),
        "line_items": [{"description": "Guards", "quantity": 1, "unit_price": "310.00"}]}).json
    office.post(f"/estimates/{estimate['id']}/send", {"notify_customer": False})
    invited = office.post(f"/customers/{customer['id']}/contacts/{contact['id']}/invite")
    assert invited.status_code == 200, invited.text

    [invitation] = eventually(lambda: [m for m in stack.mail.messages if address in m["To"]], within=20)
    text = invitation.get_body(preferencelist=("plain",)).get_content()
    [code] = re.findall(r"^(\d{6})\s*$", text, re.MULTILINE)

    seen = browser.run(sign_in_with_code, context=SMALL_PHONE, portal=stack.portal_url,
                       email=address, code=code)
    assert seen["url"] == stack.portal_url + "/portal"
    assert seen["heading"] == "Welcome, Frances — Northwind Facilities"
    assert "1 Estimates awaiting your answer" in seen["text"].replace("\n", " ")
    assert "Roof drains" in seen["text"] and "Gutter guards" in seen["text"]
    scroll_width, viewport = seen["widths"]
    assert viewport == 360 and scroll_width <= viewport  # nothing wider than the phone
    assert seen["cookies"] == [["porchlight_session", True, "Lax"]]
    assert office.get(f"/customers/{customer['id']}/contacts/{contact['id']}").json[
        "invitation_status"] == "accepted"
