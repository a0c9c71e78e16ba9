"""Porchlight's Celery tasks. Each one is safe to run twice, and reaches the services
through the process's one lazily started ``AmqpClient``.

``render_signed_pdf`` only *reads* the signature: a render that fails leaves the signed
report and its evidence exactly as they were, and the next attempt starts over.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from typing import Any, Protocol

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from porchlight.amqp import AmqpClient, ServiceUnavailable
from porchlight.errors import NotFound
from porchlight.settings import get_settings
from workers.pdf import render_signed_report

log = logging.getLogger(__name__)

_client: AmqpClient | None = None
_client_lock = threading.Lock()


class Rpc(Protocol):
    def call(self, service: str, method: str, *args: Any) -> Any: ...


def amqp_client() -> AmqpClient:
    """The worker's AMQP client, made on first use: never at import, so importing the tasks
    (to send one, or in a test) opens no connection, and a prefork child builds its own.
    It is thread-safe: the threads pool's tasks share its one connection."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                settings = get_settings()
                _client = AmqpClient(settings.amqp_uri, timeout=settings.rpc_timeout, name="worker")
    return _client


@worker_shutdown.connect  # the threads pool: the worker's own process
@worker_process_shutdown.connect  # a prefork child
def _close_amqp_client(**_: Any) -> None:
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def render_and_store(rpc: Rpc, workspace_id: str, report_id: str) -> dict[str, str] | None:
    """Render the signed report's PDF, store it with the report and attach its hash to
    the signature certificate. ``None`` when there is nothing to render.

    Safe to repeat at any point: a report whose PDF is stored is not rendered again;
    ``store_signed_pdf`` keeps the first PDF stored and returns it, and the certificate
    gets the hash of *that* PDF — so a run that lost a race attaches the winner's."""
    try:
        report = rpc.call("documents", "get_service_report", workspace_id, report_id)
    except NotFound:
        log.warning("service report %s of workspace %s not found; no PDF to render",
                    report_id, workspace_id)
        return None
    if report["status"] != "signed" or not report.get("certificate_id"):
        # Not signed, or a signing still in progress (its evidence not yet linked): the
        # signing that completes queues its own render.
        log.info("service report %s is not signed (%s); no PDF to render", report_id, report["status"])
        return None

    pdf = report.get("pdf") or {}
    if pdf.get("ready"):
        stored = {"file_id": pdf["file_id"], "sha256": pdf["sha256"]}
    else:
        evidence = rpc.call("signatures", "get_evidence", workspace_id, report["certificate_id"])
        workspace = rpc.call("identity", "get_workspace", workspace_id)
        # The report as the customer signed it — frozen when it was completed, and recorded
        # with the evidence — never the work order as it reads today.
        content = render_signed_report(evidence["snapshot"], evidence, workspace)
        stored = rpc.call("documents", "store_signed_pdf", workspace_id, report_id, {
            "content_b64": base64.b64encode(content).decode("ascii"),
            "sha256": hashlib.sha256(content).hexdigest(),
        })
    # Also when the PDF was already stored: the run that stored it may have stopped
    # before this call. Attaching the same hash again changes nothing.
    rpc.call("signatures", "attach_artifact", workspace_id, report["certificate_id"],
             {"kind": "signed_pdf", "sha256": stored["sha256"]})
    log.info("signed PDF of service report %s: sha256 %s", report_id, stored["sha256"])
    return {"file_id": stored["file_id"], "sha256": stored["sha256"]}


# How long a signed report may wait for its PDF before the sweep queues it again.
MISSING_PDF_AFTER_SECONDS = 120


@shared_task(
    name="porchlight.render_signed_pdf",
    bind=True,
    # Only an unreachable service is worth waiting for; any other error is a bug or a
    # refusal that the same call would meet again.
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def render_signed_pdf(self: Any, workspace_id: str, report_id: str) -> dict[str, str] | None:
    if self.request.retries:
        log.info("rendering the PDF of service report %s, attempt %d", report_id, self.request.retries + 1)
    return render_and_store(amqp_client(), workspace_id, report_id)


@shared_task(name="porchlight.expire_estimates")
def expire_estimates() -> dict[str, int] | None:
    """Beat runs this every minute; a sweep the documents service misses is simply done
    by the next one, so there is no retry."""
    try:
        result = amqp_client().call("documents", "expire_estimates")
    except ServiceUnavailable as exc:
        log.warning("estimate sweep skipped, documents service unavailable: %s", exc)
        return None
    if result.get("expired"):
        log.info("expired %d estimates", result["expired"])
    return result


@shared_task(name="porchlight.render_missing_pdfs")
def render_missing_pdfs() -> dict[str, int] | None:
    """Beat runs this every few minutes: queue a render for every signed report that has
    been waiting for its PDF for a while. Rendering is idempotent, so a report whose
    render is merely slow costs one harmless duplicate at most."""
    try:
        missing = amqp_client().call("documents", "list_reports_missing_pdf", MISSING_PDF_AFTER_SECONDS)
    except ServiceUnavailable as exc:
        log.warning("PDF sweep skipped, documents service unavailable: %s", exc)
        return None
    for item in missing:
        render_signed_pdf.delay(item["workspace_id"], item["id"])
    if missing:
        log.info("queued %d missing signed PDFs", len(missing))
    return {"queued": len(missing)}
