"""The growth section of ``bench/portal_pages.py``: are the pages as fast in a workspace with
ten times the records?

It runs on a stack of its own, started once the other sections' stack has stopped, whose
services share the local store (``devtools.store_server``: the embedded mongomock store
behind MongoDB's protocol, which the stack otherwise starts for replicas) — the only way for
this process to write into the services' databases. The other sections keep each service's
store in its own process, as before.

In the seeded demo workspace it grows the number of work orders to each size of ``--growth``
in turn (default 1,000 then 10,000; ``--growth 0`` skips the section), spread over
``CUSTOMERS`` (1,000) customers: the demo's and 999 more, so the demo's customer has one of
every thousand besides its own. They are inserted in bulk into the stack's store
(``insert_many``, ``CHUNK`` at a time), each document built with its service's own model
(identity's ``Customer``, documents' ``WorkOrder``) and validated by it first. Their numbers
are taken from the workspace's counter in one step, so the next number documents allocates is
past them; their ``created_at`` lie before the demo's records, a minute apart. The embedded
store checks a unique index by reading the whole collection, at every insert, so seeding
grows with the square of the size (10,000 took about a minute).

At each size:

* one staff change the portal hears — a work order created for the demo's customer through
  the admin API — which drops the customer's lists from the portal's memory (rows written
  straight into the store announce nothing), and the time from its answer until the signed-in
  dashboard shows it; again for ``/portal/work-orders``: each refill reads documents at that
  size;
* with wrk, as the pages section does (warm-up, then measured): the signed-in dashboard and
  ``/portal/work-orders`` with the demo contact's session cookie — served from the portal's
  memory once warm, so growth should cost them nothing (goal: req/s at the largest size at
  least the smallest size's / ``GOAL_GROWTH_FACTOR``); and the admin API's
  ``GET /api/v1/work-orders`` first page and a deep page (``?cursor=`` of the page that ends
  about the middle of the list, found walking ``next_cursor`` with ``limit=100``) with the
  demo's staff key, at fewer connections and a longer timeout (``measure``'s ``admin``), since
  every one of those pages is a query of the store.

The CPU each process spent per request, the embedded store's included, says what the admin
list's time goes to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import mongoengine
import requests
from portal_reads import until
from signature_pdf import StaffApi

from porchlight.contracts.clock import utcnow
from porchlight.contracts.work_orders import STATUSES
from porchlight.runtime.settings import get_settings
from services.documents import ALIAS as DOCUMENTS
from services.documents.numbering.models import Counter
from services.documents.numbering.rules import PREFIXES
from services.documents.work_orders.models import WorkOrder
from services.identity import ALIAS as IDENTITY
from services.identity.tenancy.models import Customer

CUSTOMERS = 1_000
# Work orders a command inserts. The embedded store runs one command at a time, and near
# 10,000 work orders each insert takes ~20 ms: the services' calls wait for at most ~2 s of
# it (with 500, a timed sweep of documents' waited past its 10-s RPC timeout).
CHUNK = 100
# The page size walking to the deep page.
WALK_LIMIT = 100
# Who the seeded records say made them.
ACTOR = "bench:growth"
LOCATION = "7 Weir Street\nRiverside, RS3 2LW"
# Growth may cost a page served from memory at most this factor of its requests/s.
GOAL_GROWTH_FACTOR = 1.5
# Above this many work orders the embedded store would take far too long to seed.
MAX_SIZE = 20_000
# The portal's signed-in pages, served from memory once warm, and the admin API's list.
PAGES = {"dashboard_signed_in": "/portal", "work_orders_signed_in": "/portal/work-orders"}
ADMIN = {"admin_work_orders_first_page": "/api/v1/work-orders",
         "admin_work_orders_deep_page": "/api/v1/work-orders?cursor={cursor}"}
# Why a process spends what it does on the admin API's list, by the process that spent most.
DOMINANT = {
    "store": ("the embedded store (mongomock: one process, every command under one lock) answers each "
              "page by reading and matching every work order of the collection in Python, then sorting "
              "the workspace's; a real MongoDB walks the declared index (workspace_id, -created_at, -id) "
              "to the page's 26 work orders (25, and one to tell whether more follow), which should cost "
              "about the same however many there are (not measured here)"),
}


class Measure(Protocol):
    """wrk against ``url`` with ``headers`` (``portal_pages.measure``); ``admin``: with the
    settings for the admin API's lists."""

    def __call__(self, url: str, headers: dict[str, str], admin: bool) -> dict[str, Any]: ...


# -- seeding ------------------------------------------------------------------------------


class Seeder:
    """Grows a workspace's work orders (and, once, its customers) by bulk inserts into the
    stack's store through the services' models."""

    def __init__(self, store_uri: str, workspace_id: str, customer_id: str) -> None:
        prefix = get_settings().mongodb_db_prefix  # each service's database is <prefix><service>
        for alias in (IDENTITY, DOCUMENTS):
            mongoengine.connect(db=f"{prefix}{alias}", alias=alias, host=store_uri,
                                uuidRepresentation="standard", tz_aware=True)
        self.workspace_id = workspace_id
        self.customers = [customer_id]
        self.seeded = 0
        self.newest = utcnow() - timedelta(days=1)  # older than anything the demo made

    def close(self) -> None:
        for alias in (IDENTITY, DOCUMENTS):
            mongoengine.disconnect(alias)

    def grow_to(self, size: int) -> dict[str, Any]:
        """Up to ``size`` seeded work orders; what was added and how long it took."""
        started = time.perf_counter()
        customers = [Customer(workspace_id=self.workspace_id, name=f"Growth Customer {n:04d}",
                              email=f"growth.{n}@example.org", created_by=ACTOR, created_at=self.newest)
                     for n in range(len(self.customers), CUSTOMERS)]
        self.customers += [str(customer.id) for customer in insert(Customer, customers)]
        between = time.perf_counter()
        count = size - self.seeded
        last = Counter.objects(id=f"{self.workspace_id}:work_order").modify(
            upsert=True, new=True, inc__seq=count).seq
        insert(WorkOrder, [self.work_order(self.seeded + k, last - count + 1 + k) for k in range(count)])
        self.seeded = size
        done = time.perf_counter()
        return {"customers_added": len(customers), "work_orders_added": count,
                "customers_s": round(between - started, 2), "work_orders_s": round(done - between, 2),
                "seconds": round(done - started, 2)}

    def work_order(self, k: int, number: int) -> WorkOrder:
        status = STATUSES[k % len(STATUSES)]
        at = self.newest - k * timedelta(minutes=1)
        return WorkOrder(
            workspace_id=self.workspace_id, number=f"{PREFIXES['work_order']}-{number:04d}",
            title=f"Seasonal check {k + 1}", status=status, location=LOCATION,
            customer_id=self.customers[k % len(self.customers)],
            completed_at=at if status == "completed" else None,
            created_at=at, created_by=ACTOR, updated_at=at, updated_by=ACTOR)

    def work_orders(self) -> int:
        """Every work order of the workspace, the demo's and the changes' included."""
        return WorkOrder.objects(workspace_id=self.workspace_id).count()


def insert(model: type[mongoengine.Document], documents: list[Any]) -> list[Any]:
    """Validate every document with its model, then insert them ``CHUNK`` at a time."""
    for document in documents:
        document.validate()
    collection = model._get_collection()
    for start in range(0, len(documents), CHUNK):
        chunk = documents[start:start + CHUNK]
        ids = collection.insert_many([document.to_mongo() for document in chunk]).inserted_ids
        for document, inserted in zip(chunk, ids, strict=True):
            document.id = inserted
    return documents


# -- one size ---------------------------------------------------------------------------


def shown_after_change(api: StaffApi, portal: requests.Session, portal_url: str, customer_id: str,
                       size: int) -> dict[str, float]:
    """Per signed-in page: ms from the answer of a staff change that adds a work order to the
    customer's lists until the page shows it."""
    shown = {}
    for name, path in PAGES.items():
        title = f"Growth check {name} at {size}"
        api.post("/work-orders", {"title": title, "customer_id": customer_id, "location": LOCATION})
        shown[name] = until(portal, portal_url + path, lambda page, title=title: title in page.text)
    return shown


def middle_cursor(api: StaffApi, total: int) -> dict[str, Any]:
    """The ``next_cursor`` of the page, walking ``WALK_LIMIT`` at a time newest first, that
    ends nearest the middle of the ``total`` work orders, and how many come before it."""
    before, cursor, started = 0, None, time.perf_counter()
    while before + WALK_LIMIT / 2 < total / 2:
        answer = api.get(f"/work-orders?limit={WALK_LIMIT}" + (f"&cursor={cursor}" if cursor else ""))
        if answer.status_code != 200:
            raise RuntimeError(f"GET /api/v1/work-orders answered {answer.status_code}: {answer.text[:300]}")
        page = answer.json()
        before += len(page["work_orders"])
        cursor = page["next_cursor"]
        if cursor is None:
            raise RuntimeError(f"the work-order list ended after {before} of {total}")
    return {"cursor": cursor, "after": before, "of": total, "walk_s": round(time.perf_counter() - started, 2)}


def run_growth(portal_url: str, admin_url: str, store_uri: str, demo: dict[str, Any],
               cookie: dict[str, str], sizes: list[int], measure: Measure,
               progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Every size in turn (``cookie``: the headers of the demo contact's signed-in requests)."""
    api = StaffApi(admin_url, demo["api_key"])
    staff = {"Authorization": f"Bearer {demo['api_key']}"}
    portal = requests.Session()
    portal.headers.update(cookie)
    seeder = Seeder(store_uri, demo["workspace"]["id"], demo["customer"]["id"])
    stages = []
    try:
        for size in sizes:
            progress(f"Growth: seeding up to {size:,} work orders over {CUSTOMERS:,} customers …")
            seeding = seeder.grow_to(size)
            progress(f"  seeded {seeding['work_orders_added']:,} work orders and "
                     f"{seeding['customers_added']:,} customers in {seeding['seconds']:.1f}s")
            shown = shown_after_change(api, portal, portal_url, demo["customer"]["id"], size)
            total = seeder.work_orders()
            deep = middle_cursor(api, total)
            asked = {**{name: (portal_url, path, cookie, False) for name, path in PAGES.items()},
                     **{name: (admin_url, path.format(cursor=deep["cursor"]), staff, True)
                        for name, path in ADMIN.items()}}
            targets = {}
            for name, (base, path, headers, admin) in asked.items():
                progress(f"  measuring {name} at {size:,} …")
                targets[name] = {"path": path, **measure(base + path, headers, admin)}
            stages.append({"size": size, "work_orders_in_workspace": total,
                           "customers": len(seeder.customers), "seeding": seeding,
                           "shown_after_change_ms": shown, "deep_page": deep, "targets": targets})
    finally:
        seeder.close()
        api.close()
        portal.close()
    smallest, largest = stages[0], stages[-1]
    ratios = {name: largest["targets"][name]["requests_per_s"] / smallest["targets"][name]["requests_per_s"]
              for name in smallest["targets"] if smallest["targets"][name]["requests_per_s"]}
    return {"sizes": sizes, "customers": CUSTOMERS, "chunk": CHUNK,
            "store": "devtools.store_server (mongomock behind MongoDB's protocol), shared by the services",
            "stages": stages, "ratio_largest_to_smallest": ratios,
            "goal_growth_factor": GOAL_GROWTH_FACTOR, "dominant": dominant(largest["targets"])}


def dominant(targets: dict[str, Any]) -> dict[str, Any]:
    """Per admin list: the process that spent the most CPU per request, and its share of the
    stack's."""
    found = {}
    for name in ADMIN:
        cpu = targets[name].get("cpu")
        if not cpu:
            continue
        stack = {k: v for k, v in cpu["ms_per_request"].items() if k not in ("bench", "wrk")}
        process = max(stack, key=lambda k: stack[k])
        total = sum(stack.values())
        found[name] = {"process": process, "ms_per_request": stack[process],
                       "share": round(stack[process] / total, 3) if total else 0.0}
    return found


def print_figures(figures: dict[str, Any]) -> None:
    stages = figures["stages"]
    smallest, largest = stages[0]["size"], stages[-1]["size"]
    print()
    print(f"Growth: the demo workspace with {figures['customers']:,} customers and "
          f"{', then '.join(f'{s:,}' for s in figures['sizes'])} work orders, seeded in bulk into the "
          f"stack's store: {figures['store']}.")
    heads = [f"{stage['size']:,} work orders" for stage in stages]
    print(f"  {'':<30}" + "".join(f"{head:>28}" for head in heads) + f"{f'{largest:,}/{smallest:,}':>12}")
    print(f"  {'':<30}" + f"{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}" * len(stages) + f"{'req/s':>12}")
    for name in stages[0]["targets"]:
        cells = "".join(f"{s['targets'][name]['requests_per_s']:>10.1f}{s['targets'][name]['p50_ms']:>9.1f}"
                        f"{s['targets'][name]['p99_ms']:>9.1f}" for s in stages)
        ratio = figures["ratio_largest_to_smallest"].get(name)
        print(f"  {name:<30}{cells}{ratio if ratio is None else format(ratio, '.3f'):>12}")
    for s in stages:
        seeded, deep = s["seeding"], s["deep_page"]
        shown = ", ".join(f"{name} {ms:.0f} ms" for name, ms in s["shown_after_change_ms"].items())
        print(f"  at {s['size']:,}: seeded {seeded['work_orders_added']:,} work orders in "
              f"{seeded['work_orders_s']:.1f}s and {seeded['customers_added']:,} customers in "
              f"{seeded['customers_s']:.1f}s; {s['work_orders_in_workspace']:,} in the workspace, the deep "
              f"page after {deep['after']:,} (walked in {deep['walk_s']:.1f}s); shown after a staff change: "
              f"{shown}")
    if stages[-1]["seeding"]["seconds"] > 60:
        print(f"  Seeding up to {largest:,} took minutes: the embedded store checks the unique number index "
              "against every work order at each insert.")
    facts = figures["dominant"]
    if facts:
        print(f"  The admin list at {largest:,}, the process that spent most CPU per request: "
              + "; ".join(f"{name.removeprefix('admin_work_orders_').replace('_', ' ')} {fact['process']} "
                          f"{fact['ms_per_request']:.1f} ms, {fact['share']:.0%} of the stack's"
                          for name, fact in facts.items()) + ".")
        for process in sorted({fact["process"] for fact in facts.values()} & DOMINANT.keys()):
            print(f"  It is dominated by {process}: {DOMINANT[process]}.")
