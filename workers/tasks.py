"""Porchlight's Celery tasks. Each one is safe to run twice, and reaches the services
through the process's one lazily started ``AmqpClient``.

``render_signed_pdf`` only *reads* the signature: a render that fails leaves the signed
report and its evidence exactly as they were, and the next attempt starts over.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
from typing import Any, Protocol

from celery import Task, shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from porchlight.client import ServiceUnavailable, typed
from porchlight.client.measured import MeasuredAmqpClient as AmqpClient  # every call counted and timed
from porchlight.contracts.callers.worker import WorkerServices
from porchlight.contracts.errors import Conflict, NotFound
from porchlight.runtime import i18n
from porchlight.runtime.settings import get_settings
from workers import mail
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


def _services(rpc: Rpc) -> WorkerServices:
    """The services as the worker calls them: exactly the calls it declares
    (``porchlight.contracts.callers.worker``), from which its broker rights are derived."""
    return typed(rpc, WorkerServices)


def pdf_language(rpc: Rpc, workspace: dict[str, Any], report: dict[str, Any]) -> str:
    """The language a signed PDF is written in: its customer's (the report's work order
    names them), else the language of the workspace's locale — English when Porchlight is
    not written in it (``render_signed_report`` decides)."""
    services = _services(rpc)
    try:
        work_order = services.documents.get_work_order(workspace["id"], report["work_order_id"])
        said = (services.identity.customer_language(workspace["id"], work_order["customer_id"])["language"]
                if work_order.get("customer_id") else None)
    except NotFound:
        said = None
    return i18n.language_for(said, workspace.get("locale"))


def render_and_store(rpc: Rpc, workspace_id: str, report_id: str) -> dict[str, str] | None:
    """Render the signed report's PDF, store it with the report and attach its hash to
    the signature certificate. ``None`` when there is nothing to render.

    Safe to repeat at any point: a report whose PDF is stored is not rendered again;
    ``store_signed_pdf`` keeps the first PDF stored and returns it, and the certificate
    gets the hash of *that* PDF — so a run that lost a race attaches the winner's."""
    try:
        report = _services(rpc).documents.get_service_report(workspace_id, report_id)
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
        evidence = _services(rpc).signatures.get_evidence(workspace_id, report["certificate_id"])
        workspace = _services(rpc).identity.get_workspace(workspace_id)
        # The report as the customer signed it — frozen when it was completed, and recorded
        # with the evidence — never the work order as it reads today.
        content = render_signed_report(evidence["snapshot"], evidence, workspace,
                                       language=pdf_language(rpc, {**workspace, "id": workspace_id}, report))
        stored = _services(rpc).documents.store_signed_pdf(workspace_id, report_id, {
            "content_b64": base64.b64encode(content).decode("ascii"),
            "sha256": hashlib.sha256(content).hexdigest(),
        })
    # Also when the PDF was already stored: the run that stored it may have stopped
    # before this call. Attaching the same hash again changes nothing.
    _services(rpc).signatures.attach_artifact(workspace_id, report["certificate_id"],
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
    log.info("rendering the PDF of service report %s, attempt %d", report_id, self.request.retries + 1)
    return render_and_store(amqp_client(), workspace_id, report_id)


@shared_task(name="porchlight.expire_estimates")
def expire_estimates() -> dict[str, int] | None:
    """Beat runs this every minute."""
    result = _sweep("documents", "expire_estimates")
    if result and result.get("expired"):
        log.info("expired %d estimates", result["expired"])
    return result


@shared_task(name="porchlight.recover_abandoned_answers")
def recover_abandoned_answers() -> dict[str, dict[str, int] | None]:
    """Beat runs this every minute: answers and signatures whose documents process died
    between the claim and the evidence are finished or undone (``evidence.recover``)."""
    result = {"estimates": _sweep("documents", "recover_abandoned_answers"),
              "service_reports": _sweep("documents", "recover_abandoned_signatures")}
    for kind, counts in result.items():
        if counts and (counts.get("adopted") or counts.get("undone")):
            log.warning("abandoned %s: %d finished, %d undone", kind, counts["adopted"], counts["undone"])
    return result


@shared_task(name="porchlight.render_missing_pdfs")
def render_missing_pdfs() -> dict[str, int] | None:
    """Beat runs this every few minutes: queue a render for every signed report that has
    been waiting for its PDF for a while. Rendering is idempotent, so a report whose
    render is merely slow costs one harmless duplicate at most."""
    missing = _sweep("documents", "list_reports_missing_pdf", MISSING_PDF_AFTER_SECONDS)
    if missing is None:
        return None
    for item in missing:
        render_signed_pdf.delay(item["workspace_id"], item["id"])
    if missing:
        log.info("queued %d missing signed PDFs", len(missing))
    return {"queued": len(missing)}


# -- email -------------------------------------------------------------------------------
# Attempts at one email before it is recorded failed, and the waits between them:
# 30 s, 1, 2, 4 min (and a little jitter), about 8 minutes in all.
EMAIL_ATTEMPTS = 5
EMAIL_RETRY_SECONDS = 30
NO_SERVER = "No mail server is configured (PORCHLIGHT_SMTP_URL), so nothing can be sent."


def retry_delay(retries: int) -> float:
    """Seconds before attempt ``retries + 2``: doubling from ``EMAIL_RETRY_SECONDS``, plus
    up to a tenth at random so a crowd of retries does not return at once."""
    base = EMAIL_RETRY_SECONDS * 2 ** retries
    return base + random.uniform(0, base / 10)


def deliver(rpc: Rpc, email_id: str, secrets: dict[str, str] | None, *, last_attempt: bool) -> str | None:
    """One delivery attempt: claim the email, send it, record how it went. Returns the
    outcome recorded (``sent``, ``retry``, ``failed``), or ``None`` when the email was not
    this attempt's to send — already sent, being sent by another attempt, or failed.

    The claim comes before the SMTP conversation: a redelivered or retried task whose
    email is already claimed sends nothing, so the recipient never gets two copies."""
    claimed = _services(rpc).notifications.claim_email(email_id)
    if claimed is None:
        log.info("email %s is not waiting to be sent; nothing to do", email_id)
        return None
    settings = get_settings()
    try:
        if settings.smtp_url is None:
            raise mail.Permanent(NO_SERVER)
        files = [(a["filename"], _attachment(rpc, claimed["workspace_id"], a))
                 for a in claimed["attachments"]]
        server = mail.SmtpServer.from_url(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
        message = mail.build(claimed, secrets, files, settings.mail_from)
        server.send(message, settings.mail_from, claimed["to"])
        outcome, error = "sent", None
    except mail.Permanent as exc:
        outcome, error = "failed", str(exc)
    except mail.Transient as exc:
        outcome, error = ("failed" if last_attempt else "retry"), str(exc)
    _services(rpc).notifications.record_delivery(email_id, claimed["attempt"], outcome, error)
    log.info("email %s, attempt %d: %s%s", email_id, claimed["attempt"], outcome,
             f" ({error})" if error else "")
    return outcome


def _attachment(rpc: Rpc, workspace_id: str, attachment: dict[str, str]) -> bytes:
    try:
        stored = _services(rpc).documents.get_signed_pdf(workspace_id, attachment["record_id"])
    except (NotFound, Conflict) as exc:  # the report or its PDF is not there (yet)
        raise mail.Transient(f"The attachment {attachment['filename']} cannot be had: {exc}") from None
    return base64.b64decode(stored["content_b64"])


class SecretArguments(Task):
    """A task whose arguments hold secrets (an email's link and code). The service that
    queues it gives Celery a stand-in to show (``argsrepr``); a retry — asked for by the
    task or by ``autoretry_for`` — is shown with the same stand-in, never the arguments."""

    def retry(self, *args: Any, **options: Any) -> Any:
        shown = getattr(self.request, "argsrepr", None)
        options.setdefault("argsrepr", shown or "(<hidden>)")
        return super().retry(*args, **options)


@shared_task(
    name="porchlight.deliver_email",
    base=SecretArguments,
    bind=True,
    # notifications or documents did not answer: the email was not claimed, or its claim
    # stands and the next attempt finds it taken — either way no second copy.
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def deliver_email(self: Any, email_id: str, secrets: dict[str, str] | None = None) -> None:
    """Deliver one queued email. ``secrets`` are its link and code, if it has them
    (``{"link": …, "code": …}``): they exist only in this task's arguments (Celery's logs
    show ``<secrets>`` instead)."""
    retries = self.request.retries
    if deliver(amqp_client(), email_id, secrets, last_attempt=retries + 1 >= EMAIL_ATTEMPTS) == "retry":
        raise self.retry(countdown=retry_delay(retries), max_retries=EMAIL_ATTEMPTS - 1)


@shared_task(name="porchlight.send_reminders")
def send_reminders() -> dict[str, int] | None:
    """Beat runs this every few minutes: documents sends the reminders now due and the
    signed copies not handed over yet."""
    return _sweep("documents", "send_due_emails")


@shared_task(name="porchlight.sweep_emails")
def sweep_emails() -> dict[str, int] | None:
    """Beat runs this every few minutes: emails whose delivery stopped half-way are failed,
    and the project digests whose hour is up are sent."""
    return _sweep("notifications", "sweep_emails")


def _sweep(service: str, method: str, *args: Any) -> Any:
    """A timed sweep's one call. A sweep the service misses is simply done by the next
    one, so there is no retry: ``None`` and a log line."""
    try:
        return getattr(getattr(_services(amqp_client()), service), method)(*args)
    except ServiceUnavailable as exc:
        log.warning("%s.%s skipped, the service is unavailable: %s", service, method, exc)
        return None
