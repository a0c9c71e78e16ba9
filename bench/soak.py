"""The soak section of ``bench/portal_pages.py``: does the stack stay the same under minutes
of mixed traffic?

Why it exists: the other sections measure seconds of one kind of request. A leak shows only
over time — a cache that is not bounded, a connection or thread kept per request, events
piling up in a queue nobody drains — as memory that keeps growing and a p99 that creeps up.
So the soak drives the stack the bench already started with a mix of what customers and
staff do, for ``--soak-seconds`` (default 120), and compares its last 20 s with its first.

The traffic, from ``CONNECTIONS`` (16) clients at once, each with one request in flight at a
time on its own keep-alive sessions:

* 15 readers, each request chosen by weight from ``mix()``: the demo's work-order, estimate and
  service-report link pages (no cookies kept, like a link opened from an email), the demo
  contact's signed-in dashboard, and admin API reads with the demo's staff key.
* 1 writer, a flow every ``WRITE_EVERY_S``, alternately: a work order created, shared, and its
  new link opened once (the read model's cold path, so its memory must stay bounded); an
  estimate created, sent (its customer emailed through the worker), opened through its link
  and accepted with the CSRF token and revision from that page, as a customer does.

The writes are for a customer of their own, made at the start, and the admin reads are by id
or filtered to the demo's records: the dashboard and every read answer the same data at the
end as at the start, so a slower last 20 s is the processes, not a longer list.

Why Python threads with ``requests`` rather than wrk with a Lua script: the writes are flows
(ids from one answer in the next request, a CSRF token from a page in a cookie session), and
every answer is recorded with its start time, latency, status and path. wrk's Lua hooks see a
response's status and body but not its latency nor when it was asked (wrk keeps one latency
histogram for the whole run, so no first and last 20 s), and a flow with a cookie session
would be hand-written state in its request/response callbacks. The price: the client
spends about 1.5 ms of CPU per answer (measured) on a machine it shares with the stack (the
"bench" entry of the CPU line), so it makes fewer requests/s than wrk would. This section is
about whether the figures move, not their level; the pages section measures the level.

What it records and prints:

* every answer: when it was asked (seconds since the soak began), its latency, its status and
  its path with tokens and ids left out (``GET /portal/fsm/{token}``); an exception (timeout,
  connection reset) is an answer with status 0, the exception's name and its innermost
  cause's (``ConnectionError/RemoteDisconnected``), its words kept with tokens redacted;
* every ``RSS_EVERY_S`` s, the resident memory (``VmRSS`` of ``/proc/<pid>/status``) of each
  stack process and of its descendants (a gunicorn master's workers);
* p50/p99 of the first and of the last ``WINDOW_S`` s, overall and per kind of request (answered
  requests only: an error is counted, not timed); RSS at the start, after ``WINDOW_S`` s and at
  the end; every answer that is not 2xx/3xx, grouped by status and path;
* with the bench's CPU meter, per window: the stack's CPU per answer and other work's share of
  the machine — on a shared machine, what tells a stack that slows down (more CPU per answer)
  from a machine that got busier (the same CPU per answer, less of the machine left).

And, as facts measured (a benchmark is not a test): latency is flat when the last window's
p99 is at most ``FLAT_P99_FACTOR`` (1.5) times the first's; memory is flat when no process
(with its children) grew by more than ``FLAT_RSS_GROWTH`` (10 %) from the ``WINDOW_S`` mark to
the end — the first seconds fill caches, pools and thread stacks, which is growth but no leak.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any, Literal, Protocol

import requests
from portal_reads import summary
from signature_pdf import PdfBenchError, StaffApi, csrf_token

from porchlight.contracts.share_tokens import redact

CONNECTIONS = 16
# The first and the last this many seconds are compared.
WINDOW_S = 20.0
# The writer starts a flow this often (a flow that takes longer delays the next).
WRITE_EVERY_S = 1.0
RSS_EVERY_S = 5.0
REQUEST_TIMEOUT_S = 10.0
# Flat: the last window's p99 at most this times the first's ...
FLAT_P99_FACTOR = 1.5
# ... and no process more than this much larger at the end than after the first window.
FLAT_RSS_GROWTH = 0.10
MIB = 1024.0  # VmRSS is in KiB


# -- what is read -----------------------------------------------------------------------


Who = Literal["customer", "contact", "staff"]


@dataclass(frozen=True)
class Read:
    """One kind of read. ``who`` asks: a customer with a link (no credentials), the demo's
    signed-in contact (session cookie) or staff (API key). ``path`` is what answers are
    grouped by: the URL's path with its token or id left out."""

    name: str
    weight: int
    url: str
    path: str
    who: Who = "customer"


def mix(portal_url: str, admin_url: str, demo: dict[str, Any]) -> list[Read]:
    """The readers' requests and their weights (out of 100), on the seeded demo's records."""
    api = admin_url + "/api/v1"
    work_order = demo["links"][0]["work_order"]["id"]
    completed = demo["links"][2]["work_order"]["id"]  # the one with the service report
    customer = demo["customer"]["id"]
    return [
        Read("work_order_page", 30, demo["links"][0]["url"], "/portal/fsm/{token}"),
        Read("estimate_page", 15, demo["estimate_url"], "/portal/fsm/estimate/{token}"),
        Read("service_report_page", 15, demo["service_report_url"],
             "/portal/fsm/service-report/{token}"),
        Read("dashboard_signed_in", 10, portal_url + "/portal", "/portal", "contact"),
        Read("admin_work_orders", 6, f"{api}/work-orders?status=scheduled",
             "/api/v1/work-orders?status=scheduled", "staff"),
        Read("admin_work_order", 6, f"{api}/work-orders/{work_order}", "/api/v1/work-orders/{id}",
             "staff"),
        Read("admin_estimates", 6, f"{api}/estimates?status=sent", "/api/v1/estimates?status=sent",
             "staff"),
        Read("admin_customer", 6, f"{api}/customers/{customer}", "/api/v1/customers/{id}", "staff"),
        Read("admin_service_reports", 6, f"{api}/service-reports?work_order_id={completed}",
             "/api/v1/service-reports?work_order_id={id}", "staff"),
    ]


# -- every answer, recorded ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    at_s: float  # when it was asked, since the soak began
    ms: float
    status: int  # 0: no answer (``failure`` says why)
    kind: str
    path: str  # "GET /portal/fsm/{token}"
    failure: str = ""  # "ConnectionError/RemoteDisconnected"
    words: str = ""  # the innermost cause's message, tokens redacted

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400


class Recorder:
    """Sends a request and records its answer; shared by every client thread (a list's
    append is atomic in CPython)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.answers: list[Answer] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def send(self, http: requests.Session, method: str, url: str, kind: str, path: str,
             **options: Any) -> requests.Response | None:
        asked = time.perf_counter()
        try:
            response = http.request(method, url, timeout=REQUEST_TIMEOUT_S, allow_redirects=False,
                                    **options)
        except requests.RequestException as exc:
            cause = innermost(exc)
            self.answers.append(Answer(asked - self.started, 1000 * (time.perf_counter() - asked),
                                       0, kind, f"{method} {path}",
                                       f"{type(exc).__name__}/{type(cause).__name__}",
                                       redact(str(cause))[:300]))
            return None
        self.answers.append(Answer(asked - self.started, 1000 * (time.perf_counter() - asked),
                                   response.status_code, kind, f"{method} {path}"))
        return response


def innermost(exc: BaseException) -> BaseException:
    """The exception at the bottom of ``exc``'s chain: requests wraps urllib3's, which wraps
    the socket's (``RemoteDisconnected``, ``ConnectionResetError``, ``TimeoutError``)."""
    seen = [exc]
    while (inner := seen[-1].__cause__ or seen[-1].__context__) and inner not in seen:
        seen.append(inner)
    return seen[-1]


def answered(response: requests.Response | None) -> bool:
    return response is not None and 200 <= response.status_code < 300


# -- the clients ----------------------------------------------------------------------------


def read_until(recorder: Recorder, reads: list[Read], credentials: dict[Who, dict[str, str]],
               deadline: float, stop: threading.Event, seed: int) -> int:
    """One reader: a request at a time, chosen by weight, until ``deadline`` (or ``stop``);
    how many."""
    chooser = random.Random(seed)  # the same sequence every run
    weights = [read.weight for read in reads]
    count = 0
    with requests.Session() as http:
        # No cookie kept: a link opened from an email; the contact's session goes in a header.
        http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        while time.perf_counter() < deadline and not stop.is_set():
            read = chooser.choices(reads, weights)[0]
            recorder.send(http, "GET", read.url, read.name, read.path, headers=credentials[read.who])
            count += 1
    return count


def share_work_order(recorder: Recorder, api: StaffApi, customer_id: str, n: int) -> bool:
    """Staff create a work order and share it; the customer opens the new link once."""
    created = recorder.send(api.http, "POST", api.base + "/work-orders", "write_work_order",
                            "/api/v1/work-orders", json={
                                "title": f"Soak visit {n}", "customer_id": customer_id,
                                "location": "3 Mill Row\nRiverside, RS2 9QP"})
    if not answered(created):
        return False
    shared = recorder.send(api.http, "POST", api.base + "/share-tokens", "write_share_link",
                           "/api/v1/share-tokens", json={
                               "entity": {"type": "work_order", "id": created.json()["id"]},
                               "permissions": ["view"]})
    if not answered(shared):
        return False
    with requests.Session() as customer:
        return answered(recorder.send(customer, "GET", shared.json()["url"], "new_link_first_view",
                                      "/portal/fsm/{token}"))


def accept_estimate(recorder: Recorder, api: StaffApi, customer_id: str, n: int) -> bool:
    """Staff create an estimate and send it; the customer opens it by its link, accepts it
    with the page's CSRF token and revision, and is sent back (303) to the page, which must
    show the acceptance."""
    created = recorder.send(api.http, "POST", api.base + "/estimates", "write_estimate",
                            "/api/v1/estimates", json={
                                "title": f"Soak repair {n}", "customer_id": customer_id,
                                "valid_until": (datetime.now(UTC) + timedelta(days=21)).date().isoformat(),
                                "line_items": [{"description": "Replace the pressure relief valve",
                                                "quantity": 1, "unit_price": "86.50",
                                                "tax_rate": "20"}]})
    if not answered(created):
        return False
    sent = recorder.send(api.http, "POST", f"{api.base}/estimates/{created.json()['id']}/send",
                         "write_send_estimate", "/api/v1/estimates/{id}/send", json={})
    if not answered(sent):
        return False
    link = sent.json()["url"]
    with requests.Session() as customer:
        page = recorder.send(customer, "GET", link, "estimate_link_before_answer",
                             "/portal/fsm/estimate/{token}")
        revision = re.search(r'name="revision" value="(\d+)"', page.text) if answered(page) else None
        if revision is None:
            return False
        answer = recorder.send(customer, "POST", link, "write_accept_estimate",
                               "/portal/fsm/estimate/{token}", data={
                                   "csrf_token": csrf_token(page.text, "the estimate page"),
                                   "response": "accept", "revision": revision[1],
                                   "signer_name": "Robin Soak"})
        if answer is None or answer.status_code != 303:
            return False
        outcome = recorder.send(customer, "GET", link, "estimate_link_after_answer",
                                "/portal/fsm/estimate/{token}")
    return answered(outcome) and "you accepted this estimate" in outcome.text


def write_until(recorder: Recorder, api: StaffApi, customer_id: str, deadline: float,
                stop: threading.Event) -> dict[str, int]:
    """The writer: alternately a work order shared and an estimate accepted, a flow every
    ``WRITE_EVERY_S``, until ``deadline`` (or ``stop``); how many flows of each ended as they
    should and how many did not (the failed step's answer is among the errors)."""
    outcomes: Counter[str] = Counter()
    flows = [("work_orders_shared", share_work_order), ("estimates_accepted", accept_estimate)]
    n = 0
    next_flow = time.perf_counter()
    while next_flow < deadline and not stop.is_set():
        name, flow = flows[n % len(flows)]
        n += 1
        try:
            done = flow(recorder, api, customer_id, n)
        except (PdfBenchError, ValueError, KeyError):  # a page without its form, a reply without its field
            done = False
        outcomes[name if done else f"{name}_failed"] += 1
        next_flow = max(next_flow + WRITE_EVERY_S, time.perf_counter())
        stop.wait(max(0.0, min(next_flow, deadline) - time.perf_counter()))
    return dict(outcomes)


# -- memory -----------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a gunicorn master's workers), from /proc."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending += [int(child) for child in children.read_text().split()]
            except OSError:
                continue  # the thread or process ended meanwhile
    return found


def rss_kib(pid: int) -> int | None:
    """``VmRSS`` of ``pid``; None for a process that ended (or a zombie, which has none)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) if found else None


def rss_sample(leaders: dict[str, int], at_s: float) -> dict[str, Any]:
    """Each stack process's RSS, and each of its descendants', in KiB."""
    processes = {}
    for name, leader in leaders.items():
        tree = {pid: kib for pid in process_tree(leader) if (kib := rss_kib(pid)) is not None}
        processes[name] = {"kib": sum(tree.values()), "pids": tree}
    return {"at_s": round(at_s, 1), "processes": processes}


def memory(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per process: RSS (MiB) at the start, after the first window and at the end, its growth
    from then to the end, and every sample; per pid too (gunicorn's workers)."""
    start, end = samples[0], samples[-1]
    mark = min(samples, key=lambda sample: abs(sample["at_s"] - WINDOW_S))
    moments = {"start": start, "at_window": mark, "end": end}
    figures = {}
    for name in start["processes"]:
        at = {moment: sample["processes"][name] for moment, sample in moments.items()}
        every_pid = sorted({pid for process in at.values() for pid in process["pids"]})
        growth = at["end"]["kib"] / at["at_window"]["kib"] - 1 if at["at_window"]["kib"] else 0.0
        figures[name] = {
            **{f"{moment}_mib": round(process["kib"] / MIB, 1) for moment, process in at.items()},
            "growth_after_window": round(growth, 4),
            "pids_at_start": sorted(at["start"]["pids"]),
            "pids_at_end": sorted(at["end"]["pids"]),
            "per_pid_mib": {pid: {moment: round(process["pids"].get(pid, 0) / MIB, 1)
                                  for moment, process in at.items()} for pid in every_pid},
            "series_mib": [[sample["at_s"], round(sample["processes"][name]["kib"] / MIB, 1)]
                           for sample in samples],
        }
    return {"window_mark_at_s": mark["at_s"], "end_at_s": end["at_s"], "processes": figures}


# -- latency and errors ------------------------------------------------------------------------


def window(answers: list[Answer], start_s: float, end_s: float) -> dict[str, Any]:
    """Answers asked in [start_s, end_s): their rate, and p50/p99 overall and per kind."""
    asked = [a for a in answers if start_s <= a.at_s < end_s]
    timed = [a for a in asked if a.ok]
    kinds = sorted({a.kind for a in timed})
    return {
        "from_s": round(start_s, 1), "to_s": round(end_s, 1),
        "asked": len(asked), "errors": len(asked) - len(timed),
        "requests_per_s": round(len(asked) / (end_s - start_s), 1),
        "all": summary([a.ms for a in timed]) if timed else None,
        "kinds": {kind: summary([a.ms for a in timed if a.kind == kind]) for kind in kinds},
    }


def windows_of(seconds: float) -> list[float]:
    """The start of every whole ``WINDOW_S`` of a soak of ``seconds``."""
    return [n * WINDOW_S for n in range(int(seconds // WINDOW_S))]


def statuses(answers: list[Answer]) -> dict[str, dict[str, int]]:
    """How many answers of each status, per kind of request."""
    counted: dict[str, Counter[str]] = {}
    for a in answers:
        counted.setdefault(a.kind, Counter())[str(a.status)] += 1
    return {kind: dict(counts) for kind, counts in sorted(counted.items())}


def errors(answers: list[Answer]) -> dict[str, dict[str, Any]]:
    """Every answer that is not 2xx/3xx, by status and path: how many, first and last."""
    grouped: dict[str, dict[str, Any]] = {}
    for a in answers:
        if a.ok:
            continue
        key = f"{a.status} {a.path}" if a.status else f"no answer ({a.failure}) {a.path}"
        seen = grouped.setdefault(key, {"count": 0, "first_at_s": round(a.at_s, 1), "kinds": []})
        if a.kind not in seen["kinds"]:
            seen["kinds"].append(a.kind)
        if a.words:
            seen.setdefault("words", a.words)
        seen["count"] += 1
        seen["last_at_s"] = round(a.at_s, 1)
    return grouped


def verdict(first: dict[str, Any], last: dict[str, Any], mem: dict[str, Any],
            failed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Flat or not, and errors or not, as measured."""
    first_p99 = first["all"]["p99_ms"] if first["all"] else 0.0
    last_p99 = last["all"]["p99_ms"] if last["all"] else 0.0
    ratio = last_p99 / first_p99 if first_p99 else 0.0
    grew = {name: fig["growth_after_window"] for name, fig in mem["processes"].items()
            if fig["growth_after_window"] > FLAT_RSS_GROWTH}
    largest = max(mem["processes"].items(), key=lambda item: item[1]["growth_after_window"])
    return {
        "latency_flat": bool(first_p99) and ratio <= FLAT_P99_FACTOR,
        "p99_ratio_last_to_first": round(ratio, 3),
        "memory_flat": not grew,
        "grew_more_than_bound": grew,
        "largest_growth": {"process": largest[0], "growth": largest[1]["growth_after_window"]},
        "errors": sum(group["count"] for group in failed.values()),
        "rules": {"latency": f"last {WINDOW_S:g} s p99 <= {FLAT_P99_FACTOR:g}x the first {WINDOW_S:g} s p99",
                  "memory": f"every process's RSS (with its children) at the end <= "
                            f"{1 + FLAT_RSS_GROWTH:g}x its RSS after {WINDOW_S:g} s"},
    }


# -- the soak ---------------------------------------------------------------------------------


class CpuMeter(Protocol):
    """What the soak asks of ``portal_pages.CpuMeter``: CPU seconds by process group, and
    their use per request between two snapshots (``other work`` included)."""

    def snapshot(self) -> dict[str, float]: ...

    def usage(self, before: dict[str, float], after: dict[str, float],
              requests_done: int) -> dict[str, Any]: ...


def run_soak(portal_url: str, admin_url: str, demo: dict[str, Any], contact: dict[str, str],
             leaders: dict[str, int], seconds: float, meter: CpuMeter | None = None,
             progress: Callable[[str], None] = print) -> dict[str, Any]:
    """``seconds`` of mixed traffic at ``CONNECTIONS`` clients against the running stack
    (``contact``: the headers of the demo contact's signed-in requests; ``leaders``: each
    stack process's name and pid); the figures, the verdict included. With a ``meter``, each
    window also says where the CPU went — the stack's per answer, and other work's share of
    the machine — which tells a process that slows down from a machine that got busier."""
    api = StaffApi(admin_url, demo["api_key"])
    try:
        customer = api.post("/customers", {"name": "Robin Soak", "email": "robin.soak@example.org"})
        reads = mix(portal_url, admin_url, demo)
        credentials: dict[Who, dict[str, str]] = {
            "customer": {},
            "contact": contact,
            "staff": {"Authorization": f"Bearer {demo['api_key']}"},
        }
        recorder, stop = Recorder(), threading.Event()
        samples = [rss_sample(leaders, 0.0)]
        cpu = {0.0: meter.snapshot()} if meter else {}
        deadline = recorder.started + seconds
        marks = sorted({*(n * RSS_EVERY_S for n in range(1, int(seconds // RSS_EVERY_S) + 1)),
                        seconds - WINDOW_S, seconds})
        with ThreadPoolExecutor(CONNECTIONS, thread_name_prefix="soak") as clients:
            try:
                writer = clients.submit(write_until, recorder, api, customer["id"], deadline, stop)
                readers = [clients.submit(read_until, recorder, reads, credentials, deadline, stop, seed)
                           for seed in range(CONNECTIONS - 1)]
                for at in marks:
                    time.sleep(max(0.0, at - recorder.elapsed()))
                    if meter:
                        cpu[at] = meter.snapshot()
                    if at < seconds:  # the last RSS is read once every answer is in
                        samples.append(rss_sample(leaders, recorder.elapsed()))
                    if at % WINDOW_S == 0 and at < seconds:
                        progress(progress_line(recorder.answers[:], at))
                writes = writer.result()
                read_count = sum(reader.result() for reader in readers)
            finally:
                stop.set()  # an interrupted soak does not run on to its deadline
        elapsed = recorder.elapsed()
        samples.append(rss_sample(leaders, elapsed))
    finally:
        api.close()
    answers = recorder.answers

    def measured(start_s: float, end_s: float) -> dict[str, Any]:
        figures = window(answers, start_s, end_s)
        if meter and start_s in cpu and end_s in cpu:
            figures["cpu"] = meter.usage(cpu[start_s], cpu[end_s], figures["asked"])
        return figures

    first, last = measured(0.0, WINDOW_S), measured(seconds - WINDOW_S, seconds)
    mem = memory(samples)
    failed = errors(answers)
    return {
        "seconds": seconds, "elapsed_s": round(elapsed, 1), "connections": CONNECTIONS,
        "readers": CONNECTIONS - 1, "writers": 1, "write_every_s": WRITE_EVERY_S,
        "window_s": WINDOW_S, "client": "python threads, requests (one keep-alive session each)",
        "mix": [{k: v for k, v in asdict(read).items() if k != "url"} for read in reads],
        "answers": len(answers), "reads": read_count, "writes": writes,
        "requests_per_s": round(len(answers) / elapsed, 1),
        "statuses": statuses(answers),
        "first": first, "last": last,
        # Every consecutive window, to tell a trend from one noisy window.
        "windows": [{k: v for k, v in measured(start, start + WINDOW_S).items() if k != "kinds"}
                    for start in windows_of(seconds)],
        **({"cpu": meter.usage(cpu[0.0], cpu[seconds], len(answers))} if meter else {}),
        "memory": mem, "errors": failed,
        "verdict": verdict(first, last, mem, failed),
    }


def stack_cpu_ms(cpu: dict[str, Any]) -> float:
    """The stack's CPU per answer (ms): every process group but the load's own clients."""
    return sum(ms for name, ms in cpu["ms_per_request"].items() if name not in ("bench", "wrk"))


def progress_line(answers: list[Answer], at_s: float) -> str:
    recent = window(answers, at_s - WINDOW_S, at_s)
    p99 = f"{recent['all']['p99_ms']:.0f} ms" if recent["all"] else "-"
    return (f"  {at_s:>4.0f} s: {len(answers)} answers; the last {WINDOW_S:g} s "
            f"{recent['requests_per_s']:.0f} req/s, p99 {p99}, {recent['errors']} errors")


# -- the report ---------------------------------------------------------------------------------


def print_figures(figures: dict[str, Any]) -> None:
    """Per kind: the first and last windows; per process: RSS; every error; the verdict's facts."""
    first, last = figures["first"], figures["last"]
    writes = figures["writes"]
    print()
    print(f"Soak: {figures['elapsed_s']:g} s of mixed traffic, {figures['connections']} clients "
          f"({figures['readers']} readers, 1 writer starting a flow every {figures['write_every_s']:g} s); "
          f"{figures['answers']} answers, {figures['requests_per_s']:.0f} req/s.")
    print("  Writes: " + ", ".join(f"{name.replace('_', ' ')} {count}"
                                   for name, count in sorted(writes.items())))
    span = f"{figures['window_s']:g} s"
    print(f"  {'':<28} {'first ' + span:>25}   {'last ' + span:>25}")
    print(f"  {'(answered, ms)':<28} {'count':>7} {'p50':>8} {'p99':>8}   {'count':>7} {'p50':>8} {'p99':>8}")
    rows = [("all", first["all"], last["all"])] + [
        (kind, first["kinds"].get(kind), last["kinds"].get(kind))
        for kind in sorted(set(first["kinds"]) | set(last["kinds"]))]
    for name, early, late in rows:
        print(f"  {name:<28} {cells(early)}   {cells(late)}")
    every = figures["windows"]
    print(f"  Every {span} in turn: req/s " + " ".join(f"{w['requests_per_s']:.0f}" for w in every)
          + "; p99 ms " + " ".join(f"{w['all']['p99_ms']:.0f}" if w["all"] else "-" for w in every))
    if all("cpu" in w for w in every):
        print(f"  {'':<20}stack CPU ms per answer "
              + " ".join(f"{stack_cpu_ms(w['cpu']):.1f}" for w in every)
              + "; other work's share of the machine "
              + " ".join(f"{w['cpu']['foreign_share']:.0%}" for w in every))
    mem = figures["memory"]
    print(f"  Memory, VmRSS in MiB (a process with its children; samples every {RSS_EVERY_S:g} s):")
    print(f"  {'':<28} {'start':>8} {'at ' + format(mem['window_mark_at_s'], 'g') + ' s':>8} "
          f"{'end':>8} {'after ' + span:>10}")
    for name, fig in mem["processes"].items():
        label = name if len(fig["pids_at_end"]) == 1 else f"{name} ({len(fig['pids_at_end'])} processes)"
        print(f"  {label:<28} {fig['start_mib']:>8.1f} {fig['at_window_mib']:>8.1f} {fig['end_mib']:>8.1f} "
              f"{fig['growth_after_window']:>+10.1%}")
        if len(fig["per_pid_mib"]) > 1:
            for pid, per in fig["per_pid_mib"].items():
                print(f"    pid {pid:<22} {per['start']:>8.1f} {per['at_window']:>8.1f} {per['end']:>8.1f}")
        if fig["pids_at_start"] != fig["pids_at_end"]:
            print(f"    its processes changed: {fig['pids_at_start']} -> {fig['pids_at_end']}")
    if figures["errors"]:
        print("  Answers that were not 2xx/3xx, by status and path:")
        for key, group in sorted(figures["errors"].items(), key=lambda item: -item[1]["count"]):
            print(f"    {group['count']:>6}  {key}  "
                  f"(from {group['first_at_s']:g} s to {group['last_at_s']:g} s; "
                  f"{', '.join(group['kinds'])})")
            if group.get("words"):
                print(f"            {group['words']}")
    else:
        print("  Every answer was 2xx/3xx.")


def cells(figures: dict[str, Any] | None) -> str:
    if not figures:
        return f"{0:>7} {'-':>8} {'-':>8}"
    return f"{figures['count']:>7} {figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f}"
