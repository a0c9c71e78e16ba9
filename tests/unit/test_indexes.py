"""Every list is served by an index declared on its model. The embedded store answers any
query by scanning, so nothing would notice a list that a real MongoDB could only answer
by reading and sorting a whole workspace; this test is what holds production to the
declared indexes.

It runs each list and page query the services make — every admin list with each of its
filters, a second page by cursor, and the customer's own lists — records every query the
store is sent with its sort (an aggregation's first stage, its ``$match``, is its query),
and fails on one that no declared index serves. An index
serves a query when it begins with fields the query pins to one value (or a few, ``$in``),
the workspace among them, and then holds the sort's fields in the sort's order (each
direction as sorted, or each reversed). Conditions on other fields (a range, a regular
expression, the cursor's "after this one") are checked on the records the index finds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import mongoengine
import pytest
from mongomock.collection import Collection, Cursor

from porchlight.contracts.clock import isoformat, utcnow
from tests.grants import session
from tests.unit.conftest import CUSTOMER

WS = "a" * 24
LINES = [{"description": "Labour", "quantity": 1, "unit_price": "80"}]


# -- the rule ------------------------------------------------------------------------------
def pinned_and_ranged(query: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The fields a query pins (one value, ``None``, ``$eq`` or ``$in``, in any clause of
    an ``$and``) and those it only bounds (ranges, patterns, anything under ``$or``)."""
    pinned, ranged = set(), set()
    for field, condition in query.items():
        if field == "$and":  # every clause holds: what one pins is pinned
            for clause in condition:
                more_pinned, more_ranged = pinned_and_ranged(clause)
                pinned, ranged = pinned | more_pinned, ranged | more_ranged
        elif field in ("$or", "$nor"):
            ranged |= {name for clause in condition for name in clause}
        elif isinstance(condition, dict) and not set(condition) <= {"$eq", "$in"}:
            ranged.add(field)
        elif isinstance(condition, re.Pattern):
            ranged.add(field)
        else:
            pinned.add(field)
    return pinned, ranged


def serves(index: list[tuple[str, int]], pinned: set[str], sort: list[tuple[str, int]]) -> bool:
    prefix = 0
    while prefix < len(index) and index[prefix][0] in pinned:
        prefix += 1
    if prefix == 0:
        return False
    rest = index[prefix:prefix + len(sort)]
    if [name for name, _ in rest] != [name for name, _ in sort]:
        return False
    same = [a == b for (_, a), (_, b) in zip(rest, sort, strict=True)]
    return all(same) or not any(same)


def declared(collection: str) -> list[list[tuple[str, int]]]:
    """The indexes the model of this collection declares, and the one on ``_id``."""
    indexes = [[("_id", 1)]]
    for model in mongoengine.base.common._document_registry.values():
        if getattr(model, "_meta", {}).get("collection") == collection and not model._meta.get("abstract"):
            indexes += [list(spec["fields"]) for spec in model._meta.get("index_specs", [])]
    return indexes


# -- watching the store --------------------------------------------------------------------
class Sent:
    """Each query the store was sent while watching, as (collection, query, sort)."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def unserved(self) -> list[str]:
        """One line per query no declared index serves."""
        found = []
        for sent in self.queries:
            pinned, _ = pinned_and_ranged(sent["query"])
            if not any(serves(index, pinned, sent["sort"]) for index in declared(sent["collection"])):
                found.append(f"{sent['collection']}: {sent['query']} sorted {sent['sort']}")
        return found


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    watching = Sent()
    find, sort, aggregate = Collection.find, Cursor.sort, Collection.aggregate
    inside_aggregate = []

    def watched_find(collection: Collection, filter: Any = None, *args: Any, **kwargs: Any) -> Cursor:
        cursor = find(collection, filter, *args, **kwargs)
        if inside_aggregate:  # the embedded store reads everything, then matches: not the query
            return cursor
        record = {"collection": collection.name, "query": dict(filter or {}), "sort": []}
        watching.queries.append(record)
        cursor._watched = record
        return cursor

    def watched_aggregate(collection: Collection, pipeline: list[dict[str, Any]], *args: Any,
                          **kwargs: Any) -> Any:
        """An aggregation's query is its first stage, a ``$match`` (one without is a whole scan)."""
        first = pipeline[0] if pipeline else {}
        watching.queries.append({"collection": collection.name, "query": dict(first.get("$match", {})),
                                 "sort": []})
        inside_aggregate.append(True)
        try:
            return aggregate(collection, pipeline, *args, **kwargs)
        finally:
            inside_aggregate.pop()

    def watched_sort(cursor: Cursor, key_or_list: Any, direction: Any = None) -> Cursor:
        record = getattr(cursor, "_watched", None)
        if record is not None:
            record["sort"] = list(key_or_list) if direction is None else [(key_or_list, direction)]
        return sort(cursor, key_or_list, direction)

    monkeypatch.setattr(Collection, "find", watched_find)
    monkeypatch.setattr(Cursor, "sort", watched_sort)
    monkeypatch.setattr(Collection, "aggregate", watched_aggregate)
    yield watching


def walk(listing: Callable[[dict], dict], key: str, query: dict[str, str]) -> None:
    """The first page of one, then the next by its cursor: both queries are watched."""
    first = listing({**query, "limit": "1"})
    if first["next_cursor"]:
        listing({**query, "limit": "1", "cursor": first["next_cursor"]})
    assert key in first


# -- the lists -----------------------------------------------------------------------------
def test_identitys_lists_are_served_by_indexes(make_worker: Any, sent: Sent) -> None:
    from services.identity import ALIAS
    from services.identity.service import IdentityService
    from services.identity.store import IdentityRepository

    identity = make_worker(IdentityService, ALIAS, IdentityRepository)
    ws = identity.create_workspace({"name": "Acme"})["workspace"]["id"]
    customers = [identity.create_customer(ws, "staff", {"name": name, "email": f"{name}@example.org"})["id"]
                 for name in ("dana", "robin")]
    for name in ("ana", "bo"):
        identity.create_contact(ws, "staff", customers[0], {"name": name, "email": f"{name}@example.org"})
    sent.queries.clear()
    walk(lambda q: identity.list_customers(ws, q), "customers", {})
    walk(lambda q: identity.list_customers(ws, q), "customers", {"q": "dana"})
    walk(lambda q: identity.list_contacts(ws, customers[0], q), "contacts", {})
    assert sent.queries
    assert sent.unserved() == []


def test_documents_lists_and_the_customers_own_are_served_by_indexes(documents: Any, sent: Sent) -> None:
    for n in range(2):
        wo = documents.create_work_order(WS, "staff", {"title": f"Job {n}", "customer_id": CUSTOMER})
        documents.create_estimate(WS, "staff", {
            "title": f"Quote {n}", "customer_id": CUSTOMER, "line_items": LINES,
            "valid_until": (utcnow() + timedelta(days=10)).date().isoformat()})
        report = documents.create_service_report(WS, "staff", {"work_order_id": wo["id"]})
        documents.complete_service_report(WS, "staff", report["id"])
    since = isoformat(utcnow() - timedelta(days=1))
    sent.queries.clear()
    for query in ({}, {"status": "new"}, {"customer_id": CUSTOMER}, {"updated_since": since},
                  {"status": "new", "customer_id": CUSTOMER}):
        walk(lambda q: documents.list_work_orders(WS, q), "work_orders", query)
        sent_ones = {**query, "status": "sent"} if "status" in query else query
        walk(lambda q: documents.list_estimates(WS, q), "estimates", sent_ones)
    for query in ({}, {"status": "signed"}, {"work_order_id": wo["id"]}, {"updated_since": since}):
        walk(lambda q: documents.list_service_reports(WS, q), "service_reports", query)
    owner = session(WS, CUSTOMER)
    for kind, state in (("work_orders", "new"), ("estimates", "sent"), ("service_reports", "signed")):
        walk(lambda q, kind=kind: documents.customer_list(owner, kind, q), "items", {})
        walk(lambda q, kind=kind: documents.customer_list(owner, kind, q), "items", {"status": state})
    documents.customer_records(owner)
    assert sent.queries
    assert sent.unserved() == []


def test_projects_their_hours_and_tasks_are_served_by_indexes(documents: Any, sent: Sent) -> None:
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    for n in range(2):
        project = documents.create_project(WS, "staff", {"name": f"Project {n}", "customer_id": CUSTOMER,
                                                         "status": "active"})
        for _ in range(2):
            documents.log_time(WS, "staff", project["id"], {"date": yesterday, "hours": "2"})
            documents.add_task(WS, "staff", project["id"], {"title": "Paint"})
    sent.queries.clear()
    for query in ({}, {"status": "active"}, {"customer_id": CUSTOMER},
                  {"status": "active", "customer_id": CUSTOMER}):
        walk(lambda q: documents.list_projects(WS, q), "projects", query)
    walk(lambda q: documents.list_time_entries(WS, project["id"], q), "time_entries", {})
    documents.list_tasks(WS, project["id"])
    documents.log_time(WS, "staff", project["id"], {"date": yesterday, "hours": "2"})  # the day's sum
    assert any(query["collection"] == "project_time_entries" and query["query"].get("project_id")
               for query in sent.queries)  # the totals' aggregation was watched too
    assert sent.queries
    assert sent.unserved() == []


def test_a_records_and_a_customers_links_are_served_by_indexes(make_worker: Any, sent: Sent) -> None:
    from services.sharing.models import ALIAS
    from services.sharing.repository import SharingRepository
    from services.sharing.service import SharingService

    sharing = make_worker(SharingService, ALIAS, SharingRepository)
    job = "d" * 24
    request = {"entity": {"type": "work_order", "id": job}, "permissions": ["view"]}
    for _ in range(2):
        sharing.mint_token(WS, "staff", request, None, CUSTOMER)
    sent.queries.clear()
    for query in ({"entity_type": "work_order", "entity_id": job}, {"customer_id": CUSTOMER},
                  {"customer_id": CUSTOMER, "live": "true"}):
        walk(lambda q: sharing.list_tokens(WS, q), "share_tokens", query)
    assert sent.queries
    assert sent.unserved() == []


def test_the_inbox_and_the_outbox_are_served_by_indexes(make_worker: Any, sent: Sent) -> None:
    from services.notifications.models import ALIAS
    from services.notifications.repository import NotificationsRepository
    from services.notifications.service import NotificationsService

    notifications = make_worker(NotificationsService, ALIAS, NotificationsRepository)
    for query in ({}, {"unread": "true"}):
        walk(lambda q: notifications.list_inbox(WS, q), "items", query)
    for query in ({}, {"status": "failed"}, {"recipient": "dana@example.org"}, {"customer_id": CUSTOMER}):
        walk(lambda q: notifications.list_emails(WS, q), "emails", query)
    assert sent.queries
    assert sent.unserved() == []


def test_the_rule_refuses_what_no_index_serves() -> None:
    # The rule itself: were it to pass everything, the tests above would prove nothing.
    by_status = [("workspace_id", 1), ("status", 1), ("created_at", -1), ("_id", -1)]
    newest = [("created_at", -1), ("_id", -1)]
    assert serves(by_status, {"workspace_id", "status"}, newest)
    assert serves(by_status, {"workspace_id", "status"}, [("created_at", 1), ("_id", 1)])  # reversed
    assert not serves(by_status, {"workspace_id"}, newest)  # the sort is not next
    assert not serves(by_status, {"workspace_id", "status"}, [("created_at", -1), ("_id", 1)])  # mixed
    assert not serves(by_status, {"workspace_id", "status"}, [("created_at", -1)] * 0 + [("name", 1)])
    assert not serves([("created_at", -1)], set(), newest)  # a workspace's list reads every workspace
    assert pinned_and_ranged({"workspace_id": WS, "revoked_at": None, "expires_at": {"$gt": 1},
                              "$or": [{"created_at": {"$lt": 1}}]}) == (
        {"workspace_id", "revoked_at"}, {"expires_at", "created_at"})
    assert pinned_and_ranged({"$and": [{"workspace_id": WS}, {"$or": [{"name": {"$gt": "a"}}]}]}) == (
        {"workspace_id"}, {"name"})
