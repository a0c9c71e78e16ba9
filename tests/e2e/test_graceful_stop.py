"""A process told to stop (SIGTERM, as Kubernetes does before it removes a pod) finishes
the work it holds and takes no more, so no caller loses an answer and nothing is done
twice.

A stack of its own (on its own RabbitMQ virtual host) runs two ``documents`` processes.

- A service: fifty work orders are created at once through the admin gateway; when the
  first answers are back, one ``documents`` replica gets SIGTERM. Every request is
  answered 201, and the replica exits by itself (status 0) within the pods' grace
  period, having served some of them; what it had not started went to the other one.
- A gateway: forty work orders are created at once; when the first answers are back, the
  admin gateway's gunicorn master gets SIGTERM (as the container's first process does).
  Every request it had begun is answered 201, one it had not yet read is closed without
  an answer and without effect (as many work orders exist as 201s); the master exits 0.
- The worker: eight reports signed at once queue eight PDF renders; while one is
  rendering, the worker gets SIGTERM. It finishes every render it began, exits 0, and a
  new worker renders the rest: each PDF exactly once.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest
import requests

from devtools.stack import Stack
from tests.running_stack import (
    SIGNATURE_PATH,
    csrf,
    eventually,
    json_lines,
    office_of,
    own_stack,
)

pytestmark = pytest.mark.e2e

REQUESTS = 50
STOP_AFTER = 5  # answers back before the SIGTERM
GRACE_SECONDS = 30  # terminationGracePeriodSeconds of the services' and gateways' pods (deploy/k8s/base)
WORKER_GRACE_SECONDS = 120  # the worker's
STOPPED = "documents-2"


@pytest.fixture(scope="module")
def two_documents() -> Iterator[Stack]:
    with own_stack("graceful-logs", replicas={"documents": 2}) as stack:
        yield stack


def handled(stack: Stack, process: str, method: str) -> int:
    """How many ``method`` calls the process logged as answered (one JSON line each)."""
    return sum(entry["message"].startswith(f"documents.{method} ok")
               for entry in json_lines(stack.log_dir / f"{process}.log"))


def test_a_service_stopped_mid_flight_answers_what_it_holds_and_loses_nothing(two_documents: Stack) -> None:
    stack = two_documents
    office = office_of(stack, "Graceful Heating")
    replica = stack.processes[STOPPED]
    answers: list[int] = []
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        futures = [pool.submit(office.post, "/work-orders", {"title": f"Job {n}"}) for n in range(REQUESTS)]
        for future in as_completed(futures):
            answers.append(future.result().status_code)
            if len(answers) == STOP_AFTER:
                os.killpg(replica.pid, signal.SIGTERM)
    assert answers == [201] * REQUESTS
    assert replica.wait(timeout=GRACE_SECONDS) == 0  # it stopped by itself, not killed
    served = handled(stack, STOPPED, "create_work_order")
    assert 0 < served < REQUESTS
    assert served + handled(stack, "documents", "create_work_order") == REQUESTS
    # What it no longer takes, the other replica does: the stack still answers.
    assert office.post("/work-orders", {"title": "After the stop"}).status_code == 201


def test_a_gateway_stopped_mid_flight_answers_every_request_it_took(two_documents: Stack) -> None:
    stack = two_documents
    office = office_of(stack, "Graceful Gateway Plumbing")
    master = stack.processes["admin"]
    answers: list[int | str] = []

    def create(n: int) -> int | str:
        # A connection of its own, sent at once: a request that reused a pooled connection
        # after the signal would be a new request to a stopping pod, which Kubernetes no
        # longer routes there (the preStop sleep), not one in flight.
        try:
            return requests.post(f"{stack.admin_url}/api/v1/work-orders", json={"title": f"Gateway job {n}"},
                                 headers={**office.headers, "Connection": "close"}, timeout=20).status_code
        except requests.ConnectionError as exc:
            return f"no answer: {exc}"

    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = [pool.submit(create, n) for n in range(40)]
        for future in as_completed(futures):
            answers.append(future.result())
            if len(answers) == STOP_AFTER:
                os.kill(master.pid, signal.SIGTERM)  # PID 1 of the pod; it tells its workers
    assert master.wait(timeout=GRACE_SECONDS) == 0
    stack.start_process("admin")
    stack.wait_ready(60, names=("admin",))
    # Every request the gateway had begun is answered 201. A connection it had accepted
    # but not yet read when told to stop is closed unanswered (gunicorn's gthread worker
    # stops its event loop first), and nothing was done for it: exactly one work order
    # per 201, so a client may safely send such a request again. In Kubernetes the
    # preStop sleep keeps new connections away before the signal, so none is left there.
    answered = answers.count(201)
    unanswered = [a for a in answers if a != 201]
    assert answered > STOP_AFTER and all(str(a).startswith("no answer") for a in unanswered), answers
    made = office.every("/work-orders", "work_orders")
    assert len(made) == answered


def test_the_worker_stopped_mid_render_finishes_what_it_began(two_documents: Stack) -> None:
    stack = two_documents
    office = office_of(stack, "Graceful Worker Electrics")
    log = stack.log_dir / "worker.log"
    reports = [office.report_awaiting_signature(f"Job {n}") for n in range(8)]
    ids = {report["service_report"]["id"] for report in reports}

    def sign(report: dict) -> int:
        customer = requests.Session()
        page = customer.get(report["url"], timeout=10)
        return customer.post(report["url"], data={"csrf_token": csrf(page.text), "signer_name": "Kim Lee",
                                                  "signature_path": SIGNATURE_PATH},
                             timeout=10, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:  # eight renders queued at once
        assert list(pool.map(sign, reports)) == [303] * 8

    def in_flight() -> set[str]:
        return (set(rendering(log)) - set(stored_pdfs(log))) & ids

    worker = stack.processes["worker"]
    assert (running := eventually(in_flight, within=30)), "no render was seen running"
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(timeout=WORKER_GRACE_SECONDS) == 0
    began, stored = set(rendering(log)) & ids, set(stored_pdfs(log)) & ids
    assert running <= stored  # what was rendering at the signal was finished …
    assert began == stored  # … and so was every render it began
    stack.start_process("worker")
    stack.wait_ready(60, names=("worker",))
    # The rest were still on the queue for the next worker; each PDF is stored once.
    assert eventually(lambda: ids <= set(stored_pdfs(log)), within=60)
    assert sorted(r for r in stored_pdfs(log) if r in ids) == sorted(ids)


def rendering(log: Path) -> list[str]:
    """The reports whose PDF render the worker's log says began, in order."""
    return [entry["message"].split()[6].rstrip(",") for entry in json_lines(log)
            if entry["message"].startswith("rendering the PDF of service report ")]


def stored_pdfs(log: Path) -> list[str]:
    """The reports whose signed PDF the worker's log says it stored, in order."""
    return [entry["message"].split()[5].rstrip(":") for entry in json_lines(log)
            if entry["message"].startswith("signed PDF of service report ")]
