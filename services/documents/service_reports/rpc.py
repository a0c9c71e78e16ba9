"""The service-report RPC methods of the documents service: staff write the report and
attach photos, complete it, the customer signs, the worker keeps the signed PDF."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import parse_iso, utcnow
from porchlight.contracts.errors import CONTRACT_ERRORS, Conflict, InvalidInput, NotFound, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.notifications import NotifyCustomer
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.service_reports import (
    MAX_ATTACHMENTS,
    ServiceReportInput,
    ServiceReportPatch,
    ServiceReportQuery,
)
from porchlight.contracts.words import N_
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import list_filters, next_cursor
from services.documents import customer_access, customer_mail, evidence
from services.documents.dependencies import DocumentsDependencies
from services.documents.files.rules import read_signed_pdf, read_upload
from services.documents.files.wire import file_to_wire
from services.documents.service_reports import rules
from services.documents.service_reports.models import ServiceReport
from services.documents.service_reports.wire import (
    customer_view,
    service_report_to_wire,
    signature_display,
    snapshot,
)

log = logging.getLogger(__name__)

# What a customer may be told when they open or sign a report.
NO_REPORT = N_("No such service report.")
NO_FILE = N_("No such file.")
ALREADY_SIGNED = N_("This report is already signed.")
NOT_READY = N_("This report is not ready to be signed yet.")


class ServiceReportRpc(DocumentsDependencies):
    def _to_wire(self, report: ServiceReport) -> dict[str, Any]:
        if report.frozen:
            return service_report_to_wire(report, None)
        return service_report_to_wire(
            report, self.repo.work_orders.find(report.workspace_id, report.work_order_id))

    @rpc(expected_exceptions=(InvalidInput, Conflict))
    @idempotent()
    def create_service_report(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        sent = parse(ServiceReportInput, data)
        if self.repo.work_orders.find(workspace_id, sent.work_order_id) is None:
            raise InvalidInput("Some fields need attention.",
                               {"work_order_id": "No such work order in this workspace."})
        fields = sent.model_dump(exclude={"number"} if sent.number is None else set())
        report = self.repo.service_reports.create(workspace_id, actor, fields)
        self.dispatch("service_report_created", fact(workspace_id, actor, service_report_id=str(report.id)))
        return self._to_wire(report)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    @idempotent()
    def update_service_report(
        self, workspace_id: str, actor: str, report_id: str, data: dict
    ) -> dict[str, Any]:
        patch = parse(ServiceReportPatch, data)
        current = self.repo.service_reports.get(workspace_id, report_id)
        if "narrative" not in patch.sent():
            return self._to_wire(current)
        updated = self.repo.service_reports.edit_narrative(
            workspace_id, actor, report_id, patch.narrative, utcnow())
        if updated is None:
            raise Conflict("Only a draft report can be edited: the customer may already have seen it.")
        self.dispatch("service_report_updated", fact(workspace_id, actor, service_report_id=report_id))
        return self._to_wire(updated)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    @idempotent()
    def add_attachment(self, workspace_id: str, actor: str, report_id: str, data: dict) -> dict[str, Any]:
        """Store a photo or PDF on a draft report. The declared type must match the
        file's content; the size and count are capped."""
        filename, content_type, content = read_upload(data)
        report = self.repo.service_reports.get(workspace_id, report_id)
        if report.status != "draft":
            raise Conflict("Attachments can only be added to a draft report.")
        stored = self.repo.files.store(workspace_id, filename, content_type, content)
        updated = self.repo.service_reports.attach_file(
            workspace_id, actor, report_id, stored, MAX_ATTACHMENTS, utcnow())
        if updated is None:
            self.repo.files.discard_unused(workspace_id, str(stored.id))
            raise Conflict(f"A report holds at most {MAX_ATTACHMENTS} attachments, "
                           "and only while it is a draft.")
        self.dispatch("service_report_attachment_added", fact(
            workspace_id, actor, service_report_id=report_id, file_id=str(stored.id)))
        return self._to_wire(updated)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def complete_service_report(self, workspace_id: str, actor: str, report_id: str,
                                command: dict | None = None) -> dict[str, Any]:
        """The appointment is done: draft → awaiting_signature, freezing what the customer
        will be shown and sign; a new link that replaces the earlier ones, and the customer
        emailed it unless ``command`` (``NotifyCustomer``) says not to. Completing again
        changes nothing but the link and the email; a signed report is a conflict. A
        command refused half-way is finished by the same command (``customer_mail``)."""
        notify = parse(NotifyCustomer, command or {}).notify_customer
        current = self.repo.service_reports.get(workspace_id, report_id)
        work_order = self.repo.work_orders.find(workspace_id, current.work_order_id)
        if current.status == "draft":
            frozen = rules.freeze(current, work_order, utcnow())
            done = self.repo.service_reports.complete(workspace_id, actor, current, frozen)
            if done is not None:
                self.dispatch("service_report_completed", fact(
                    workspace_id, actor, service_report_id=report_id,
                    customer_id=work_order.customer_id if work_order else None))
                current = done
            else:
                current = self.repo.service_reports.get(workspace_id, report_id)
                if current.status == "draft":
                    raise Conflict("The report changed while it was being completed; "
                                   "check it and complete it again.")
        if current.status != "awaiting_signature":
            raise Conflict(ALREADY_SIGNED)
        minted = customer_mail.link(self.sharing, workspace_id, actor, "service_report", report_id,
                                    None, work_order and work_order.customer_id, replace=True)
        view = self._to_wire(current)
        emailed = customer_mail.email(
            self.notifications, workspace_id, actor, "service_report_ready",
            customer_mail.shared("service_report", report_id, minted),
            customer_mail.record("service_report", view, work_order and work_order.customer_id),
            notify=notify, minted=minted)
        self.repo.service_reports.choose_email(workspace_id, report_id, emailed["status"] == "queued")
        return {"service_report": view, **minted, "customer_email": emailed}

    @rpc(expected_exceptions=(NotFound,))
    def get_service_report(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        return self._to_wire(self.repo.service_reports.get(workspace_id, report_id))

    @rpc(expected_exceptions=(InvalidInput,))
    def list_service_reports(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's service reports newest first, a page at a time (``ServiceReportQuery``)."""
        request = parse(ServiceReportQuery, query, message=QUERY_ATTENTION)
        reports, more = self.repo.service_reports.page(
            workspace_id, list_filters(request), cursor=request.cursor, limit=request.limit or DEFAULT_PAGE)
        live = self.repo.work_orders.by_id(workspace_id, [r.work_order_id for r in reports if not r.frozen])
        return {"service_reports": [service_report_to_wire(r, live.get(r.work_order_id)) for r in reports],
                "next_cursor": next_cursor(reports, more)}

    @rpc(expected_exceptions=(NotFound,))
    def get_service_report_for_customer(self, capability: str, report_id: str) -> dict[str, Any]:
        """What the customer sees, for a grant that allows viewing it (``customer_access``)."""
        grant = customer_access.allowed(self.repo, capability, "service_report", report_id, "view")
        workspace_id = grant.workspace_id
        report = self.repo.service_reports.get(workspace_id, report_id)
        if report.status == "draft":
            raise NotFound(NO_REPORT)  # not shown before it is complete
        return customer_view(report)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    def sign_service_report(self, capability: str, report_id: str, data: dict) -> dict[str, Any]:
        """The customer's signature of what was frozen at completion, for a grant that
        allows signing it (``customer_access``). One conditional update (awaiting_signature
        → signed) decides among racing submits; evidence is recorded before anyone is told
        it worked, and the PDF is only queued — signing never waits."""
        grant = customer_access.allowed(self.repo, capability, "service_report", report_id, "sign")
        workspace_id = grant.workspace_id
        signer = rules.read_signature(data)
        report = self.repo.service_reports.get(workspace_id, report_id)
        if report.status != "awaiting_signature":
            raise Conflict(ALREADY_SIGNED if report.status == "signed" else NOT_READY)
        evidence.still_awaited()
        if self.repo.service_reports.claim_signature(workspace_id, report_id, signer, utcnow()) is None:
            raise Conflict(ALREADY_SIGNED)
        signed = evidence.settle(
            self.signatures, self.dispatch, workspace_id, {
                "kind": "signature", "entity_type": "service_report", "entity_id": report_id,
                "entity_number": report.number, "revision": 1, "signer_name": signer["signer_name"],
                "signature_path": signer["signature_path"], "snapshot": snapshot(customer_view(report)),
                "ip": signer["ip"], "user_agent": signer["user_agent"],
                **customer_access.vouched_by(grant),
            },
            self._signature_claim(workspace_id, report_id),
            event="service_report_signed", undone="service_report_signature_undone",
            ids={"service_report_id": report_id},
        )
        self.tasks.enqueue("porchlight.render_signed_pdf", workspace_id, report_id)
        return customer_view(signed)

    def _signature_claim(self, workspace_id: str, report_id: str) -> evidence.Claim[ServiceReport]:
        """The ways a claimed signature can end (``evidence.Claim``)."""
        repo = self.repo.service_reports
        return evidence.Claim(
            undo=lambda: repo.undo_signature(workspace_id, report_id),
            adopt=lambda late: repo.adopt_evidence(
                workspace_id, report_id, late["signer_name"], parse_iso(late["signed_at"]),
                late["ip"], late.get("user_agent")),
            attach=lambda recorded: repo.attach_certificate(
                workspace_id, report_id, recorded["certificate_id"], recorded["snapshot_sha256"]),
            display=signature_display,
        )

    @rpc
    def recover_abandoned_signatures(self, older_than_seconds: float | None = None) -> dict[str, int]:
        """The worker's sweep: every signature whose process died between its claim and its
        evidence is finished with the evidence recorded in time (and its PDF queued), or
        undone so the customer can sign again (``evidence.recover``)."""
        counts = {"adopted": 0, "undone": 0, "left": 0}
        for report in self.repo.service_reports.abandoned_signatures(
                evidence.abandoned_before(older_than_seconds)):
            workspace_id, report_id = report.workspace_id, str(report.id)
            try:
                ended = evidence.recover(
                    self.signatures, self.dispatch, workspace_id,
                    {"kind": "signature", "entity_type": "service_report", "entity_id": report_id,
                     "revision": 1},
                    self._signature_claim(workspace_id, report_id),
                    event="service_report_signed", undone="service_report_signature_undone",
                    ids={"service_report_id": report_id})
            except Unavailable:
                ended = "left"
            if ended == "adopted":
                self.tasks.enqueue("porchlight.render_signed_pdf", workspace_id, report_id)
            counts[ended] += 1
        return counts

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict))
    def store_signed_pdf(self, workspace_id: str, report_id: str, data: dict) -> dict[str, Any]:
        """Keep the rendered PDF once. A second render (a retried task) gets the first."""
        report = self.repo.service_reports.get(workspace_id, report_id)
        if report.pdf_file_id:
            return {"file_id": report.pdf_file_id, "sha256": report.pdf_sha256}
        if report.status != "signed":
            raise Conflict("Only a signed report has a signed PDF.")
        content = read_signed_pdf(data)
        stored = self.repo.files.store(
            workspace_id, f"{report.number}-signed.pdf", "application/pdf", content)
        if self.repo.service_reports.keep_signed_pdf(workspace_id, report_id, stored) is None:
            self.repo.files.discard_unused(workspace_id, str(stored.id))
            report = self.repo.service_reports.get(workspace_id, report_id)
            return {"file_id": report.pdf_file_id, "sha256": report.pdf_sha256}
        self.dispatch("signed_pdf_stored", fact(
            workspace_id, "worker", service_report_id=report_id, file_id=str(stored.id)))
        try:  # the PDF is kept whatever happens to the email; the sweep sends it later
            self._email_signed_copy(workspace_id, report_id)
        except Exception:  # noqa: BLE001 - logged; send_due_emails tries again
            log.exception("signed copy of report %s not handed over yet", report_id)
        return {"file_id": str(stored.id), "sha256": stored.sha256}

    @rpc
    def list_reports_missing_pdf(self, older_than_seconds: int = 120) -> list[dict[str, str]]:
        """Signed reports still without their PDF after a while (the worker's sweep)."""
        cutoff = utcnow() - timedelta(seconds=max(0, int(older_than_seconds)))
        return [{"workspace_id": r.workspace_id, "id": str(r.id)}
                for r in self.repo.service_reports.signed_without_pdf(cutoff)]

    @rpc(expected_exceptions=(NotFound, Conflict))
    def get_signed_pdf(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        """The signed PDF. The report exists but has none yet (unsigned, or rendering): a
        Conflict with the reason, not NotFound — the report is there, its state says no."""
        report = self.repo.service_reports.get(workspace_id, report_id)
        if not report.pdf_file_id:
            raise Conflict("The signed PDF is not ready yet; try again in a moment."
                           if report.status == "signed" else "This report has not been signed yet.")
        return file_to_wire(self.repo.files.get(workspace_id, report.pdf_file_id))

    @rpc(expected_exceptions=(NotFound,))
    def open_report_file(self, capability: str, report_id: str, file_id: str) -> dict[str, Any]:
        """One of a report's photos or files, for a grant that allows viewing the report
        (``customer_access``); a file of another report is NotFound."""
        grant = customer_access.allowed(self.repo, capability, "service_report", report_id, "view")
        workspace_id = grant.workspace_id
        report = self.repo.service_reports.get(workspace_id, report_id)
        attached = {a.file_id for a in report.attachments}
        if report.status == "draft" or not isinstance(file_id, str) or file_id not in attached:
            raise NotFound(NO_FILE)
        return file_to_wire(self.repo.files.get(workspace_id, file_id))
