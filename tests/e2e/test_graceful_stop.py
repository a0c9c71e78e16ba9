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
  Every request is answered 201, and exactly forty work orders exist; the master exits 0.
- The worker: eight signed reports queue eight PDF renders; once one has begun, the
  worker gets SIGTERM. It finishes every render it began, exits 0, and a new worker
  renders the rest: each PDF exactly once.
"""

from __future__ import annotations

import json
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
    count = 0
    for line in (stack.log_dir / f"{process}.log").read_text().splitlines():
        if line.startswith("{") and json.loads(line)["message"].startswith(f"documents.{method} ok"):
            count += 1
    return count


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
        try:
            return office.post("/work-orders", {"title": f"Gateway job {n}"}).status_code
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
    # Every request was in flight when the signal came (all forty were sent before the
    # first answers were back): every one is answered, and each made one work order.
    assert answers == [201] * 40
    made = office.get("/work-orders").json["work_orders"]
    assert len(made) == answers.count(201)


def test_the_worker_stopped_mid_render_finishes_what_it_began(two_documents: Stack) -> None:
    stack = two_documents
    office = office_of(stack, "Graceful Worker Electrics")
    log = stack.log_dir / "worker.log"
    began_before = len(rendering(log))
    reports = [office.report_awaiting_signature(f"Job {n}") for n in range(8)]
    for report in reports:
        customer = requests.Session()
        page = customer.get(report["url"], timeout=10)
        signed = customer.post(report["url"], data={"csrf_token": csrf(page.text), "signer_name": "Kim Lee",
                                                    "signature_path": SIGNATURE_PATH},
                               timeout=10, allow_redirects=False)
        assert signed.status_code == 303
    worker = stack.processes["worker"]
    ids = {report["service_report"]["id"] for report in reports}
    assert eventually(lambda: len(rendering(log)) > began_before, within=30)
    stored_at_signal = len([r for r in stored_pdfs(log) if r in ids])
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(timeout=WORKER_GRACE_SECONDS) == 0
    began = [r for r in rendering(log)[began_before:] if r in ids]
    stored = [r for r in stored_pdfs(log) if r in ids]
    assert sorted(began) == sorted(stored)  # every render it began, it finished …
    assert len(stored) > stored_at_signal  # … those in flight at the signal included
    stack.start_process("worker")
    stack.wait_ready(60, names=("worker",))
    assert eventually(lambda: ids <= set(stored_pdfs(log)), within=60)
    assert sorted(r for r in stored_pdfs(log) if r in ids) == sorted(ids)  # each exactly once


def rendering(log: Path) -> list[str]:
    """The reports whose PDF render the worker's log says began, in order."""
    return [entry["message"].split()[6].rstrip(",") for entry in json_lines(log)
            if entry["message"].startswith("rendering the PDF of service report ")]


def stored_pdfs(log: Path) -> list[str]:
    """The reports whose signed PDF the worker's log says it stored, in order."""
    return [entry["message"].split()[5].rstrip(":") for entry in json_lines(log)
            if entry["message"].startswith("signed PDF of service report ")]
