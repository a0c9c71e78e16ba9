"""A signed-in contact's sections, one per kind of record, through Flask's test client with
every service on real RabbitMQ: the navigation shows only what the contact may see, the
dashboard's counts link to their section, each list pages with a plain "Show more" link
and filters by state, and a member's estimates section is the 404 page."""

from __future__ import annotations

import re
from typing import Any

from tests.gateway.test_portal_accounts import (
    MEMBER_EMAIL,
    owner_and_member_with_an_estimate,
    people,
    sign_in_by_code,
)
from tests.mail import Worker
from tests.staff import StaffApi

EMAIL = "frances@northwind.example"
LINES = [{"description": "Gutter guards", "quantity": 1, "unit_price": "310.00"}]


def links(page: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page)]


def test_a_section_lists_newest_first_and_shows_more_a_page_at_a_time(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, monkeypatch: Any) -> None:
    made = people(staff, worker)
    customer_id = made["customer"]["id"]
    for n in range(30):
        staff.work_order(customer_id=customer_id, title=f"Visit {n:02d}")
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    first = portal.get("/portal/work-orders")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    titles = re.findall(r"Visit (\d\d)", first.text)
    assert titles == [f"{n:02d}" for n in range(29, 4, -1)]  # 25 a page, newest first
    [more] = [href for href in links(first.text) if "cursor=" in href]
    second = portal.get(more)
    assert re.findall(r"Visit (\d\d)", second.text) == ["04", "03", "02", "01", "00"]
    assert not [href for href in links(second.text) if "cursor=" in href]  # the last page
    assert "Back to the newest" in second.text


def test_the_navigation_and_the_dashboard_lead_to_the_sections_a_contact_may_see(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    owner_and_member_with_an_estimate(staff, worker, LINES)
    owner, member = portal_app.test_client(), portal_app.test_client()
    sign_in_by_code(owner, worker, mail_server, EMAIL, 1)
    dashboard = owner.get("/portal").text
    assert "/portal/estimates?status=sent" in links(dashboard)  # the count is a link
    assert {"/portal/work-orders", "/portal/estimates", "/portal/service-reports"} <= set(links(dashboard))
    estimates = owner.get("/portal/estimates?status=sent")
    assert estimates.status_code == 200 and "Gutter guards" in estimates.text
    assert "Gutter guards" not in owner.get("/portal/estimates?status=approved").text

    sign_in_by_code(member, worker, mail_server, MEMBER_EMAIL, 2)
    page = member.get("/portal").text
    assert "/portal/estimates" not in links(page) and "/portal/work-orders" in links(page)
    refused = member.get("/portal/estimates")
    assert refused.status_code == 404 and "Gutter guards" not in refused.text


def test_a_filter_or_a_cursor_that_is_not_the_lists_shows_the_whole_list_and_says_so(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    staff.work_order(customer_id=made["customer"]["id"], title="Roof drains")
    sign_in_by_code(portal, worker, mail_server, EMAIL)
    for query in ("status=signed", "status=lost", "cursor=" + "0" * 24, "cursor=nope"):
        page = portal.get(f"/portal/work-orders?{query}")
        assert page.status_code == 422, query
        assert "That filter or page does not exist" in page.text and "Roof drains" in page.text
    assert portal.get("/portal/invoices").status_code == 404
