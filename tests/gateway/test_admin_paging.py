"""Every admin API list pages through the one pager (Flask's test client, real services on
RabbitMQ): 250 records of each kind walked a default page at a time, each met exactly once
and in the list's order, even with records added between two pages; the filters; and each
bad query answered 422 naming the parameter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import Any

import pytest

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.paging import DEFAULT_PAGE
from tests.staff import StaffApi

MANY = 250  # ten full pages and then some
LINES = [{"description": "Labour", "quantity": 1, "unit_price": "80"}]


def valid_until() -> str:
    return (utcnow() + timedelta(days=14)).date().isoformat()


def walk(staff: StaffApi, path: str, key: str, arrive: Callable[[], str]) -> tuple[list[str], list[str]]:
    """Every id the list answers, a default page at a time, and the ids of the records
    ``arrive`` adds after each of the first two pages."""
    seen: list[str] = []
    arrived: list[str] = []
    cursor = None
    while True:
        joined = "&" if "?" in path else "?"
        reply = staff.get(path + (f"{joined}cursor={cursor}" if cursor else ""))
        assert reply.status_code == 200, reply.text
        page = reply.json
        assert len(page[key]) <= DEFAULT_PAGE
        seen += [record["id"] for record in page[key]]
        if len(arrived) < 2:
            arrived.append(arrive())
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, arrived
        assert len(page[key]) == DEFAULT_PAGE  # only the last page is short


def met_once(seen: list[str], made: list[str], arrived: list[str]) -> None:
    assert len(seen) == len(set(seen)), "a record was shown twice"
    assert set(made) <= set(seen), f"{len(set(made) - set(seen))} records were skipped"
    assert set(seen) <= set(made) | set(arrived), "a record of another list was shown"


def newest_first(seen: list[str], made: list[str], arrived: list[str]) -> None:
    met_once(seen, made, arrived)
    assert [i for i in seen if i in set(made)] == made[::-1]


class Kind:
    """One admin list: how to add a record to it, where it is listed, under which key."""

    def __init__(self, staff: StaffApi) -> None:
        self.staff, self.numbers = staff, count()

    def customer(self) -> str:
        n = next(self.numbers)
        body = {"name": f"Customer {n:04}", "email": f"c{n}@example.org"}
        return self.staff.created("/customers", body)["id"]


@pytest.fixture
def kinds(staff: StaffApi) -> Kind:
    return Kind(staff)


def test_customers_walk_by_name_each_met_once(staff: StaffApi, kinds: Kind) -> None:
    made = [kinds.customer() for _ in range(MANY)]
    seen, arrived = walk(staff, "/customers", "customers", kinds.customer)
    met_once(seen, made, arrived)
    assert [i for i in seen if i in set(made)] == made  # by name, as they were numbered


def test_a_customers_contacts_walk_by_name_each_met_once(staff: StaffApi, kinds: Kind) -> None:
    customer = kinds.customer()
    numbers = count()

    def contact() -> str:
        n = next(numbers)
        return staff.created(f"/customers/{customer}/contacts", {
            "name": f"Contact {n:04}", "email": f"person{n}@example.org"})["id"]

    made = [contact() for _ in range(MANY)]
    seen, arrived = walk(staff, f"/customers/{customer}/contacts", "contacts", contact)
    met_once(seen, made, arrived)
    assert [i for i in seen if i in set(made)] == made


def test_work_orders_estimates_and_reports_walk_newest_first_each_met_once(staff: StaffApi) -> None:
    def work_order() -> str:
        return staff.work_order()["id"]

    def estimate() -> str:
        return staff.created("/estimates", {"title": "Boiler", "line_items": LINES,
                                            "valid_until": valid_until()})["id"]

    job = work_order()

    def report() -> str:
        return staff.created("/service-reports", {"work_order_id": job})["id"]

    made = [work_order() for _ in range(MANY)]
    seen, arrived = walk(staff, "/work-orders", "work_orders", work_order)
    newest_first(seen, [job, *made], arrived)

    made = [estimate() for _ in range(MANY)]
    seen, arrived = walk(staff, "/estimates", "estimates", estimate)
    newest_first(seen, made, arrived)

    made = [report() for _ in range(MANY)]
    seen, arrived = walk(staff, f"/service-reports?work_order_id={job}", "service_reports", report)
    newest_first(seen, made, arrived)


def test_a_records_links_walk_newest_first_each_met_once(staff: StaffApi) -> None:
    job = staff.work_order()["id"]

    def link() -> str:
        return staff.share(job)["share_token"]["id"]

    made = [link() for _ in range(MANY)]
    seen, arrived = walk(staff, f"/share-tokens?entity_type=work_order&entity_id={job}", "share_tokens", link)
    newest_first(seen, made, arrived)


def test_the_filters_narrow_each_list(staff: StaffApi, kinds: Kind) -> None:
    dana = staff.created("/customers", {"name": "Dana Reyes", "email": "dana@reyes.example"})
    kinds.customer()
    assert [c["id"] for c in staff.get("/customers?q=REYES").json["customers"]] == [dana["id"]]
    assert [c["id"] for c in staff.get("/customers?q=dana@").json["customers"]] == [dana["id"]]
    assert staff.get("/customers?q=.*").json["customers"] == []  # text, not a pattern

    before = isoformat(utcnow() - timedelta(seconds=1))
    hers = staff.work_order(customer_id=dana["id"])
    other = staff.work_order()
    by_customer = staff.get(f"/work-orders?customer_id={dana['id']}").json
    assert [w["id"] for w in by_customer["work_orders"]] == [hers["id"]]
    assert staff.patch(f"/work-orders/{other['id']}", {"status": "scheduled"}).status_code == 200
    scheduled = staff.get("/work-orders?status=scheduled").json["work_orders"]
    assert [w["id"] for w in scheduled] == [other["id"]]
    later = isoformat(utcnow() + timedelta(days=1))
    assert staff.get(f"/work-orders?updated_since={later}").json["work_orders"] == []
    since = staff.get(f"/work-orders?updated_since={before}").json["work_orders"]
    assert {w["id"] for w in since} == {hers["id"], other["id"]}

    estimate = staff.created("/estimates", {"title": "Boiler", "line_items": LINES,
                                            "valid_until": valid_until(), "customer_id": dana["id"]})
    staff.created("/estimates", {"title": "Tank", "line_items": LINES, "valid_until": valid_until()})
    theirs = staff.get(f"/estimates?customer_id={dana['id']}").json["estimates"]
    assert [e["id"] for e in theirs] == [estimate["id"]]

    report = staff.created("/service-reports", {"work_order_id": hers["id"]})
    staff.created("/service-reports", {"work_order_id": other["id"]})
    assert staff.get("/service-reports?status=signed").json["service_reports"] == []
    drafts = staff.get(f"/service-reports?status=draft&work_order_id={hers['id']}").json["service_reports"]
    assert [r["id"] for r in drafts] == [report["id"]]


@pytest.mark.parametrize("path,parameter", [
    ("/customers?limit=0", "limit"), ("/customers?limit=101", "limit"), ("/customers?cursor=xyz", "cursor"),
    ("/customers?cursor=" + "0" * 24, "cursor"), ("/customers?q=" + "x" * 101, "q"),
    ("/work-orders?status=lost", "status"), ("/work-orders?customer_id=xyz", "customer_id"),
    ("/work-orders?updated_since=yesterday", "updated_since"), ("/work-orders?limit=ten", "limit"),
    ("/estimates?updated_since=2026-13-01T00:00:00Z", "updated_since"),
    ("/estimates?cursor=" + "0" * 24, "cursor"),
    ("/service-reports?status=lost", "status"), ("/service-reports?work_order_id=xyz", "work_order_id"),
])
def test_a_bad_list_query_is_422_naming_the_parameter(staff: StaffApi, path: str, parameter: str) -> None:
    reply = staff.get(path)
    assert reply.status_code == 422, reply.text
    assert parameter in reply.json["error"]["fields"]


def test_a_cursor_from_another_list_is_not_a_cursor_of_this_one(staff: StaffApi, kinds: Kind) -> None:
    customer = kinds.customer()
    job = staff.work_order()["id"]
    for path in (f"/work-orders?cursor={customer}", f"/customers?cursor={job}",
                 f"/customers/{customer}/contacts?cursor={job}"):
        reply = staff.get(path)
        assert reply.status_code == 422, (path, reply.text)
        assert "cursor" in reply.json["error"]["fields"]


def test_another_workspaces_cursor_is_not_a_cursor_here(staff: StaffApi, make_staff: Any) -> None:
    theirs = make_staff().work_order()["id"]
    staff.work_order()
    reply = staff.get(f"/work-orders?cursor={theirs}")
    assert reply.status_code == 422 and "cursor" in reply.json["error"]["fields"]


def test_a_customers_links_are_listed_together_and_live_ones_alone(staff: StaffApi, kinds: Kind) -> None:
    dana = staff.created("/customers", {"name": "Dana Reyes", "email": "dana@reyes.example"})
    job = staff.work_order(customer_id=dana["id"])
    first = staff.share(job["id"])["share_token"]
    sent = staff.sent_estimate(LINES, customer_id=dana["id"])["share_token"]
    report = staff.created("/service-reports", {"work_order_id": job["id"]})
    signing = staff.created(f"/service-reports/{report['id']}/complete")["share_token"]
    staff.share(staff.work_order(customer_id=kinds.customer())["id"])  # another customer's
    assert staff.post(f"/share-tokens/{first['id']}/revoke").status_code == 200
    rotated = staff.created(f"/share-tokens/{sent['id']}/rotate")["share_token"]

    listed = staff.get(f"/share-tokens?customer_id={dana['id']}")
    assert listed.status_code == 200, listed.text
    everything = [t["id"] for t in listed.json["share_tokens"]]
    assert everything == [rotated["id"], signing["id"], sent["id"], first["id"]]
    assert {t["customer_id"] for t in listed.json["share_tokens"]} == {dana["id"]}
    live = staff.get(f"/share-tokens?customer_id={dana['id']}&live=true").json["share_tokens"]
    assert [t["id"] for t in live] == [rotated["id"], signing["id"]]

    paged = staff.get(f"/share-tokens?customer_id={dana['id']}&limit=3").json
    rest = staff.get(f"/share-tokens?customer_id={dana['id']}&limit=3&cursor={paged['next_cursor']}").json
    assert [t["id"] for t in paged["share_tokens"] + rest["share_tokens"]] == everything
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("query,status,parameter", [
    ("", 422, "entity_type"), ("entity_type=work_order", 422, "entity_id"),
    ("live=yes&customer_id=" + "a" * 24, 422, "live"),
    ("customer_id=" + "a" * 24, 404, None), ("entity_type=work_order&entity_id=" + "a" * 24, 404, None),
])
def test_a_links_list_names_a_record_or_a_customer_the_workspace_holds(
        staff: StaffApi, query: str, status: int, parameter: str | None) -> None:
    reply = staff.get(f"/share-tokens?{query}")
    assert reply.status_code == status, reply.text
    if parameter:
        assert parameter in reply.json["error"]["fields"]
