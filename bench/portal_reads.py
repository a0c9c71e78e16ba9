"""What the portal's read model costs and how fresh it stays, measured over HTTP.

* ``first_views``: the first view of a link nobody has opened (link and record not in
  any portal process's memory), one after another — the cold path, filled by RPC.
* ``freshness``: after a staff call that changes what a customer sees returns, how long
  until the portal shows it, polled as fast as one client can. Two kinds of trial, each on
  a page first viewed enough times to be in memory in every gateway process: a work-order
  edit (until the new title shows) and a revocation (until the page answers 404); and, for
  a signed-in contact (``stop_sharing``), stopping a project's share (until its page
  answers 404).

Both drive the real stack through the admin API (``signature_pdf.StaffApi``) and the
portal, on keep-alive sessions; nothing is timed inside a test.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from signature_pdf import StaffApi, nearest_rank

# Views before a trial, so that every gateway process (round-robin or not) holds the page.
WARM_VIEWS = 8
# A trial that has not seen the change by then has failed outright.
GIVE_UP_S = 5.0


T = TypeVar("T")


class FreshnessError(RuntimeError):
    pass


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"count": len(values_ms), "p50_ms": statistics.median(values_ms),
            "p99_ms": nearest_rank(values_ms, 0.99), "max_ms": max(values_ms)}


def new_link(api: StaffApi, customer_id: str, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    wo = api.post("/work-orders", {"title": title, "customer_id": customer_id,
                                   "location": "12 Orchard Lane\nRiverside, RS1 4AB"})
    share = api.post("/share-tokens", {"entity": {"type": "work_order", "id": wo["id"]},
                                       "permissions": ["view"]})
    return wo, share


def first_views(api: StaffApi, customer_id: str, count: int) -> dict[str, float]:
    """Time the first GET of ``count`` links to new work orders."""
    portal = requests.Session()
    times = []
    for n in range(count):
        _wo, share = new_link(api, customer_id, f"First view {n}")
        started = time.perf_counter()
        page = portal.get(share["url"], timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        if page.status_code != 200:
            raise FreshnessError(f"a new link answered {page.status_code}")
    return summary(times)


def until(portal: requests.Session, url: str, seen: Callable[[requests.Response], bool]) -> float:
    """Milliseconds from now until a GET of ``url`` satisfies ``seen``."""
    return poll(lambda: portal.get(url, timeout=10), seen)


def poll(ask: Callable[[], T], seen: Callable[[T], bool], started: float | None = None) -> float:
    """Milliseconds from ``started`` (a ``time.perf_counter()``; now if not given) until an
    answer of ``ask``, asked again as soon as the last one came, satisfies ``seen``."""
    started = time.perf_counter() if started is None else started
    while True:
        answer = ask()
        elapsed = time.perf_counter() - started
        if seen(answer):
            return elapsed * 1000
        if elapsed > GIVE_UP_S:
            raise FreshnessError(f"the portal still showed the old page after {GIVE_UP_S:g} s")


def warm(portal: requests.Session, url: str) -> None:
    for _ in range(WARM_VIEWS):
        if portal.get(url, timeout=10).status_code != 200:
            raise FreshnessError("a live link did not answer 200 while warming up")


def freshness(api: StaffApi, customer_id: str, trials: int) -> dict[str, Any]:
    portal = requests.Session()
    edits, revocations = [], []
    wo, share = new_link(api, customer_id, "Freshness")
    for n in range(trials):
        warm(portal, share["url"])
        title = f"Freshness edit {n}"
        api.patch(f"/work-orders/{wo['id']}", {"title": title})
        edits.append(until(portal, share["url"], lambda page, title=title: title in page.text))
    for n in range(trials):
        _wo, link = new_link(api, customer_id, f"Revocation {n}")
        warm(portal, link["url"])
        api.post(f"/share-tokens/{link['share_token']['id']}/revoke")
        revocations.append(until(portal, link["url"], lambda page: page.status_code == 404))
    every = edits + revocations
    return {"edit": summary(edits), "revocation": summary(revocations),
            "worst_ms": max(every), "trials": len(every)}


def stop_sharing(api: StaffApi, portal_url: str, cookie: str, customer_id: str,
                 trials: int) -> dict[str, Any]:
    """Time from stopping a project's share (the staff call's answer) until the signed-in
    contact's next view of its page is the 404 page, ``trials`` times, each on a new
    project first viewed enough times to be held in memory."""
    portal = requests.Session()
    portal.headers["Cookie"] = cookie
    times = []
    for n in range(trials):
        project = api.post("/projects", {"name": f"Freshness {n}", "customer_id": customer_id})
        grant = api.post("/share-grants", {"resource": {"type": "project", "id": project["id"]}})
        url = f"{portal_url}/portal/projects/{project['id']}"
        warm(portal, url)
        api.post(f"/share-grants/{grant['id']}/stop")
        times.append(until(portal, url, lambda page: page.status_code == 404))
    return summary(times)
