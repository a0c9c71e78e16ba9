"""The issue's acceptance test: a customer signs a service report with a chosen
``X-Request-ID``, and that one id is found in the JSON logs of the portal gateway, the
services the answer went through and the worker that rendered the signed PDF."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
import requests

from tests.running_stack import SIGNATURE_PATH, csrf, eventually, json_lines

pytestmark = pytest.mark.e2e
# Who must have logged the id: the gateway that took it, documents (which records the
# signature), signatures (asked by documents for the evidence) and the worker (the PDF
# render that documents queued).
FOLLOWED_BY = {"portal", "documents", "signatures", "worker"}


def lines_with(stack: Any, request_id: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for log in stack.log_dir.glob("*.log"):
        for entry in json_lines(log):
            if entry.get("request_id") == request_id:
                found.setdefault(entry["service"], []).append(entry)
    return found


def test_one_customer_answer_is_followed_by_its_request_id_through_every_log(stack, office):
    report = office.report_awaiting_signature()
    customer = requests.Session()
    page = customer.get(report["url"], timeout=10)
    assert page.status_code == 200 and "Submit signature" in page.text
    request_id = f"e2e-sign-{uuid.uuid4().hex}"
    signed = customer.post(report["url"], data={"csrf_token": csrf(page.text), "signer_name": "Alex Morgan",
                                                "signature_path": SIGNATURE_PATH},
                           headers={"X-Request-ID": request_id}, timeout=10, allow_redirects=False)
    assert signed.status_code == 303
    assert signed.headers["X-Request-ID"] == request_id

    # The worker renders the PDF after the customer is answered: poll, with a deadline.
    def followed() -> dict[str, list[dict[str, Any]]] | None:
        seen = lines_with(stack, request_id)
        worker = seen.get("worker", [])
        rendered = any(e["message"].startswith("porchlight.render_signed_pdf ") for e in worker)
        return seen if seen.keys() >= FOLLOWED_BY and rendered else None

    found = eventually(followed, within=30)
    assert found, f"the id reached only {sorted(lines_with(stack, request_id))}"
    for entries in found.values():
        for entry in entries:
            assert {"time", "level", "service", "logger", "message", "request_id"} <= entry.keys(), entry
            assert entry["time"].endswith("Z") and entry["level"] in ("DEBUG", "INFO", "WARNING", "ERROR")
    messages = {service: [entry["message"] for entry in entries] for service, entries in found.items()}
    # One line per call or task, so the id can be followed where nothing else logs.
    assert any(m.startswith("POST /portal/fsm/service-report/srp_[redacted] 303") for m in messages["portal"])
    assert any(m.startswith("documents.sign_service_report ok ") for m in messages["documents"]), messages
    assert any(m.startswith("signatures.") for m in messages["signatures"]), messages
    assert any(m.startswith("porchlight.render_signed_pdf SUCCESS") for m in messages["worker"]), messages
    # The raw link never reached a log line.
    token = report["url"].rsplit("/", 1)[1]
    for log in stack.log_dir.glob("*.log"):
        assert token not in log.read_text(errors="replace"), log.name


def test_a_request_without_an_id_gets_one_and_a_forged_one_is_replaced(stack):
    made = requests.get(stack.portal_url + "/healthz", timeout=10).headers["X-Request-ID"]
    forged = requests.get(stack.portal_url + "/healthz", headers={"X-Request-ID": "x" * 129},
                          timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made) and re.fullmatch(r"[0-9a-f]{32}", forged) and made != forged


def test_the_gateways_and_the_worker_write_nothing_but_json_lines(stack):
    """gunicorn's own lines, the apps' and Celery's all go through the one handler. (A
    service's log starts with eventlet's deprecation warning, printed when nameko imports
    it, before any logging exists.)"""
    requests.get(stack.portal_url + "/healthz", timeout=10)
    for name in ("portal", "admin", "worker"):
        lines = [line for line in (stack.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
                 if line.strip()]
        assert lines, name
        for line in lines:
            entry = json.loads(line)
            assert entry["service"] == name and entry["level"] and entry["logger"], line
