"""A service told to stop (SIGTERM, as Kubernetes does before it removes a pod) finishes
the calls it holds and takes no more, so no caller loses an answer: its unstarted
messages go back to the queue it shares with its other replica.

A stack of its own (on its own RabbitMQ virtual host) runs two ``documents`` processes.
Fifty work orders are created at once through the admin gateway; when the first answers
are back, one ``documents`` replica gets SIGTERM. Every request must be answered 201,
and the stopped replica must exit by itself (status 0) within the pods' grace period,
having served some of them.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from devtools.broker import IsolatedVhost, ensure_broker
from devtools.stack import ROOT, Stack
from porchlight.settings import get_settings
from tests.running_stack import RPC_TIMEOUT, free_port, office_of

pytestmark = pytest.mark.e2e

REQUESTS = 50
STOP_AFTER = 5  # answers back before the SIGTERM
GRACE_SECONDS = 30  # terminationGracePeriodSeconds of the services' pods (deploy/k8s/base)
STOPPED = "documents-2"


@pytest.fixture(scope="module")
def two_documents() -> Iterator[Stack]:
    ensure_broker(get_settings().amqp_uri)
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        stack = Stack(amqp_uri=uri, portal_port=free_port(), admin_port=free_port(),
                      log_dir=ROOT / "tests" / "output" / "graceful-logs", rpc_timeout=RPC_TIMEOUT,
                      local_mail=True, log_format="json", replicas={"documents": 2})
        for old in stack.log_dir.glob("*.log"):
            old.unlink()
        stack.start(timeout=90)
        try:
            yield stack
        finally:
            stack.stop()


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
