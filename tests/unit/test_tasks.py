"""The Celery tasks against an in-memory stand-in for the three services they call.

The PDF is rendered for real; only the RPC neighbours are fakes, and they keep the
contracts the real ones promise (``store_signed_pdf`` keeps the first PDF,
``attach_artifact`` accepts the same hash again and refuses a different one).
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections import Counter
from typing import Any

import pytest
from pypdf import PdfReader

from porchlight.client import ServiceUnavailable
from porchlight.contracts.errors import Conflict, NotFound
from porchlight.runtime.settings import load_settings
from tests import catalogs
from workers import tasks
from workers.__main__ import worker_arguments
from workers.celery_app import celery
from workers.tasks import expire_estimates, render_and_store, render_signed_pdf

WORKSPACE_ID = "66d1f0c2a9b4e3d2c1b0a000"
CUSTOMER_ID = "66d1f0c2a9b4e3d2c1b0a333"
REPORT_ID = "66d1f0c2a9b4e3d2c1b0a111"
CERTIFICATE_ID = "66d1f0c2a9b4e3d2c1b0a987"
SNAPSHOT_SHA256 = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"


class FakeServices:
    """documents, signatures and identity, as far as the tasks use them."""

    def __init__(self, status: str = "signed") -> None:
        self.report: dict[str, Any] = {
            "id": REPORT_ID, "number": "SR-0012", "work_order_id": "66d1f0c2a9b4e3d2c1b0a222",
            "work_order_number": "WO-0042", "work_order_title": "Annual boiler service",
            "narrative": "Replaced the valve.\nKäse – café.", "status": status,
            "attachments": [{"id": "a1", "filename": "valve.jpg", "content_type": "image/jpeg",
                             "size": 1200}],
            "signed_by": "Zoë Brennan", "signed_at": "2025-03-01T14:03:07.123Z",
            "signed_ip": "203.0.113.7", "signed_user_agent": "Mozilla/5.0",
            "certificate_id": CERTIFICATE_ID, "snapshot_sha256": SNAPSHOT_SHA256,
        }
        self.evidence = {
            "certificate_id": CERTIFICATE_ID, "kind": "signature", "signer_name": "Zoë Brennan",
            "signed_at": "2025-03-01T14:03:07.123Z", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0",
            "snapshot_sha256": SNAPSHOT_SHA256, "signature_path": "M20 30 L60 90 L120 40 M250 100 L330 60",
            # What the customer signed: the report as frozen when it was completed.
            "snapshot": {
                "number": "SR-0012", "work_order_number": "WO-0042",
                "work_order_title": "Annual boiler service", "location": "12 Orchard Lane",
                "narrative": "Replaced the valve.\nKäse – café.", "completed_at": "2025-03-01T13:00:00.000Z",
                "attachments": [{"id": "a1", "filename": "valve.jpg", "content_type": "image/jpeg",
                                 "size": 1200, "sha256": "c" * 64, "is_image": True}],
            },
        }
        self.stored: dict[str, str] | None = None  # {"file_id", "sha256", "content_b64"}
        self.artifacts: dict[str, str] = {}  # kind -> sha256
        self.calls: list[tuple[str, str]] = []
        self.unavailable: set[tuple[str, str]] = set()
        self.expired = 0

    def call(self, service: str, method: str, *args: Any) -> Any:
        self.calls.append((service, method))
        if (service, method) in self.unavailable:
            raise ServiceUnavailable(f"{service} did not answer")
        return getattr(self, f"{service}_{method}")(*args)

    def count(self, service: str, method: str) -> int:
        return Counter(self.calls)[(service, method)]

    # -- documents ------------------------------------------------------------------
    def documents_get_service_report(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        if (workspace_id, report_id) != (WORKSPACE_ID, REPORT_ID):
            raise NotFound("Service report not found.")
        pdf = ({"ready": True, "file_id": self.stored["file_id"], "sha256": self.stored["sha256"]}
               if self.stored else {"ready": False, "file_id": None, "sha256": None})
        return {**self.report, "pdf": pdf}

    def documents_store_signed_pdf(self, workspace_id: str, report_id: str, data: dict) -> dict:
        assert hashlib.sha256(base64.b64decode(data["content_b64"])).hexdigest() == data["sha256"]
        if self.stored is None:  # idempotent: the first PDF stored stays
            self.stored = {"file_id": f"file-{data['sha256'][:8]}", **data}
        return {"file_id": self.stored["file_id"], "sha256": self.stored["sha256"]}

    def documents_expire_estimates(self) -> dict[str, int]:
        return {"expired": self.expired}

    def documents_list_reports_missing_pdf(self, older_than_seconds: int) -> list[dict[str, str]]:
        return [] if self.stored else [{"workspace_id": WORKSPACE_ID, "id": REPORT_ID}]

    # -- signatures -----------------------------------------------------------------
    def signatures_get_evidence(self, workspace_id: str, certificate_id: str) -> dict[str, Any]:
        assert (workspace_id, certificate_id) == (WORKSPACE_ID, CERTIFICATE_ID)
        return dict(self.evidence)

    def signatures_attach_artifact(self, workspace_id: str, certificate_id: str, data: dict) -> dict:
        assert (workspace_id, certificate_id) == (WORKSPACE_ID, CERTIFICATE_ID)
        existing = self.artifacts.setdefault(data["kind"], data["sha256"])
        if existing != data["sha256"]:
            raise Conflict("A different signed PDF is already attached.")
        return {"certificate_id": certificate_id, **data}

    # -- identity -------------------------------------------------------------------
    def identity_get_workspace(self, workspace_id: str) -> dict[str, Any]:
        return {"id": workspace_id, "name": "Brightwater Plumbing", "timezone": "Europe/London"}

    # The report's work order and its customer, whose language the PDF is written in.
    customer_language: str | None = "en"

    def documents_get_work_order(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        assert work_order_id == self.report["work_order_id"]
        return {"id": work_order_id, "customer_id": CUSTOMER_ID if self.customer_language else None}

    def identity_customer_language(self, workspace_id: str, customer_id: str) -> dict[str, Any]:
        assert customer_id == CUSTOMER_ID
        return {"language": self.customer_language}


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every PDF the task renders — for real, only counted."""
    rendered: list[bytes] = []
    real = tasks.render_signed_report

    def counting(*args: Any, **kwargs: Any) -> bytes:
        rendered.append(real(*args, **kwargs))
        return rendered[-1]

    monkeypatch.setattr(tasks, "render_signed_report", counting)
    return rendered


def test_a_signed_report_is_rendered_stored_once_and_its_hash_attached(
    services: FakeServices, renders: list[bytes],
) -> None:
    result = render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert len(renders) == 1 and renders[0].startswith(b"%PDF-")
    sha256 = hashlib.sha256(renders[0]).hexdigest()
    assert services.stored is not None
    assert base64.b64decode(services.stored["content_b64"]) == renders[0]
    assert result == {"file_id": services.stored["file_id"], "sha256": sha256}
    assert services.artifacts == {"signed_pdf": sha256}
    assert services.count("documents", "store_signed_pdf") == 1


def test_the_pdf_shows_what_was_signed_not_what_the_report_reads_today(
    services: FakeServices, renders: list[bytes],
) -> None:
    services.report.update(work_order_title="Renamed since", narrative="Edited since.")

    render_and_store(services, WORKSPACE_ID, REPORT_ID)

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(renders[0])).pages)
    assert "Annual boiler service" in text and "12 Orchard Lane" in text and "c" * 64 in text
    assert "Renamed since" not in text and "Edited since." not in text


def test_the_pdf_is_written_in_the_language_of_the_workspaces_locale_for_a_work_order_without_customer(
    services: FakeServices, renders: list[bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No customer to ask: the workspace's locale says the language, and how its days are
    written."""
    catalogs.install(monkeypatch, "fr", {"Work carried out": "Travaux réalisés", "Signed by": "Signé par"})
    french = {"id": WORKSPACE_ID, "name": "Plomberie", "timezone": "Europe/Paris", "locale": "fr-FR"}
    monkeypatch.setattr(services, "identity_get_workspace", lambda workspace_id: french)
    services.customer_language = None

    render_and_store(services, WORKSPACE_ID, REPORT_ID)

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(renders[0])).pages)
    assert "Travaux réalisés" in text and "Signé par Zoë Brennan" in text and "1 mars 2025" in text
    assert "Work carried out" not in text
    assert services.count("identity", "customer_language") == 0


def test_the_pdf_is_written_in_its_customers_language(
    services: FakeServices, renders: list[bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A French customer of a British workspace: French words, days as France writes them."""
    catalogs.install(monkeypatch, "fr", {"Work carried out": "Travaux réalisés", "Signed by": "Signé par"})
    services.customer_language = "fr"

    render_and_store(services, WORKSPACE_ID, REPORT_ID)

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(renders[0])).pages)
    assert "Travaux réalisés" in text and "Signé par Zoë Brennan" in text and "1 mars 2025" in text
    assert services.count("identity", "customer_language") == 1


def test_a_second_run_neither_renders_nor_stores_again(
    services: FakeServices, renders: list[bytes],
) -> None:
    first = render_and_store(services, WORKSPACE_ID, REPORT_ID)
    second = render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert second == first
    assert len(renders) == 1
    assert services.count("documents", "store_signed_pdf") == 1
    assert services.count("signatures", "get_evidence") == 1
    assert services.artifacts == {"signed_pdf": first["sha256"]}


@pytest.mark.parametrize("status", ["draft", "awaiting_signature"])
def test_an_unsigned_report_gets_no_pdf(status: str, renders: list[bytes]) -> None:
    services = FakeServices(status=status)

    assert render_and_store(services, WORKSPACE_ID, REPORT_ID) is None
    assert renders == []
    assert services.stored is None and services.artifacts == {}
    assert services.calls == [("documents", "get_service_report")]


def test_a_signing_still_in_progress_is_left_to_the_render_it_will_queue(renders: list[bytes]) -> None:
    services = FakeServices()
    services.report["certificate_id"] = None  # signed, evidence not linked yet

    assert render_and_store(services, WORKSPACE_ID, REPORT_ID) is None
    assert renders == [] and services.stored is None and services.artifacts == {}


def test_an_unknown_report_is_nothing_to_do(services: FakeServices, renders: list[bytes]) -> None:
    assert render_and_store(services, WORKSPACE_ID, "66d1f0c2a9b4e3d2c1b0afff") is None
    assert renders == [] and services.stored is None and services.artifacts == {}


def test_when_another_run_stored_first_its_hash_is_the_one_attached(
    services: FakeServices, renders: list[bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The other run stored its PDF between this run's read of the report and its store.
    winner = {"file_id": "file-winner", "sha256": "a" * 64, "content_b64": ""}
    real_store = services.documents_store_signed_pdf

    def store_after_the_other_run(*args: Any) -> dict:
        services.stored = winner
        return real_store(*args)

    monkeypatch.setattr(services, "documents_store_signed_pdf", store_after_the_other_run)

    result = render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert len(renders) == 1 and hashlib.sha256(renders[0]).hexdigest() != "a" * 64
    assert result == {"file_id": "file-winner", "sha256": "a" * 64}
    assert services.artifacts == {"signed_pdf": "a" * 64}


@pytest.mark.parametrize("unavailable", [
    ("documents", "get_service_report"),
    ("signatures", "get_evidence"),
    ("identity", "get_workspace"),
    ("documents", "store_signed_pdf"),
])
def test_an_unavailable_service_propagates_and_nothing_is_attached(
    services: FakeServices, renders: list[bytes], unavailable: tuple[str, str],
) -> None:
    services.unavailable.add(unavailable)

    with pytest.raises(ServiceUnavailable):
        render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert services.stored is None
    assert services.artifacts == {}
    assert services.count("signatures", "attach_artifact") == 0


def test_a_run_stopped_before_attaching_is_finished_by_the_retry_without_a_rerender(
    services: FakeServices, renders: list[bytes],
) -> None:
    services.unavailable.add(("signatures", "attach_artifact"))
    with pytest.raises(ServiceUnavailable):
        render_and_store(services, WORKSPACE_ID, REPORT_ID)
    assert services.stored is not None and services.artifacts == {}

    services.unavailable.clear()
    result = render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert len(renders) == 1
    assert services.count("documents", "store_signed_pdf") == 1
    assert result is not None and services.artifacts == {"signed_pdf": result["sha256"]}


def test_a_failed_render_stores_nothing_and_leaves_the_signature_alone(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch,
) -> None:
    evidence_before = dict(services.evidence)

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("font exploded")

    monkeypatch.setattr(tasks, "render_signed_report", broken)
    with pytest.raises(RuntimeError):
        render_and_store(services, WORKSPACE_ID, REPORT_ID)

    assert services.stored is None and services.artifacts == {}
    assert services.evidence == evidence_before
    # The task only ever reads the signature.
    assert {m for s, m in services.calls if s == "signatures"} == {"get_evidence"}


def test_the_task_renders_through_the_shared_client(
    services: FakeServices, renders: list[bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "amqp_client", lambda: services)

    result = render_signed_pdf.run(WORKSPACE_ID, REPORT_ID)

    assert result == {"file_id": services.stored["file_id"], "sha256": services.stored["sha256"]}
    assert services.artifacts == {"signed_pdf": result["sha256"]}


def test_the_task_retries_an_unavailable_service_a_bounded_number_of_times(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = render_signed_pdf
    assert options.name == "porchlight.render_signed_pdf"
    assert ServiceUnavailable in options.autoretry_for
    assert options.max_retries is not None and 0 < options.max_retries <= 10
    assert options.retry_backoff and options.retry_backoff_max <= 300 and options.retry_jitter

    # Run eagerly: each retry runs at once, and after the last one the error surfaces.
    services.unavailable.add(("documents", "get_service_report"))
    monkeypatch.setattr(tasks, "amqp_client", lambda: services)
    outcome = render_signed_pdf.apply(args=[WORKSPACE_ID, REPORT_ID])

    assert isinstance(outcome.result, ServiceUnavailable)
    assert services.count("documents", "get_service_report") == options.max_retries + 1


def test_the_estimate_sweep_calls_documents_and_tolerates_its_absence(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "amqp_client", lambda: services)
    services.expired = 3
    assert expire_estimates.run() == {"expired": 3}

    services.unavailable.add(("documents", "expire_estimates"))
    assert expire_estimates.run() is None


def test_the_missing_pdf_sweep_queues_each_report_and_tolerates_absence(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "amqp_client", lambda: services)
    queued = []
    monkeypatch.setattr(tasks.render_signed_pdf, "delay", lambda *args: queued.append(args))
    assert tasks.render_missing_pdfs.run() == {"queued": 1}
    assert queued == [(WORKSPACE_ID, REPORT_ID)]
    services.unavailable.add(("documents", "list_reports_missing_pdf"))
    assert tasks.render_missing_pdfs.run() is None


def test_the_app_schedules_the_sweeps_and_knows_the_tasks() -> None:
    schedule = celery.conf.beat_schedule
    sweeps = {"porchlight.expire_estimates", "porchlight.render_missing_pdfs",
              "porchlight.send_reminders", "porchlight.sweep_emails",
              "porchlight.recover_abandoned_answers"}
    assert {entry["task"] for entry in schedule.values()} == sweeps
    celery.loader.import_default_modules()
    assert {"porchlight.render_signed_pdf", "porchlight.deliver_email", *sweeps} <= set(celery.tasks)


def test_the_client_is_made_once_and_lazily(monkeypatch: pytest.MonkeyPatch, settings_env: Any) -> None:
    made: list[Any] = []

    class Client:
        def __init__(self, amqp_uri: str, *, timeout: float, name: str) -> None:
            made.append((amqp_uri, timeout))

        def close(self) -> None:
            made.append("closed")

    settings = settings_env(rpc_timeout="2.5")
    monkeypatch.setattr(tasks, "AmqpClient", Client)
    monkeypatch.setattr(tasks, "_client", None)

    first = tasks.amqp_client()
    assert tasks.amqp_client() is first
    assert made == [(settings.amqp_uri, 2.5)]
    tasks._close_amqp_client()
    assert made[-1] == "closed" and tasks._client is None


def test_the_worker_runs_beat_only_where_its_settings_say_so():
    assert worker_arguments(load_settings(), [])[:2] == ["worker", "--beat"]
    quiet = load_settings(worker_beat="false", log_format="json")
    assert worker_arguments(quiet, ["--hostname", "w@h"]) == [
        "--quiet", "worker", f"--loglevel={quiet.log_level}", "--hostname", "w@h"]


@pytest.mark.parametrize("why", ["the mail server said later", "a service did not answer"])
def test_a_retried_email_task_shows_the_stand_in_never_its_link(
        why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry is a new message: Celery would show its arguments — the link and the code —
    unless it carries the first message's stand-in (L-13)."""
    from celery.exceptions import Retry

    from workers.tasks import deliver_email

    secrets = {"link": "https://portal.example/portal/fsm/estimate/est_" + "7" * 40, "code": "123456"}
    shown = "('e1', <secrets>)"

    def deliver(*_args: Any, **_kwargs: Any) -> str:
        if why == "a service did not answer":
            raise ServiceUnavailable("notifications did not answer")
        return "retry"

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks, "deliver", deliver)
    monkeypatch.setattr(tasks, "amqp_client", lambda: None)
    monkeypatch.setattr(deliver_email.app, "send_task", lambda *a, **options: sent.append(options))
    deliver_email.push_request(id="t1", retries=0, args=["e1", secrets], kwargs={}, argsrepr=shown,
                               called_directly=False, is_eager=False, delivery_info={})
    try:
        with pytest.raises(Retry):
            deliver_email.run("e1", secrets)
    finally:
        deliver_email.pop_request()
    [options] = sent
    assert options["argsrepr"] == shown
    assert secrets["link"] not in repr(options.get("argsrepr")) and "123456" not in repr(options["argsrepr"])
