"""Two processes of every service and of the worker, and two portal processes, serve one
workspace as if they were one: 200 mixed requests through both gateways get their
answers, both replicas of each service do part of the work, and every event is handled
exactly once however many replicas could have taken it.

The stack runs on a RabbitMQ virtual host of its own. Replicas share data through the
local store (``devtools.store_server``) unless ``PORCHLIGHT_MONGODB_URI`` names a MongoDB.
What each process did is read from its own ``/metrics``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import chain, zip_longest

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from devtools.stack import SERVICES, WORKER, Stack, kind_of
from porchlight.contracts.clock import utcnow
from tests.running_stack import (
    SIGNATURE_PATH,
    csrf,
    eventually,
    json_lines,
    office_of,
    ops_metrics,
    own_stack,
)
from tests.staff import StaffApi

pytestmark = pytest.mark.e2e

REPLICAS = 2
# Scenarios of five requests each: 14 estimates answered, 13 reports signed, 13 links viewed.
ESTIMATES, REPORTS, VIEWS = 14, 13, 13
REQUESTS = 5 * (ESTIMATES + REPORTS + VIEWS)


@pytest.fixture(scope="module")
def replicated() -> Iterator[Stack]:
    with own_stack("replica-logs", timeout=120, gateway_workers=REPLICAS,
                   replicas={kind: REPLICAS for kind in (*SERVICES, WORKER)}) as stack:
        yield stack


class Answers:
    """Every HTTP answer of the run, and the ones that were not what the scenario expected
    (the scenarios' threads append; a list's append is atomic)."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.wrong: list[str] = []

    def check(self, what: str, response: requests.Response, status: int, text: str | None = None) -> None:
        self.seen.append(response.status_code)
        if response.status_code != status or (text is not None and text not in response.text):
            self.wrong.append(f"{what}: {response.status_code} {response.text[:200]!r}")


def scenarios(stack: Stack, office: StaffApi, answers: Answers) -> list[Callable[[], None]]:
    """Each scenario: five requests of one customer's or the office's task, in order."""
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {office.api_key}"
    api = stack.admin_url + "/api/v1"
    valid_until = (utcnow() + timedelta(days=14)).date().isoformat()

    def estimate(n: int) -> None:
        created = admin.post(f"{api}/estimates", json={
            "title": f"Radiator valves {n}", "valid_until": valid_until,
            "line_items": [{"description": "Valve", "quantity": 2, "unit_price": "24.50"}]}, timeout=20)
        answers.check("create estimate", created, 201)
        sent = admin.post(f"{api}/estimates/{created.json()['id']}/send", timeout=20)
        answers.check("send estimate", sent, 201)
        customer = requests.Session()
        page = customer.get(sent.json()["url"], timeout=20)
        answers.check("estimate page", page, 200, "Accept")
        answer = customer.post(sent.json()["url"], data={
            "csrf_token": csrf(page.text), "response": "accept", "revision": "1",
            "signer_name": f"Sam Customer {n}"}, timeout=20)
        answers.check("accept estimate", answer, 200, "you accepted this estimate")
        shown = admin.get(f"{api}/estimates/{created.json()['id']}", timeout=20)
        answers.check("estimate approved", shown, 200, '"approved"')

    def report(n: int) -> None:
        wo = admin.post(f"{api}/work-orders", json={"title": f"Boiler service {n}"}, timeout=20)
        answers.check("create work order", wo, 201)
        made = admin.post(f"{api}/service-reports", json={"work_order_id": wo.json()["id"],
                                                          "narrative": "Serviced and tested."}, timeout=20)
        answers.check("create report", made, 201)
        done = admin.post(f"{api}/service-reports/{made.json()['id']}/complete", timeout=20)
        answers.check("complete report", done, 201)
        customer = requests.Session()
        page = customer.get(done.json()["url"], timeout=20)
        answers.check("report page", page, 200, "Submit signature")
        signed = customer.post(done.json()["url"], data={
            "csrf_token": csrf(page.text), "signer_name": f"Sam Customer {n}",
            "signature_path": SIGNATURE_PATH}, timeout=20, allow_redirects=False)
        answers.check("sign report", signed, 303)

    def view(n: int) -> None:
        wo = admin.post(f"{api}/work-orders", json={"title": f"Leak check {n}"}, timeout=20)
        answers.check("create work order", wo, 201)
        link = admin.post(f"{api}/share-tokens", json={
            "entity": {"type": "work_order", "id": wo.json()["id"]}, "permissions": ["view"]}, timeout=20)
        answers.check("share work order", link, 201)
        customer = requests.Session()
        for _ in range(2):
            page = customer.get(link.json()["url"], timeout=20)
            answers.check("work order page", page, 200, f"Leak check {n}")
        answers.check("work order", admin.get(f"{api}/work-orders/{wo.json()['id']}", timeout=20), 200)

    groups = [[(lambda n=n, job=job: job(n)) for n in range(count)]
              for job, count in ((estimate, ESTIMATES), (report, REPORTS), (view, VIEWS))]
    return [job for job in chain.from_iterable(zip_longest(*groups)) if job is not None]


# The events this run causes and the services that must handle each (notifications: the
# office's inbox and email, and the customer's signed copy).
LISTENERS = {
    ("documents", "estimate_approved"): {"notifications"},
    ("documents", "service_report_signed"): {"notifications"},
}


def scrape_all(stack: Stack) -> dict[str, dict]:
    """Every service's and worker's samples, by process."""
    return {name: scrape(stack, name) for name in stack.processes if kind_of(name) in (*SERVICES, WORKER)}


def events(samples: dict[str, dict]) -> tuple[Counter, dict[tuple[str, str], Counter]]:
    """Events sent, by (service, type), and handled, by (source, type) and handling service,
    summed over the replicas."""
    sent: Counter = Counter()
    heard: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for found in samples.values():
        for (name, labels), value in found.items():
            labels = dict(labels)
            if name == "porchlight_events_dispatched_total":
                sent[(labels["service"], labels["event_type"])] += value
            elif name == "porchlight_events_handled_total":
                heard[(labels["source_service"], labels["event_type"])][labels["service"]] += value
    return sent, heard


def settled(stack: Stack) -> dict[str, dict] | None:
    """The samples once every listening service has handled every event sent (None before)."""
    samples = scrape_all(stack)
    sent, heard = events(samples)
    done = all(dict(heard[event]) == {service: sent[event] for service in listeners}
               for event, listeners in LISTENERS.items())
    return samples if done else None


def scrape(stack: Stack, process: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One process's samples from its ``/metrics``: (name, sorted labels) to value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(ops_metrics(stack, process))
            for sample in family.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def test_two_replicas_of_everything_serve_mixed_traffic_as_one(replicated: Stack) -> None:
    stack = replicated
    office = office_of(stack, "Twin Valley Heating")
    desk = f"desk-{office.workspace_id}@twinvalley.example"
    assert office.patch("/workspace", {"notification_addresses": [desk]}).status_code == 200

    answers = Answers()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for done in [pool.submit(job) for job in scenarios(stack, office, answers)]:
            done.result()
    assert len(answers.seen) == REQUESTS
    assert answers.wrong == []

    # The work that follows the answers: one inbox item and one office email per answer and
    # per signature (each from exactly one handling of its event), and every signed PDF.
    facts = ESTIMATES + REPORTS
    assert eventually(lambda: len(office.get("/notifications/inbox?limit=100").json["items"]) >= facts,
                      within=60)
    assert eventually(lambda: sum(desk in m["To"] for m in stack.mail.messages) >= facts, within=60)
    reports = office.get("/service-reports?limit=100").json["service_reports"]
    assert eventually(lambda: all(office.get(f"/service-reports/{r['id']}/pdf").status_code == 200
                                  for r in reports), within=60)

    # Every event sent is handled by each service that listens for it, once. A handler is
    # counted when it returns, so the last few (after the last PDF) are waited for; a
    # count that went past what was sent never settles.
    samples = eventually(lambda: settled(stack), within=30) or scrape_all(stack)
    sent, heard = events(samples)
    assert {event: sent[event] for event in LISTENERS} == {
        ("documents", "estimate_approved"): ESTIMATES, ("documents", "service_report_signed"): REPORTS}
    assert sent[("documents", "signed_pdf_stored")] == REPORTS  # each PDF kept once, by one replica
    for event, listeners in LISTENERS.items():
        assert dict(heard[event]) == {service: sent[event] for service in listeners}, event
    for event, by_service in heard.items():
        assert dict(by_service) == {service: sent[event] for service in by_service}, (event, by_service)

    # Work spread over both replicas of each service, and of the worker.
    handled = {name: total(found, "porchlight_rpc_handled_total") for name, found in samples.items()}
    for kind in SERVICES:
        assert handled[kind] > 0 and handled[f"{kind}-2"] > 0, handled
    tasks = {name: total(samples[name], "porchlight_tasks_total") for name in (WORKER, f"{WORKER}-2")}
    assert all(count > 0 for count in tasks.values()), tasks
    # No error anywhere.
    everything = list(samples.values())
    assert sum(total(found, "porchlight_rpc_handled_total", outcome="error") for found in everything) == 0
    assert sum(total(found, "porchlight_events_handled_total", outcome="error") for found in everything) == 0
    assert sum(total(found, "porchlight_tasks_total", outcome="failure") for found in everything) == 0

    # Beat (the timed sweeps) runs in the first worker only.
    logs = {name: json_lines(stack.log_dir / f"{name}.log") for name in (WORKER, f"{WORKER}-2")}
    beats = {name: any(line["message"] == "beat: Starting..." for line in lines)
             for name, lines in logs.items()}
    assert beats == {WORKER: True, f"{WORKER}-2": False}

    inbox = office.get("/notifications/inbox?limit=100").json["items"]
    assert len(inbox) == facts and len({item["entity"]["id"] for item in inbox}) == facts
    office_mail = [m for m in stack.mail.messages if desk in m["To"]]
    assert len(office_mail) == facts and len({m["Subject"] for m in office_mail}) == facts
