"""The broker goes away, for everyone or for one service, under load: every request is
answered, and the stack comes back by itself.

Each scenario runs a stack of its own (``own_stack``) whose processes reach RabbitMQ
through a fault-injecting TCP proxy (``tests/faults/proxy.py``); the test's own clients
(the CLI that makes a workspace) go straight to the broker.

- **RabbitMQ gone for 5 s under mixed load.** Every process connects through the proxy.
  Five threads keep sending one kind of request each — a work order's link page, a
  sign-in, a work order created by staff, an estimate accepted through the portal's form,
  a report signed — when the proxy closes every connection and refuses new ones for 5 s.
  Guaranteed: every request is answered, its success or a 503 within the gateway's RPC
  timeout; within 5 s of the broker's return every kind of request succeeds again, with
  no process restarted; every write that was acknowledged (201 create, 303 accept, 303
  signature) is there exactly once afterwards.
- **500 ms of latency, then a 10 s partition, between documents and the broker.** Only
  ``documents`` is restarted to connect through the proxy. With 500 ms added each way,
  requests that need documents are answered (slower) or refused with a 503 within the
  gateway's timeout; requests that do not need it are as fast as before. During a 10 s
  partition, requests that need documents get a 503 within the gateway's timeout and the
  others keep working; once it heals documents answers again without a restart, and
  every acknowledged create is there exactly once.

A create answered 503 may or may not have happened, and the client cannot tell which.
While the broker is away the gateways refuse at once and send nothing, so those were
never made; but a request that reached documents before its connection went, or that a
slowed documents finished after the gateway's timeout, was saved all the same (in the
partition scenario one or two of every two to four refused creates were). Until requests
carry an idempotency key, a client that retries a 503'd create may make a second one.

The machine has two cores that other test runs share, so every time bound below has
``MARGIN`` seconds of room over what the stack promises.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devtools.stack import Stack
from porchlight.runtime.settings import get_settings
from tests.faults.proxy import FaultProxy
from tests.running_stack import (
    RPC_TIMEOUT,
    SIGNATURE_PATH,
    csrf,
    eventually,
    json_lines,
    office_of,
    own_stack,
)
from tests.staff import OverHttp, StaffApi

pytestmark = pytest.mark.e2e

# Two shared cores: room over every time the stack promises.
MARGIN = 3.0
# A request is answered — its success, or 503 — within the gateway's RPC timeout.
ANSWER_WITHIN = RPC_TIMEOUT + MARGIN
# The HTTP client's own patience: far above ANSWER_WITHIN, so a slow answer is measured
# as slow rather than lost.
HTTP_TIMEOUT = 30.0
# Each load thread sends at most one request every PACE seconds (load shaping: the
# answers are what is asserted, not the pace).
PACE = 0.5
OUTAGE_SECONDS = 5.0
BACK_WITHIN = 5.0 + MARGIN  # after the broker's return, every kind of request succeeds again
LATENCY = 0.5
PARTITION_SECONDS = 10.0
DOCUMENTS_BACK_WITHIN = 20.0


def broker_address() -> tuple[str, int]:
    parts = urlsplit(get_settings().amqp_uri)
    return parts.hostname or "localhost", parts.port or 5672


@dataclass(frozen=True)
class Answer:
    kind: str
    started: float  # time.monotonic()
    took: float
    status: int | str  # the HTTP status, or what happened instead of an answer
    key: str = ""  # what a write was about: a work order's title, an estimate's or a report's id

    @property
    def ended(self) -> float:
        return self.started + self.took


# The n-th request of a kind: its HTTP status and what it was about.
Request = Callable[[int], tuple[int, str]]


class Exhausted(Exception):
    """A kind has no more requests to send (each of its records is answered once)."""


class Load:
    """One thread per kind of request, each sending its kind again and again (at most one
    every ``PACE`` seconds) until the block ends; every answer is kept, in order."""

    def __init__(self, kinds: dict[str, tuple[int, Request]]) -> None:
        self.success = {kind: status for kind, (status, _) in kinds.items()}
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(kind, request), daemon=True)
                         for kind, (_, request) in kinds.items()]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(HTTP_TIMEOUT + 5)

    def _run(self, kind: str, request: Request) -> None:
        n = 0
        while not self._stop.is_set():
            started = time.monotonic()
            key = ""
            try:
                status, key = request(n)
            except Exhausted:
                return
            except requests.RequestException as exc:
                status = f"no answer: {exc!r}"
            except Exception as exc:  # noqa: BLE001 - a broken request is reported, not hidden
                status = f"failed: {exc!r}"
            took = time.monotonic() - started
            self.answers.append(Answer(kind, started, took, status, key))
            n += 1
            self._stop.wait(max(0.0, PACE - took))

    def of(self, kind: str, since: float = 0.0, until: float = float("inf")) -> list[Answer]:
        """The answers to ``kind``'s requests sent between ``since`` and ``until``."""
        return [a for a in self.answers if a.kind == kind and since <= a.started < until]

    def ok(self, answer: Answer) -> bool:
        return answer.status == self.success[answer.kind]

    def normal_since(self, moment: float, kinds: list[str] | None = None, runs: int = 3) -> bool:
        """Every kind's last ``runs`` requests, all sent after ``moment``, succeeded."""
        for kind in kinds or list(self.success):
            last = self.of(kind, since=moment)[-runs:]
            if len(last) < runs or not all(self.ok(a) for a in last):
                return False
        return True

    def back_at(self, kind: str, moment: float) -> float | None:
        """When the unbroken run of successes that ends ``kind``'s answers began (the first
        of them sent after ``moment``); None if its last answer failed."""
        back = None
        for answer in self.of(kind, since=moment):
            back = (back or answer.started) if self.ok(answer) else None
        return back

    def back_after(self, moment: float) -> dict[str, float | None]:
        """Per kind, how many seconds after ``moment`` it was back (``back_at``)."""
        return {kind: None if (at := self.back_at(kind, moment)) is None else round(at - moment, 2)
                for kind in self.success}

    def summary(self, since: float, until: float) -> dict[str, dict[str, Any]]:
        """Per kind, for the requests sent in [since, until): statuses and times."""
        out: dict[str, dict[str, Any]] = {}
        for kind in self.success:
            answers = self.of(kind, since, until)
            statuses: dict[str, int] = {}
            for a in answers:
                statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
            took = [a.took for a in answers]
            out[kind] = {"statuses": statuses,
                         "median_s": round(statistics.median(took), 3) if took else None,
                         "max_s": round(max(took), 3) if took else None}
        return out


def assert_answered(load: Load, answers: list[Answer]) -> None:
    """Each answer is its kind's success or a 503, within ANSWER_WITHIN."""
    wrong = [a for a in answers if not load.ok(a) and a.status != 503]
    assert not wrong, wrong[:5]
    slow = [a for a in answers if a.took > ANSWER_WITHIN]
    assert not slow, slow[:5]


def staff_over_http(stack: Stack, office: StaffApi) -> StaffApi:
    """The same workspace's staff on a connection of their own (one per thread), patient."""
    return StaffApi(OverHttp(stack.admin_url, timeout=HTTP_TIMEOUT), office.workspace_id, office.api_key)


@dataclass(frozen=True)
class Form:
    """A portal page's form, opened by a customer's browser: POST ``data`` to ``url``."""

    browser: requests.Session
    url: str
    token: str
    record_id: str

    def post(self, data: dict[str, str]) -> int:
        return self.browser.post(self.url, data={"csrf_token": self.token, **data},
                                 timeout=HTTP_TIMEOUT, allow_redirects=False).status_code


def opened(url: str, record_id: str) -> Form:
    browser = requests.Session()
    page = browser.get(url, timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, page.text
    return Form(browser, url, csrf(page.text), record_id)


def estimates_to_accept(office: StaffApi, count: int) -> list[Form]:
    def one(n: int) -> Form:
        sent = office.sent_estimate([{"description": "Service", "quantity": 1, "unit_price": "90.00"}],
                                    title=f"Boiler {n}")
        return opened(sent["url"], sent["estimate"]["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def reports_to_sign(office: StaffApi, count: int) -> list[Form]:
    wo = office.work_order(title="Pumps", location="12 Orchard Lane")

    def one(n: int) -> Form:
        report = office.created("/service-reports", {"work_order_id": wo["id"], "narrative": f"Pump {n}."})
        done = office.created(f"/service-reports/{report['id']}/complete")
        return opened(done["url"], report["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def client_ip(n: int) -> dict[str, str]:
    """A client of its own (the stack trusts loopback's X-Forwarded-For), so the limit of
    sign-ins per address is never what a request meets."""
    return {"X-Forwarded-For": f"203.0.{113 + n // 250 % 10}.{n % 250 + 1}"}


def sign_ins(stack: Stack, tag: str) -> Request:
    """Sign-in requests for addresses nobody has (answered like any other: 200)."""
    browser = requests.Session()
    token = csrf(browser.get(stack.portal_url + "/portal/sign-in", timeout=HTTP_TIMEOUT).text)

    def sign_in(n: int) -> tuple[int, str]:
        address = f"nobody{n}-{tag}@outage.example"
        answer = browser.post(stack.portal_url + "/portal/sign-in", headers=client_ip(n),
                              data={"csrf_token": token, "email": address},
                              timeout=HTTP_TIMEOUT, allow_redirects=False)
        return answer.status_code, address

    return sign_in


def link_views(office: StaffApi, count: int) -> Request:
    urls = [office.share(office.work_order(title=f"Visit {n}")["id"])["url"] for n in range(count)]
    return lambda n: (requests.get(urls[n % count], timeout=HTTP_TIMEOUT).status_code, urls[n % count])


def creates(office: StaffApi, prefix: str) -> Request:
    def create(n: int) -> tuple[int, str]:
        title = f"{prefix} {n}"
        return office.post("/work-orders", {"title": title}).status_code, title

    return create


def answers_to(forms: list[Form], data: dict[str, str]) -> Request:
    """Each form posted once, in turn."""

    def answer(n: int) -> tuple[int, str]:
        if n >= len(forms):
            raise Exhausted
        return forms[n].post(data), forms[n].record_id

    return answer


def titles_made(office: StaffApi) -> list[str]:
    return [wo["title"] for wo in office.every("/work-orders", "work_orders")]


def assert_exactly_once(load: Load, kind: str, made: list[str]) -> dict[str, int]:
    """Every acknowledged create of ``kind`` is in ``made`` once, nothing is in it twice;
    how many of those answered 503 were made anyway."""
    answers = load.of(kind)
    acknowledged = [a.key for a in answers if load.ok(a)]
    assert sorted(t for t in made if t in acknowledged) == sorted(acknowledged)
    assert len(made) == len(set(made)), [t for t in set(made) if made.count(t) > 1]
    refused = [a.key for a in answers if a.status == 503]
    return {"acknowledged": len(acknowledged), "refused": len(refused),
            "refused_but_made": sum(t in made for t in refused)}


def last_words(stack: Stack) -> dict[str, list[str]]:
    """What each process that exited logged as CRITICAL, and its exit status."""
    return {name: [f"exit status {stack.processes[name].poll()}"] + [
        f"{entry['time']} {entry['message']}: {entry.get('exc_info', '').strip().splitlines()[-1:]}"
        for entry in json_lines(stack.log_dir / f"{name}.log") if entry.get("level") == "CRITICAL"]
        for name in stack.dead() if name in stack.processes}


def echoes(address: str, data: bytes = b"ping") -> bool:
    """A new connection to ``address`` gets ``data`` back."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2) as sock:
            sock.sendall(data)
            return sock.recv(len(data)) == data
    except OSError:
        return False


def test_the_proxy_passes_delays_cuts_and_heals() -> None:
    """The fault injector itself, before the stack relies on it: against an echo server,
    it passes bytes through, delays them each way (pipelined, not one after another), cuts
    every connection and refuses new ones, then lets them through again by itself."""
    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    with socket.create_server(("127.0.0.1", 0)) as server:

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:  # closed: the test is over
                    return
                threading.Thread(target=echo, args=(conn,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        with FaultProxy(server.getsockname()[:2]) as proxy:
            assert echoes(proxy.address)
            with socket.create_connection((proxy.host, proxy.port), timeout=5) as held:
                held.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                proxy.latency = 0.2
                started = time.monotonic()
                for letter in b"abcde":  # five chunks, each delayed alongside the others
                    held.sendall(bytes([letter]))
                    time.sleep(0.02)  # apart, so that each is a chunk of its own
                received = b""
                while len(received) < 5 and (more := held.recv(5)):
                    received += more
                took = time.monotonic() - started
                # There and back: twice the latency, not five times it.
                assert received == b"abcde" and 2 * proxy.latency <= took < 5 * proxy.latency, took
                proxy.latency = 0.0
                assert proxy.cut(0.5) >= 1
                assert held.recv(1) == b""  # closed by the proxy
            assert not echoes(proxy.address)  # refused while cut
            assert proxy.refused >= 1
            assert eventually(lambda: echoes(proxy.address), within=0.5 + MARGIN)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(broker_address()) as running:
        yield running


def test_the_broker_gone_for_five_seconds_under_mixed_load(proxy: FaultProxy) -> None:
    started = time.monotonic()
    # The services share the local store, as they would a MongoDB: their data is not the
    # process's own.
    with own_stack("broker-outage-logs", gateway_workers=1, trusted_proxies="127.0.0.1", shared_store=True,
                   broker_via={"*": proxy.address}) as stack:
        stack_up = time.monotonic()
        office = office_of(stack, "Outage Plumbing")  # the CLI, straight to the broker
        setup = staff_over_http(stack, office)
        # Estimates and reports for as many answers as a thread sends until the stack is back.
        budget = int((2 + OUTAGE_SECONDS + BACK_WITHIN + 1) / PACE)
        with ThreadPoolExecutor(max_workers=2) as pool:
            estimates_made = pool.submit(estimates_to_accept, setup, budget)
            reports_made = pool.submit(reports_to_sign, staff_over_http(stack, office), budget)
            estimates, reports = estimates_made.result(), reports_made.result()
        views = link_views(setup, 5)
        writer = office_of(stack, "Outage Plumbing Creates")  # its list holds only the load's creates
        kinds: dict[str, tuple[int, Request]] = {
            "link view": (200, views),
            "sign-in": (200, sign_ins(stack, office.workspace_id)),
            "work order create": (201, creates(staff_over_http(stack, writer), "Outage job")),
            "estimate accept": (303, answers_to(estimates, {
                "response": "accept", "revision": "1", "signer_name": "Alex Morgan"})),
            "report signature": (303, answers_to(reports, {
                "signer_name": "Alex Morgan", "signature_path": SIGNATURE_PATH})),
        }
        ready = time.monotonic()
        with Load(kinds) as load:
            assert eventually(lambda: load.normal_since(ready, runs=2), within=10), load.answers
            closed = proxy.cut()
            cut_at = time.monotonic()
            time.sleep(OUTAGE_SECONDS)  # the outage itself
            proxy.heal()
            healed_at = time.monotonic()
            eventually(lambda: load.normal_since(healed_at, runs=3), within=BACK_WITHIN + 1.0)
        report = {"stack_start_s": round(stack_up - started, 1), "setup_s": round(ready - stack_up, 1),
                  "connections_cut": closed, "refused_while_cut": proxy.refused,
                  "before": load.summary(ready, cut_at), "during": load.summary(cut_at, healed_at),
                  "after": load.summary(healed_at, float("inf")), "back_after_s": load.back_after(healed_at)}
        print("\nbroker outage:", report)  # pytest shows it when an assertion fails
        # Every process reached the broker through the proxy, each with a connection or more.
        assert closed >= len(stack.processes), report
        assert_answered(load, load.answers)
        # The outage was felt: every kind had a 503 while the broker was away.
        assert all("503" in report["during"][kind]["statuses"] for kind in kinds), report
        # No process gave up on the broker (nothing restarts one here; nothing should have to).
        assert not stack.dead(), last_words(stack)
        back = report["back_after_s"]
        assert all(back[k] is not None and back[k] <= BACK_WITHIN for k in kinds), report
        assert load.normal_since(healed_at, runs=3), report
        stack.wait_ready(MARGIN)  # every process, the worker included, is ready

        # Exactly once: each acknowledged write is there once; a refused one may be too.
        creates_seen = assert_exactly_once(load, "work order create", titles_made(writer))
        accepts, signatures = load.of("estimate accept"), load.of("report signature")
        estimates_now = {e["id"]: e["status"] for e in setup.every("/estimates", "estimates")}
        reports_now = {r["id"]: r["status"] for r in setup.every("/service-reports", "service_reports")}
        assert all(estimates_now[a.key] == "approved" for a in accepts if load.ok(a))
        assert all(reports_now[a.key] == "signed" for a in signatures if load.ok(a))
        refused_accepts = [estimates_now[a.key] for a in accepts if a.status == 503]
        refused_signatures = [reports_now[a.key] for a in signatures if a.status == 503]
        print("creates:", creates_seen, "refused accepts made:", refused_accepts.count("approved"), "of",
              len(refused_accepts), "refused signatures made:", refused_signatures.count("signed"), "of",
              len(refused_signatures), "scenario_s:", round(time.monotonic() - stack_up, 1))


def reads_of(office: StaffApi, path: str) -> Request:
    return lambda n: (office.get(path).status_code, path)


def mints(office: StaffApi, work_order_id: str) -> Request:
    """A new link to the work order: sharing asks documents whether it exists."""
    return lambda n: (office.post("/share-tokens", {
        "entity": {"type": "work_order", "id": work_order_id}, "permissions": ["view"]}).status_code, "")


def certificate_checks(stack: Stack) -> Request:
    """The portal's check of a certificate nobody has: signatures answers (404)."""
    url = f"{stack.portal_url}/verify/cert_{'0' * 32}"
    return lambda n: (requests.get(url, timeout=HTTP_TIMEOUT).status_code, url)


def test_documents_slowed_then_cut_off_from_the_broker(proxy: FaultProxy) -> None:
    started = time.monotonic()
    with own_stack("documents-partition-logs", gateway_workers=1, trusted_proxies="127.0.0.1",
                   shared_store=True) as stack:
        stack_up = time.monotonic()
        # documents alone, started again to reach the broker through the proxy.
        stack.broker_via["documents"] = proxy.address
        stack.stop_process("documents")
        stack.start_process("documents")
        stack.wait_ready(60, names=("documents",))
        documents = stack.processes["documents"]
        assert proxy.open_connections >= 1  # it is the proxy's client
        office = office_of(stack, "Partition Heating")

        def staff() -> StaffApi:
            return staff_over_http(stack, office)

        writer = office_of(stack, "Partition Heating Creates")  # its list holds only the load's creates
        wo = staff().work_order(title="Boiler")
        needs_documents: dict[str, tuple[int, Request]] = {
            "work order create": (201, creates(staff_over_http(stack, writer), "Partition job")),
            "work order read": (200, reads_of(staff(), f"/work-orders/{wo['id']}")),
            "link minted": (201, mints(staff(), wo["id"])),
        }
        others: dict[str, tuple[int, Request]] = {
            "workspace read": (200, reads_of(staff(), "/workspace")),
            "inbox read": (200, reads_of(staff(), "/notifications/inbox")),
            "sign-in": (200, sign_ins(stack, office.workspace_id)),
            "certificate check": (404, certificate_checks(stack)),
        }
        doc_kinds, other_kinds = list(needs_documents), list(others)
        ready = time.monotonic()
        with Load({**needs_documents, **others}) as load:
            assert eventually(lambda: load.normal_since(ready, runs=3), within=10), load.summary(ready, 1e18)

            proxy.latency = LATENCY
            slowed_at = time.monotonic()
            assert eventually(lambda: all(len(load.of(k, since=slowed_at)) >= 2 for k in load.success),
                              within=3 * ANSWER_WITHIN), load.summary(slowed_at, float("inf"))

            proxy.latency = 0.0
            closed = proxy.cut()
            cut_at = time.monotonic()
            time.sleep(PARTITION_SECONDS)  # the partition itself
            proxy.heal()
            healed_at = time.monotonic()
            eventually(lambda: load.normal_since(healed_at, runs=3), within=DOCUMENTS_BACK_WITHIN + 1.0)

        baseline, slowed = load.summary(ready, slowed_at), load.summary(slowed_at, cut_at)
        partitioned, after = load.summary(cut_at, healed_at), load.summary(healed_at, float("inf"))
        report = {"stack_start_s": round(stack_up - started, 1), "setup_s": round(ready - stack_up, 1),
                  "connections_cut": closed,
                  "baseline": baseline, "latency": slowed, "partition": partitioned, "after": after}
        report["back_after_s"] = load.back_after(healed_at)
        print("\ndocuments partition:", report)  # pytest shows it when an assertion fails
        assert closed >= 1, report
        assert_answered(load, load.answers)
        # With the latency: what needs documents was answered (each crossing the proxy at
        # least twice, in and out) or refused; the rest was as fast as ever.
        for kind in doc_kinds:
            answers = load.of(kind, slowed_at, cut_at)
            assert all(a.took >= 2 * LATENCY - 0.05 for a in answers if load.ok(a)), (kind, report)
        for kind in other_kinds:
            answers = load.of(kind, slowed_at, cut_at)
            assert all(load.ok(a) for a in answers), (kind, answers)
            assert statistics.median(a.took for a in answers) < LATENCY, (kind, report)
        # During the partition: what needs documents is refused (every answer given while
        # it lasted, but for a reply already on its way when it began), the rest works.
        for kind in doc_kinds:
            answered = [a for a in load.of(kind) if cut_at + 1.0 < a.ended < healed_at]
            assert answered and all(a.status == 503 for a in answered), (kind, report)
        for kind in other_kinds:
            answers = load.of(kind, cut_at, healed_at)
            assert answers and all(load.ok(a) for a in answers), (kind, answers)
            assert statistics.median(a.took for a in answers) < LATENCY, (kind, report)
        # After it: documents answers again, the same process, never restarted.
        assert not stack.dead(), last_words(stack)
        assert stack.processes["documents"] is documents and documents.poll() is None
        back = report["back_after_s"]
        assert all(back[k] is not None and back[k] <= DOCUMENTS_BACK_WITHIN for k in doc_kinds), report
        assert load.normal_since(healed_at, runs=3), report
        creates_seen = assert_exactly_once(load, "work order create", titles_made(writer))
        print("creates:", creates_seen, "scenario_s:", round(time.monotonic() - stack_up, 1))
