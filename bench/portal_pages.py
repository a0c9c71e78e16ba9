"""Portal pages against the gateway's own floor; the read model's cold path, RPC cost and
freshness; how soon an ended session is refused; signature-to-PDF time; a soak of mixed
traffic; the pages in a workspace grown tenfold.

Run it with ``make bench`` (or ``.venv/bin/python bench/portal_pages.py --duration 10``).
It starts the whole stack (every service and both gateways) on a throwaway RabbitMQ
virtual host and free localhost ports, seeds the demo workspace (a live work-order share
link and a sent estimate), and runs five sections against it; then, on a stack of its own,
the growth section.

Portal pages: drives the SAME portal gateway process with ``wrk`` (16 connections,
2 threads, a short warm-up, then a measured run) at ``GET /healthz`` (calls no service),
the work-order page and the demo's sent estimate page — both served from the portal's read
model after their first view — and two signed-in pages of the demo's customer contact
(signed in with the emailed code; its cookie on every request): the dashboard and the work
orders section (``/portal/work-orders``), both served from memory once warm (who the session
signs in, and the customer's lists, kept current by identity's and documents' events).
Goals: each page >= 0.35x healthz's requests/s, p99 <= 30 ms.

Read model (``bench/portal_reads.py``): the first view of new links (filled by RPC); the
p50 of a no-op RPC through the gateways' AMQP client against a raw aio-pika request/reply
on the same broker (``bench/amqp_latency.py``); and freshness — after a staff edit or
revocation returns, how long until the portal shows it, polled as fast as one client can,
worst case over every trial (goal <= 100 ms).

Session freshness (``bench/session_freshness.py``): ``--session-trials`` (default 30; 0 skips
it) contacts each sign out everywhere from a second device, and as many lose their access to
staff (``remove-access``); each trial's session, signed in by password and held in the memory
of every portal process, is asked for ``GET /portal`` on each process until all refuse it —
p50/p99/worst from the change's answer until the last process refused (goal: worst <= 100 ms).

Signature to PDF (``bench/signature_pdf.py``): ``--pdf-batch`` (default 30) completed
service reports, made through the admin API, are signed one after another over HTTP like a
customer would; it prints the signing POST's own time and the time from that answer until
``GET /api/v1/service-reports/<id>/pdf`` answers 200 (polled every 50 ms): median, p95, max.

Soak (``bench/soak.py``): ``--soak-seconds`` (default 120; 0 skips it) of mixed traffic at
16 clients through both gateways — link pages, the signed-in dashboard, admin reads and a
trickle of writes — with every answer recorded: per stack process the RSS at the start,
after 20 s and at the end, p50/p99 of the first and the last 20 s, every answer that is not
2xx/3xx by status and path, and whether memory and latency stayed flat.

Growth (``bench/growth.py``): on a stack whose services share the local store
(``devtools.store_server``), the demo workspace grown to each of ``--growth``'s sizes (default
1,000 then 10,000 work orders over 1,000 customers; 0 skips it) by bulk inserts through the
services' models; at each size wrk measures the signed-in dashboard and work orders section
and the admin API's work-order list, first page and a deep page. Goal: the signed-in pages,
served from memory, keep at the largest size at least 1/1.5 of their requests/s at the smallest.

It prints one table of those figures, the CPU each process group spent per request, the
goals, the exact commands and the machine's facts; the same figures are written as JSON to
``bench/results/portal_pages-<UTC timestamp>.json``. A goal that is not met is reported,
not an error: the exit status is non-zero only when the benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import re
import resource
import runpy
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from amqp_latency import rpc_against_raw
from growth import GOAL_GROWTH_FACTOR, MAX_SIZE, run_growth
from growth import PAGES as GROWTH_PAGES
from growth import print_figures as print_growth_figures
from portal_reads import first_views, freshness, stop_sharing, summary
from session_freshness import print_figures as print_session_figures
from session_freshness import session_freshness as run_session_freshness
from signature_pdf import (
    WARMUP_PDF_TIMEOUT_S,
    StaffApi,
    create_reports,
    csrf_token,
    measure_batch,
    print_figures,
    sign_and_wait,
)
from soak import CONNECTIONS as SOAK_CONNECTIONS
from soak import FLAT_P99_FACTOR, FLAT_RSS_GROWTH, WINDOW_S, run_soak
from soak import print_figures as print_soak_figures

from devtools.broker import BrokerUnavailable, IsolatedVhost, ensure_broker
from devtools.demo import seed
from devtools.stack import ROOT, Stack
from gateway.portal.session import PLAIN_COOKIE as SESSION_COOKIE
from porchlight.client import AmqpClient
from porchlight.runtime.settings import get_settings

RESULTS = ROOT / "bench" / "results"
GUNICORN_CONF = ROOT / "gateway" / "gunicorn_conf.py"

# Goals for the portal pages at 16 connections.
GOAL_MIN_RATIO = 0.35
GOAL_MAX_PAGE_P99_MS = 30.0
# After a staff call returns, the portal shows the change within this (worst trial).
GOAL_FRESHNESS_MS = 100.0
# Above this share of the machine's CPU used by other work, a run's figures are flagged.
FOREIGN_WARN_SHARE = 0.10
# A run where one portal worker did more than this share of the portal's work is measured
# again, up to BALANCE_ATTEMPTS runs in all (see ``measure``); a worker's seconds are
# snapshot under WORKER_KEY + its pid, and below MIN_WORKER_SECONDS the spread says nothing.
MAX_WORKER_SHARE = 0.75
BALANCE_ATTEMPTS = 3
WORKER_KEY = "_portal_worker:"
MIN_WORKER_SECONDS = 0.5
# The admin API's work-order list in the growth section: every page is a query of the store,
# hundreds of milliseconds at 10,000 work orders in the embedded one, which runs one command
# at a time; at 16 connections the requests would queue past wrk's timeout.
ADMIN_LIST_CONNECTIONS = 4
ADMIN_LIST_TIMEOUT_S = 30.0


class BenchError(RuntimeError):
    """The benchmark could not run or its measurement is invalid."""


# -- targets and goals ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One URL path on the portal gateway. ``path`` may hold ``{token}``,
    ``{estimate_token}`` and ``{project_id}``, filled with the seeded work-order share token,
    the seeded sent estimate's token and the seeded shared project's id; ``signed_in``:
    asked with the demo contact's session cookie."""

    name: str
    path: str
    signed_in: bool = False


# The first target is the baseline the others are compared with.
BASELINE = Target("healthz", "/healthz")
TARGETS: list[Target] = [
    BASELINE,
    Target("work_order_page", "/portal/fsm/{token}"),
    Target("estimate_page", "/portal/fsm/estimate/{estimate_token}"),
    Target("dashboard_signed_in", "/portal", signed_in=True),
    Target("work_orders_signed_in", "/portal/work-orders", signed_in=True),
    Target("project_signed_in", "/portal/projects/{project_id}", signed_in=True),
]
# Every target but the baseline is a portal page, held to the goals.
PAGES = [t for t in TARGETS if t is not BASELINE]


@dataclass(frozen=True)
class Goal:
    name: str
    met: bool
    detail: str


# -- wrk ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkSettings:
    connections: int = 16
    threads: int = 2
    warmup: float = 3.0
    duration: float = 10.0
    timeout: float = 5.0

    def command(self, wrk: str, url: str, duration: float,
                headers: dict[str, str] | None = None) -> list[str]:
        sent = [option for name, value in (headers or {}).items() for option in ("-H", f"{name}: {value}")]
        return [
            wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{duration:g}s",
            f"--timeout={self.timeout:g}s", "--latency", *sent, url,
        ]


def find_wrk() -> str:
    """The ``wrk`` binary; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() == 0 and apt:
        print("wrk is not installed; installing it with apt-get …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt, "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, check=False).returncode != 0:
            subprocess.run([apt, "update", "-q"], env=env, check=False)
            subprocess.run(install, env=env, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError(
        "the load generator `wrk` is not installed and could not be installed here. "
        "Install it (Debian/Ubuntu, as root: apt-get install -y wrk) and run again."
    )


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([0-9.]+)(us|ms|s|m|h)"


def to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50 and p99 (ms), request count and error counts from ``wrk --latency``."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"cannot find {pattern!r} in wrk's output:\n{output}")
        return match

    p50 = find(rf"^\s*50(?:\.0+)?%\s+{_DURATION}\s*$")
    p99 = find(rf"^\s*99(?:\.0+)?%\s+{_DURATION}\s*$")
    total = find(r"^\s*(\d+) requests in " + _DURATION)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": float(find(r"^Requests/sec:\s+([0-9.]+)")[1]),
        "p50_ms": to_ms(p50[1], p50[2]),
        "p99_ms": to_ms(p99[1], p99[2]),
        "requests": int(total[1]),
        "elapsed_s": to_ms(total[2], total[3]) / 1000,
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": (
            dict(zip(("connect", "read", "write", "timeout"),
                     (int(n) for n in socket_errors.groups()), strict=True))
            if socket_errors else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        ),
    }


def run_wrk(command: list[str]) -> dict[str, Any]:
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"{shlex.join(command)} failed ({proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}")
    result = parse_wrk(proc.stdout)
    if result["non_2xx"]:
        raise BenchError(
            f"{result['non_2xx']} of {result['requests']} responses were not 2xx/3xx "
            f"during `{shlex.join(command)}`; the figures would be meaningless. "
            f"wrk said:\n{proc.stdout}"
        )
    if any(result["socket_errors"].values()):
        raise BenchError(f"socket errors {result['socket_errors']} during "
                         f"`{shlex.join(command)}`:\n{proc.stdout}")
    return result


def measure(url: str, settings: WrkSettings | None = None, wrk: str | None = None,
            meter: CpuMeter | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Warm ``url`` up, then measure it (with ``headers`` on every request); the figures of
    the measured run and its command (a cookie's value left out), and where the CPU went
    during it when a ``meter`` is given."""
    settings = settings or WrkSettings()
    wrk = wrk or find_wrk()
    command = settings.command(wrk, url, settings.duration, headers)
    shown = settings.command(wrk, url, settings.duration, {k: "…" for k in headers or {}})
    # wrk keeps its connections open, and the kernel hands each to whichever portal worker
    # accepts first: when nearly all land on one worker the run measures half the gateway.
    # Such a run is measured again (new connections, a new spread), a few times at most.
    for attempt in range(1, BALANCE_ATTEMPTS + 1):
        run_wrk(settings.command(wrk, url, settings.warmup, headers))
        before = meter.snapshot() if meter else None
        result = {**run_wrk(command), "command": shlex.join(shown), "attempts": attempt}
        if not (meter and before):
            return result
        result["cpu"] = meter.usage(before, meter.snapshot(), result["requests"])
        shares = result["cpu"]["portal_worker_shares"]
        if len(shares) < 2 or shares[0] <= MAX_WORKER_SHARE:
            break
    return result


# -- CPU accounting (Linux /proc) -----------------------------------------------------


class CpuMeter:
    """CPU seconds used by each stack process group, the broker, wrk, this script and
    everything else on the machine between two snapshots. On a small shared machine, work that is not
    ours skews every figure; ``foreign_share`` says how much of it there was. Each portal
    worker's own seconds are kept too, to tell how evenly a run's connections fell on them."""

    def __init__(self, stack: Stack) -> None:
        self.portal = stack.processes["portal"].pid if "portal" in stack.processes else None
        self.leaders = {proc.pid: name for name, proc in stack.processes.items()}
        if stack.store is not None:  # the local store the services share, when it runs
            self.leaders[stack.store.pid] = "store"
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def available() -> bool:
        return Path("/proc/stat").exists()

    def snapshot(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # the process ended meanwhile
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            session, ticks = int(fields[3]), int(fields[11]) + int(fields[12])
            name = self.leaders.get(session) or ("broker" if comm == "beam.smp" else None)
            if name:
                seconds[name] = seconds.get(name, 0.0) + ticks / self.tick
            if session == self.portal and int(entry.name) != self.portal:  # a worker, not the arbiter
                seconds[f"{WORKER_KEY}{entry.name}"] = ticks / self.tick
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once waited for
        seconds["wrk"] = children.ru_utime + children.ru_stime
        own = resource.getrusage(resource.RUSAGE_SELF)  # this script's own HTTP clients
        seconds["bench"] = own.ru_utime + own.ru_stime
        # user nice system idle iowait irq softirq steal: loopback traffic shows up as
        # softirq time, which no process is charged with; steal is the hypervisor's.
        cpu = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        seconds["_busy"] = (sum(cpu) - cpu[3] - cpu[4]) / self.tick
        seconds["_kernel"] = (cpu[5] + cpu[6] + cpu[7]) / self.tick
        seconds["_wall"] = time.monotonic()
        return seconds

    def usage(self, before: dict[str, float], after: dict[str, float],
              requests_done: int) -> dict[str, Any]:
        used = {name: round(after[name] - before.get(name, 0.0), 3)
                for name in after if not name.startswith("_")}
        busy = after["_busy"] - before["_busy"]
        kernel = after["_kernel"] - before["_kernel"]
        capacity = (after["_wall"] - before["_wall"]) * (os.cpu_count() or 1)
        foreign = max(0.0, busy - kernel - sum(used.values()))
        workers = [after[key] - before.get(key, 0.0) for key in after if key.startswith(WORKER_KEY)]
        spent = sum(workers)
        return {
            # Each portal worker's part of the portal's CPU, largest first (none when the
            # portal was hardly asked anything, as in an admin API run).
            "portal_worker_shares": sorted((round(w / spent, 2) for w in workers), reverse=True)
            if spent >= MIN_WORKER_SECONDS else [],
            "seconds": used,
            "ms_per_request": {name: round(1000 * value / max(requests_done, 1), 3)
                               for name, value in used.items()},
            "machine_busy_share": round(busy / capacity, 3),
            "kernel_irq_share": round(kernel / capacity, 3),
            "foreign_share": round(foreign / capacity, 3),
        }


def check_answers(url: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
    response = requests.get(url, timeout=10, headers=headers, allow_redirects=False)
    if response.status_code != status:
        raise BenchError(f"GET {url} answered {response.status_code}, expected {status}; "
                         "nothing measured")


# -- the stack ------------------------------------------------------------------------


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def gateway_settings(stack: Stack) -> dict[str, Any]:
    """What gunicorn runs the portal with: gunicorn_conf.py and the settings, read with
    the Stack's environment."""
    _cmd, env = stack.command("portal")
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        get_settings.cache_clear()
        conf = runpy.run_path(str(GUNICORN_CONF))
        settings = get_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    return {
        "workers": conf["workers"],
        "worker_class": conf["worker_class"],
        "threads": conf["threads"],
        "log_level": settings.log_level.lower(),
    }


@contextlib.contextmanager
def running_stack(gateway_workers: int | None, log_dir: Path,
                  shared_store: bool | None = None) -> Iterator[Stack]:
    """A whole stack on its own vhost and free ports, stopped however the block ends;
    ``shared_store``: the services share the local store (``Stack.shared_store``)."""
    ensure_broker(get_settings().amqp_uri)
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        portal_port, admin_port = free_ports(2)
        options: dict[str, Any] = {}
        if gateway_workers is not None:
            options["gateway_workers"] = gateway_workers
        stack = Stack(amqp_uri=uri, portal_port=portal_port, admin_port=admin_port,
                      log_dir=log_dir, shared_store=shared_store, **options)
        try:
            print(f"Starting the stack (logs in {log_dir}) …", flush=True)
            stack.start()
            yield stack
        finally:
            stack.stop()


def seed_demo(stack: Stack) -> dict[str, Any]:
    """The demo workspace, exactly as ``make run`` seeds it (a sent estimate included)."""
    client = AmqpClient(stack.amqp_uri, timeout=10, name="bench")
    try:
        return seed(client, stack.admin_url)
    finally:
        client.close()


def token_in(url: str, prefix: str) -> str:
    path = urlsplit(url).path
    if not path.startswith(prefix):
        raise BenchError(f"unexpected portal link path {path!r} (expected {prefix}…)")
    return path[len(prefix):]


def portal_tokens(demo: dict[str, Any]) -> dict[str, str]:
    """What the targets' ``{token}``, ``{estimate_token}`` and ``{project_id}`` stand for."""
    return {
        "token": token_in(demo["links"][0]["url"], "/portal/fsm/"),
        "estimate_token": token_in(demo["estimate_url"], "/portal/fsm/estimate/"),
        "project_id": demo["project"]["id"],
    }


def signed_in_session(stack: Stack, demo: dict[str, Any], within: float = 30.0) -> str:
    """The demo contact's browser cookies once signed in — as a ``Cookie`` header: the
    session, and the one holding the form token the pages' forms carry, which a browser
    keeps from page to page — signed in as a customer would once staff invited them (the
    demo leaves that to the newcomer): the address on the sign-in page, the six-digit code
    from the email the local mail server kept."""
    if stack.mail is None:
        raise BenchError("the signed-in page needs the stack's local mail server (unset "
                         "PORCHLIGHT_SMTP_URL) to read the sign-in code; nothing measured")
    email = demo["contact"]["email"]
    already = len(stack.mail.messages)
    contact = demo["contact"]
    invited = requests.post(
        f"{stack.admin_url}/api/v1/customers/{contact['customer_id']}/contacts/{contact['id']}/invite",
        headers={"Authorization": f"Bearer {demo['api_key']}"}, timeout=10)
    if invited.status_code != 200:
        raise BenchError(f"inviting the demo contact answered {invited.status_code}; nothing measured")
    browser = requests.Session()
    form = browser.get(f"{stack.portal_url}/portal/sign-in", timeout=10)
    sent = browser.post(f"{stack.portal_url}/portal/sign-in",
                        data={"csrf_token": csrf_token(form.text, "the sign-in page"), "email": email},
                        timeout=10)
    deadline = time.monotonic() + within
    # The demo's own emails to the same address may arrive meanwhile: a code's (the
    # invitation's or the sign-in's, either signs in) is one with a line of six digits.
    while not (code := sign_in_code(stack.mail.messages[already:], email)):
        if time.monotonic() > deadline:
            raise BenchError(f"no sign-in code reached {email} within {within:g}s; nothing measured")
        time.sleep(0.1)
    signed = browser.post(f"{stack.portal_url}/portal/sign-in/code", data={
        "csrf_token": csrf_token(sent.text, "the code page"), "email": email, "code": code},
        timeout=10, allow_redirects=False)
    if signed.status_code != 303 or SESSION_COOKIE not in signed.cookies:
        raise BenchError(f"signing the demo contact in answered {signed.status_code}; nothing measured")
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def sign_in_code(messages: list[Any], email: str) -> str | None:
    for message in messages:
        if email in message["To"]:
            text = message.get_body(preferencelist=("plain",)).get_content()
            if found := re.search(r"^(\d{6})\s*$", text, re.MULTILINE):
                return found.group(1)
    return None


# -- sections -------------------------------------------------------------------------


@dataclass
class SectionResult:
    name: str
    figures: dict[str, Any]
    goals: list[Goal] = field(default_factory=list)


@dataclass
class Bench:
    """What every section gets: the running stack, the options, wrk, the seeded demo
    workspace and, on Linux, the CPU meter."""

    stack: Stack
    args: argparse.Namespace
    wrk: str
    demo: dict[str, Any]
    meter: CpuMeter | None
    session: str | None = None  # the demo contact's cookies, once signed in

    @classmethod
    def on(cls, stack: Stack, args: argparse.Namespace, wrk: str) -> Bench:
        """The stack with the demo workspace seeded, and its CPU meter where there is one."""
        return cls(stack, args, wrk, seed_demo(stack), CpuMeter(stack) if CpuMeter.available() else None)

    def cookie(self) -> dict[str, str]:
        """The demo contact's ``Cookie`` header, signed in once per run: a second sign-in
        would cost another invitation and code."""
        if self.session is None:
            self.session = signed_in_session(self.stack, self.demo)
        return {"Cookie": self.session}

    def check_alive(self) -> None:
        if self.stack.dead():
            raise BenchError(f"{', '.join(self.stack.dead())} died during the run; "
                             f"see {self.stack.log_dir}")


Section = Callable[[Bench], SectionResult]


def portal_pages(bench: Bench) -> SectionResult:
    stack, args = bench.stack, bench.args
    tokens = portal_tokens(bench.demo)
    settings = WrkSettings(duration=args.duration, warmup=args.warmup)
    urls = {t.name: stack.portal_url + t.path.format(**tokens) for t in TARGETS}
    cookie = bench.cookie()
    headers = {t.name: cookie if t.signed_in else None for t in TARGETS}
    for target in TARGETS:
        check_answers(urls[target.name], headers=headers[target.name])
    targets: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        print(f"Measuring {target.name}: {settings.warmup:g}s warm-up, "
              f"{settings.duration:g}s measured …", flush=True)
        figures = measure(urls[target.name], settings, bench.wrk, bench.meter, headers[target.name])
        targets[target.name] = {"path": target.path, **figures}
        bench.check_alive()
    base = targets[BASELINE.name]["requests_per_s"]
    ratios = {t.name: targets[t.name]["requests_per_s"] / base if base else 0.0 for t in PAGES}
    goals = []
    for target in PAGES:
        page, ratio = targets[target.name], ratios[target.name]
        goals += [
            Goal(f"{target.name}/healthz req/s ratio", ratio >= GOAL_MIN_RATIO,
                 f"{ratio:.3f} (goal >= {GOAL_MIN_RATIO:.2f})"),
            Goal(f"{target.name} p99 latency", page["p99_ms"] <= GOAL_MAX_PAGE_P99_MS,
                 f"{page['p99_ms']:.1f} ms (goal <= {GOAL_MAX_PAGE_P99_MS:g} ms "
                 f"at {settings.connections} connections)"),
        ]
    return SectionResult("portal_pages", {
        "wrk": asdict(settings),
        "targets": targets,
        "ratios_to_healthz": ratios,
        "ratio_page_to_healthz": ratios["work_order_page"],  # as in earlier results
    }, goals)


def read_model(bench: Bench) -> SectionResult:
    """The cold first view, the gateway's RPC against raw AMQP, and freshness."""
    args = bench.args
    api = StaffApi(bench.stack.admin_url, bench.demo["api_key"])
    customer_id = bench.demo["customer"]["id"]
    try:
        print(f"First views: {args.first_views} new links, each opened once …", flush=True)
        cold = first_views(api, customer_id, args.first_views)
        print(f"RPC: {args.rpc_calls} no-op calls through the gateway's client and as raw "
              "AMQP request/reply …", flush=True)
        rpc = {way: summary(timings) for way, timings in
               rpc_against_raw(bench.stack.amqp_uri, args.rpc_calls).items()}
        print(f"Freshness: {args.freshness_trials} edits and {args.freshness_trials} "
              "revocations, the portal polled until it shows each …", flush=True)
        fresh = freshness(api, customer_id, args.freshness_trials)
        print(f"Stop sharing: {args.freshness_trials} projects shared, viewed signed in, then their "
              "share stopped, the portal polled until it answers 404 …", flush=True)
        fresh["stop_sharing"] = stop_sharing(api, bench.stack.portal_url, bench.cookie()["Cookie"],
                                             customer_id, args.freshness_trials)
        fresh["worst_ms"] = max(fresh["worst_ms"], fresh["stop_sharing"]["max_ms"])
        fresh["trials"] += fresh["stop_sharing"]["count"]
        bench.check_alive()
    finally:
        api.close()
    goals = [Goal("freshness worst case", fresh["worst_ms"] <= GOAL_FRESHNESS_MS,
                  f"{fresh['worst_ms']:.1f} ms over {fresh['trials']} trials "
                  f"(goal <= {GOAL_FRESHNESS_MS:g} ms)")]
    return SectionResult("read_model", {"first_view": cold, "rpc": rpc, "freshness": fresh}, goals)


def session_freshness(bench: Bench) -> SectionResult:
    """How soon a session that ended is refused by every portal process; see
    bench/session_freshness.py."""
    trials = bench.args.session_trials
    if not trials:
        return SectionResult("session_freshness", {"skipped": "--session-trials 0"})
    api = StaffApi(bench.stack.admin_url, bench.demo["api_key"])
    try:
        print(f"Session freshness: {trials} contacts sign out everywhere and {trials} lose their "
              "access; each session polled on every portal process until refused …", flush=True)
        figures = run_session_freshness(api, bench.stack.portal_url, bench.stack.processes["portal"].pid,
                                        trials, progress=lambda line: print(line, flush=True))
        bench.check_alive()
    finally:
        api.close()
    goals = [Goal(f"session refused after {label}, worst case", figures[kind]["max_ms"] <= GOAL_FRESHNESS_MS,
                  f"{figures[kind]['max_ms']:.1f} ms over {trials} trials, until every one of the portal's "
                  f"{figures['processes']} processes refused (goal <= {GOAL_FRESHNESS_MS:g} ms)")
             for kind, label in SESSION_KINDS]
    return SectionResult("session_freshness", figures, goals)


SESSION_KINDS = (("sign_out_everywhere", "sign-out everywhere"), ("remove_access", "access removed"))


def signature_to_pdf(bench: Bench) -> SectionResult:
    """Sign ``--pdf-batch`` reports one after another; see bench/signature_pdf.py."""
    count = bench.args.pdf_batch
    api = StaffApi(bench.stack.admin_url, bench.demo["api_key"])
    try:
        print(f"Signature to PDF: creating {count} + 1 completed service reports …", flush=True)
        warmup, *reports = create_reports(api, bench.demo["customer"]["id"], count + 1)
        # The first render also waits for the Celery worker to be up and to import its
        # PDF code; like wrk's warm-up run, it is not counted.
        print("  warm-up: signing one report and waiting for its PDF …", flush=True)
        warm = sign_and_wait(api, warmup, timeout=WARMUP_PDF_TIMEOUT_S)
        print(f"  signing {count} reports sequentially, polling each PDF every 50 ms …", flush=True)
        before = bench.meter.snapshot() if bench.meter else None
        figures = measure_batch(api, reports, progress=lambda line: print(line, flush=True))
        if bench.meter and before:
            figures["cpu"] = bench.meter.usage(before, bench.meter.snapshot(), count)
        bench.check_alive()
    finally:
        api.close()
    return SectionResult("signature_to_pdf", {**figures, "warmup": warm})


def soak(bench: Bench) -> SectionResult:
    """``--soak-seconds`` of mixed traffic; see bench/soak.py. Its flatness and errors are
    reported as goals: facts measured, like every goal here, not a test."""
    seconds = bench.args.soak_seconds
    if not seconds:
        return SectionResult("soak", {"skipped": "--soak-seconds 0"})
    stack = bench.stack
    contact = bench.cookie()
    leaders = {name: proc.pid for name, proc in stack.processes.items()}
    print(f"Soak: {seconds:g}s of mixed traffic at {SOAK_CONNECTIONS} clients through both "
          "gateways …", flush=True)
    figures = run_soak(stack.portal_url, stack.admin_url, bench.demo, contact, leaders, seconds,
                       bench.meter, progress=lambda line: print(line, flush=True))
    bench.check_alive()
    facts = figures["verdict"]
    first, last = figures["first"], figures["last"]
    busy = (f"; other work used {first['cpu']['foreign_share']:.0%} of the machine in the first, "
            f"{last['cpu']['foreign_share']:.0%} in the last" if "cpu" in first and "cpu" in last else "")
    largest = facts["largest_growth"]
    goals = [
        Goal("soak latency flat", facts["latency_flat"],
             f"last {WINDOW_S:g} s p99 {last['all']['p99_ms']:.1f} ms = "
             f"{facts['p99_ratio_last_to_first']:.2f}x the first {WINDOW_S:g} s's "
             f"{first['all']['p99_ms']:.1f} ms (flat: <= {FLAT_P99_FACTOR:g}x){busy}"),
        Goal("soak memory flat", facts["memory_flat"],
             f"largest RSS growth after {WINDOW_S:g} s: {largest['process']} {largest['growth']:+.1%} "
             f"(flat: every process <= {FLAT_RSS_GROWTH:+.0%})"
             + "".join(f"; {name} {growth:+.1%}" for name, growth in facts["grew_more_than_bound"].items())),
        Goal("soak without errors", not facts["errors"],
             f"{facts['errors']} of {figures['answers']} answers not 2xx/3xx"),
    ]
    return SectionResult("soak", figures, goals)


def growth(bench: Bench) -> SectionResult:
    """The demo workspace grown to each of ``--growth``'s sizes; see bench/growth.py. Its
    stack's services share the local store, which it seeds (``grown``)."""
    args, stack = bench.args, bench.stack
    if stack.store_uri is None:
        raise BenchError("the growth section needs a stack whose services share the local store")
    pages = WrkSettings(duration=args.duration, warmup=args.warmup)
    lists = replace(pages, connections=ADMIN_LIST_CONNECTIONS, timeout=ADMIN_LIST_TIMEOUT_S)

    def measured(url: str, headers: dict[str, str], admin: bool) -> dict[str, Any]:
        figures = measure(url, lists if admin else pages, bench.wrk, bench.meter, headers)
        bench.check_alive()
        return figures

    cookie = bench.cookie()
    figures = run_growth(stack.portal_url, stack.admin_url, stack.store_uri, bench.demo, cookie, args.growth,
                         measured, progress=lambda line: print(line, flush=True))
    figures["wrk"] = {"pages": asdict(pages), "admin_lists": asdict(lists)}
    smallest, largest = args.growth[0], args.growth[-1]
    goals = [Goal(f"{name} growth {smallest:,} -> {largest:,} work orders",
                  ratio >= 1 / GOAL_GROWTH_FACTOR,
                  f"req/s at {largest:,} = {ratio:.3f}x its req/s at {smallest:,} "
                  f"(goal >= {1 / GOAL_GROWTH_FACTOR:.3f}x: growth costs at most {GOAL_GROWTH_FACTOR:g}x)")
             for name in GROWTH_PAGES if len(args.growth) > 1
             for ratio in [figures["ratio_largest_to_smallest"][name]]]
    return SectionResult("growth", figures, goals)


def grown(args: argparse.Namespace, wrk: str, log_dir: Path) -> SectionResult:
    """The growth section on a stack of its own, whose services share the local store
    (``devtools.store_server``) so that this process can seed their databases; the other
    sections' stack keeps each service's store in its own process."""
    if not args.growth:
        return SectionResult("growth", {"skipped": "--growth 0"})
    with running_stack(args.gateway_workers, log_dir, shared_store=True) as stack:
        return growth(Bench.on(stack, args, wrk))


# -- report ---------------------------------------------------------------------------


def machine_facts(stack: Stack, wrk: str) -> dict[str, Any]:
    version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": (version.stdout + version.stderr).strip().splitlines()[0:1],
        "gateway": gateway_settings(stack),
    }


def load_average() -> list[float]:
    """The load averages before the run; other work on the machine skews every figure,
    so a busy machine is called out."""
    load = [round(x, 2) for x in os.getloadavg()]
    cpus = os.cpu_count() or 1
    if load[0] > 0.5 * cpus:
        print(f"warning: load average {load[0]:.2f} on {cpus} CPUs before the run; "
              "other work on this machine will skew the figures", file=sys.stderr, flush=True)
    return load


def print_table(results: dict[str, SectionResult]) -> None:
    """The one table: pages against healthz, the cold view, RPC against raw AMQP, freshness,
    ended sessions refused, the soak's first and last windows."""
    pages = results["portal_pages"].figures
    print()
    print(f"{'':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'/healthz':>9}")
    for name, fig in pages["targets"].items():
        ratio = pages["ratios_to_healthz"].get(name, 1.0)
        print(f"{name + ' (16 connections)':<40} {fig['requests_per_s']:>9.1f} {fig['p50_ms']:>8.2f} "
              f"{fig['p99_ms']:>8.2f} {'':>8} {ratio:>9.3f}")
    reads = results.get("read_model")
    if reads:
        rows = [("first view of a new link", reads.figures["first_view"]),
                ("RPC no-op, gateway client", reads.figures["rpc"]["client"]),
                ("request/reply, raw AMQP", reads.figures["rpc"]["raw"]),
                ("freshness after an edit", reads.figures["freshness"]["edit"]),
                ("freshness after a revocation", reads.figures["freshness"]["revocation"]),
                ("freshness after stopping a share", reads.figures["freshness"]["stop_sharing"])]
        sessions = results.get("session_freshness")
        if sessions and not sessions.figures.get("skipped"):
            rows += [(f"{label} → refused", sessions.figures[kind]) for kind, label in SESSION_KINDS]
        for name, fig in rows:
            print(f"{name:<40} {'':>9} {fig['p50_ms']:>8.2f} {fig['p99_ms']:>8.2f} "
                  f"{fig['max_ms']:>8.2f}")
    soaked = results.get("soak")
    if soaked and not soaked.figures.get("skipped"):
        for which in ("first", "last"):
            window = soaked.figures[which]
            fig = window["all"]
            print(f"{f'soak, {which} {WINDOW_S:g} s (mixed)':<40} {window['requests_per_s']:>9.1f} "
                  f"{fig['p50_ms']:>8.2f} {fig['p99_ms']:>8.2f} {fig['max_ms']:>8.2f}")


def print_portal_pages(result: SectionResult) -> None:
    targets = result.figures["targets"]
    print()
    print("CPU per request during the measured runs (ms, by process group):")
    for name, fig in targets.items():
        if fig.get("cpu"):
            print_cpu(name, fig["cpu"])
    print_goals(result)
    print()
    print("Commands (measured runs; each after a warm-up run of the same settings):")
    for fig in targets.values():
        print(f"  {fig['command']}")


def print_read_model(result: SectionResult) -> None:
    fig = result.figures
    print()
    print(f"First views: {fig['first_view']['count']} links; RPC: {fig['rpc']['client']['count']} "
          f"calls each way; freshness: {fig['freshness']['trials']} trials, each timed from the "
          "staff call's answer to the first page that shows the change.")
    print_goals(result)


def print_cpu(name: str, cpu: dict[str, Any]) -> None:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in cpu["ms_per_request"].items() if v >= 0.01)
    spread = cpu.get("portal_worker_shares") or []
    split = f"; portal workers {'/'.join(f'{s:.0%}' for s in spread)}" if len(spread) > 1 else ""
    print(f"  {name:<16} {parts}; machine busy {cpu['machine_busy_share']:.0%} "
          f"(interrupts {cpu['kernel_irq_share']:.0%}, other work {cpu['foreign_share']:.0%}){split}")
    if cpu["foreign_share"] > FOREIGN_WARN_SHARE:
        print(f"  warning: other work on this machine used {cpu['foreign_share']:.0%} of "
              f"the CPU during the {name} run; its figures are skewed", file=sys.stderr)


def skipped(result: SectionResult, title: str) -> bool:
    """Whether the section was skipped (its figures name the option that did it); says so."""
    if not result.figures.get("skipped"):
        return False
    print()
    print(f"{title}: skipped ({result.figures['skipped']}).")
    return True


def print_session_freshness(result: SectionResult) -> None:
    if skipped(result, "Session freshness"):
        return
    print_session_figures(result.figures)
    print_goals(result)


def print_growth(result: SectionResult) -> None:
    if skipped(result, "Growth"):
        return
    print_growth_figures(result.figures)
    print("  CPU per request during the measured runs (ms, by process group):")
    for stage in result.figures["stages"]:
        for name, fig in stage["targets"].items():
            if fig.get("cpu"):
                print_cpu(f"{name} at {stage['size']:,}", fig["cpu"])
    print_goals(result)
    print("  Commands (the last size's; the first page and deep page at "
          f"{ADMIN_LIST_CONNECTIONS} connections):")
    for fig in result.figures["stages"][-1]["targets"].values():
        print(f"    {fig['command']}")


def print_signature_to_pdf(result: SectionResult) -> None:
    print_figures(result.figures)
    if result.figures.get("cpu"):
        print("  CPU per signed report (ms, by process group), from the first signature to the "
              "last PDF:")
        print_cpu("signature_to_pdf", result.figures["cpu"])


def print_soak(result: SectionResult) -> None:
    if skipped(result, "Soak"):
        return
    print_soak_figures(result.figures)
    if result.figures.get("cpu"):
        print("  CPU per answer during the soak (ms, by process group):")
        print_cpu("soak", result.figures["cpu"])
    print_goals(result)


def print_goals(result: SectionResult) -> None:
    for goal in result.goals:
        print(f"  goal {goal.name}: {goal.detail} — {'met' if goal.met else 'NOT met'}")


def print_machine(machine: dict[str, Any], invocation: str) -> None:
    gw = machine["gateway"]
    print()
    print(f"Run as: {invocation}")
    print(f"Machine: nproc={machine['nproc']}, Python {machine['python']}, "
          f"{machine['platform']}, {' '.join(machine['wrk'])}")
    print(f"Load average at start: {machine['load_average_at_start']}")
    print(f"Portal gateway: gunicorn {gw['worker_class']}, workers={gw['workers']}, "
          f"threads={gw['threads']}, one AMQP connection/worker, "
          f"log level {gw['log_level']}; services, broker and wrk share the same machine")


# A later section is one more (run, print) pair here; they share one stack. The growth
# section (``grown``, printed by ``print_growth``) runs after them, on a stack of its own.
SECTIONS: list[tuple[Section, Callable[[SectionResult], None]]] = [
    (portal_pages, print_portal_pages),
    (read_model, print_read_model),
    (session_freshness, print_session_freshness),
    (signature_to_pdf, print_signature_to_pdf),
    (soak, print_soak),
]


def write_json(stamp: str, invocation: str, machine: dict[str, Any],
               sections: list[SectionResult]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"portal_pages-{stamp}.json"
    payload = {
        "timestamp": stamp,
        "invocation": invocation,
        "machine": machine,
        "sections": {
            s.name: {**s.figures, "goals": [asdict(g) for g in s.goals]} for s in sections
        },
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of each measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of the warm-up run before each (default 3)")
    parser.add_argument("--gateway-workers", type=int, default=None,
                        help="gunicorn workers of the gateways (default: the Stack's)")
    parser.add_argument("--first-views", type=int, default=30,
                        help="new links opened once each, for the cold first view (default 30)")
    parser.add_argument("--rpc-calls", type=int, default=500,
                        help="no-op RPC calls and raw AMQP round trips, each (default 500)")
    parser.add_argument("--freshness-trials", type=int, default=30,
                        help="edits, and as many revocations, polled until the portal shows "
                             "them (default 30)")
    parser.add_argument("--pdf-batch", type=int, default=30,
                        help="service reports signed, one after another, in the signature-to-PDF "
                             "section (default 30)")
    parser.add_argument("--soak-seconds", type=float, default=120.0,
                        help=f"seconds of mixed traffic at {SOAK_CONNECTIONS} clients in the soak "
                             f"section; 0 skips it, else at least {2 * WINDOW_S:g} (default 120)")
    parser.add_argument("--session-trials", type=int, default=30,
                        help="contacts who sign out everywhere, and as many whose access staff "
                             "remove, each session polled on every portal process until refused; "
                             "0 skips it (default 30)")
    parser.add_argument("--growth", type=growth_sizes, default="1000,10000",
                        help="work orders the demo workspace is grown to, in turn, in the growth "
                             f"section (at most {MAX_SIZE:,}); 0 skips it (default 1000,10000)")
    args = parser.parse_args(argv)
    if args.session_trials < 0:
        parser.error("--session-trials must be 0 (none) or more")
    if args.duration <= 0 or args.warmup <= 0:
        parser.error("--duration and --warmup must be positive")
    if args.gateway_workers is not None and args.gateway_workers < 1:
        parser.error("--gateway-workers must be at least 1")
    if args.soak_seconds and args.soak_seconds < 2 * WINDOW_S:
        parser.error(f"--soak-seconds must be 0 (no soak) or at least {2 * WINDOW_S:g}: its first and "
                     f"last {WINDOW_S:g} s are compared")
    if min(args.pdf_batch, args.first_views, args.rpc_calls, args.freshness_trials) < 1:
        parser.error("--pdf-batch, --first-views, --rpc-calls and --freshness-trials must be "
                     "at least 1")
    return args


def growth_sizes(text: str) -> list[int]:
    """``--growth``: increasing sizes, "1000,10000"; "0": none."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("sizes are whole numbers separated by commas, e.g. 1000,10000") \
            from None
    if sizes == [0]:
        return []
    if min(sizes) < 1 or sizes != sorted(set(sizes)):
        raise argparse.ArgumentTypeError("sizes must be positive and increasing, e.g. 1000,10000")
    if sizes[-1] > MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_SIZE:,} work orders: the embedded store checks the unique number index against "
            "every work order at each insert, so seeding grows with the square of the size")
    return sizes


def _terminate(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # py-amqp warns about publish confirms that arrive while a probe's channel closes.
    logging.getLogger("amqp").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _terminate)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        wrk = find_wrk()
        load = load_average()
        with running_stack(args.gateway_workers, RESULTS / "logs" / stamp) as stack:
            machine = {**machine_facts(stack, wrk), "load_average_at_start": load}
            started = time.monotonic()
            bench = Bench.on(stack, args, wrk)
            sections = [run(bench) for run, _print in SECTIONS]
        sections.append(grown(args, wrk, RESULTS / "logs" / f"{stamp}-growth"))
        elapsed = time.monotonic() - started
        print_table({result.name: result for result in sections})
        printers = [show for _run, show in SECTIONS] + [print_growth]
        for result, show in zip(sections, printers, strict=True):
            show(result)
        invocation = shlex.join([sys.executable, sys.argv[0], *argv])
        print_machine(machine, invocation)
        path = write_json(stamp, invocation, machine, sections)
        print(f"Benchmark took {elapsed:.0f}s. Figures written to {path.relative_to(ROOT)}")
        return 0
    except (BenchError, BrokerUnavailable, RuntimeError, requests.RequestException,
            subprocess.CalledProcessError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
