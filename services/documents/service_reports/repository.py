"""Service-report storage. Every query carries the workspace id (the PDF sweep alone spans
workspaces); every change is one conditional update whose filter is the rule it decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.words import N_
from porchlight.kit.storage import get_in_workspace, page_after
from services.documents.files.models import StoredFile
from services.documents.numbering.repository import create_numbered
from services.documents.service_reports.models import Attachment, FrozenReport, ServiceReport

# The reports a customer sees: completed ones.
SHOWN = ("awaiting_signature", "signed")

_SIGNER_FIELDS = ("signed_by", "signed_at", "signed_ip", "signed_user_agent")


class ServiceReportRepository:
    def ensure_indexes(self) -> None:
        ServiceReport.ensure_indexes()

    def create(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> ServiceReport:
        return create_numbered(ServiceReport, "service_report", workspace_id, actor, fields)

    def get(self, workspace_id: str, report_id: str) -> ServiceReport:
        return get_in_workspace(ServiceReport, workspace_id, report_id, N_("No such service report."))

    def page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
             limit: int) -> tuple[list[ServiceReport], bool]:
        """A page of the workspace's service reports newest first (``page_after``), narrowed by
        ``filters`` (``list_filters``)."""
        found = ServiceReport.objects(workspace_id=workspace_id, **filters)
        return page_after(ServiceReport, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    # -- the draft ------------------------------------------------------------------------
    def customer_page(self, workspace_id: str, work_order_ids: list[str], status: str | None,
                      cursor: str | None, limit: int) -> tuple[list[ServiceReport], bool]:
        """A page of the completed reports of these work orders (a customer's), the latest
        completed first (``page_after``)."""
        query = ServiceReport.objects(workspace_id=workspace_id, work_order_id__in=work_order_ids,
                                      status__in=SHOWN)
        if status:
            query = query.filter(status=status)
        return page_after(ServiceReport, query, workspace_id, cursor, order="-completed_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def shown_on(self, workspace_id: str, work_order_ids: list[str], limit: int) -> list[ServiceReport]:
        """The completed reports (awaiting signature or signed) of these work orders."""
        return list(ServiceReport.objects(workspace_id=workspace_id, work_order_id__in=work_order_ids,
                                          status__in=SHOWN)
                    .order_by("-completed_at", "-id").limit(limit))

    def edit_narrative(
        self, workspace_id: str, actor: str, report_id: str, narrative: str | None, now: datetime,
    ) -> ServiceReport | None:
        """Only a draft is edited: once complete, the customer may have seen it."""
        return ServiceReport.objects(id=report_id, workspace_id=workspace_id, status="draft").modify(
            new=True, set__narrative=narrative, set__updated_at=now, set__updated_by=actor)

    def attach_file(
        self, workspace_id: str, actor: str, report_id: str, stored: StoredFile, max_attachments: int,
        now: datetime,
    ) -> ServiceReport | None:
        """Attach, with the file's fingerprint, while the report is a draft with room left;
        None otherwise."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="draft",
            **{f"attachments__{max_attachments - 1}__exists": False},
        ).modify(
            new=True, push__attachments=Attachment(
                file_id=str(stored.id), filename=stored.filename, content_type=stored.content_type,
                size=stored.size, sha256=stored.sha256,
            ),
            set__updated_at=now, set__updated_by=actor,
        )

    def complete(
        self, workspace_id: str, actor: str, read: ServiceReport, frozen: FrozenReport,
    ) -> ServiceReport | None:
        """draft → awaiting_signature, keeping what the customer will sign — only while the
        draft is still exactly what was frozen (attachments are only ever added)."""
        return ServiceReport.objects(
            id=read.id, workspace_id=workspace_id, status="draft", narrative=read.narrative,
            attachments__size=len(read.attachments),
        ).modify(new=True, set__status="awaiting_signature", set__completed_at=frozen.completed_at,
                 set__frozen=frozen, set__updated_at=frozen.completed_at, set__updated_by=actor)

    # -- the customer's signature (see services/documents/evidence.py) -------------------
    def claim_signature(
        self, workspace_id: str, report_id: str, signer: dict[str, Any], now: datetime,
    ) -> ServiceReport | None:
        """The one update that decides among racing signatures: awaiting_signature → signed."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="awaiting_signature",
        ).modify(new=True, set__status="signed", set__signed_by=signer["signer_name"], set__signed_at=now,
                 set__signed_ip=signer["ip"], set__signed_user_agent=signer["user_agent"])

    def undo_signature(self, workspace_id: str, report_id: str) -> None:
        """Put a claimed signature whose evidence was not recorded back; a signature with a
        certificate is never undone."""
        ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", certificate_id=None,
        ).update_one(set__status="awaiting_signature", **{f"unset__{f}": True for f in _SIGNER_FIELDS})

    def adopt_evidence(
        self, workspace_id: str, report_id: str, signer_name: str, signed_at: datetime, ip: str,
        user_agent: str | None,
    ) -> None:
        """Replace the claimed signer with that of an earlier signature, whose evidence was
        recorded after we had given up on it."""
        ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", certificate_id=None,
        ).update_one(set__signed_by=signer_name, set__signed_at=signed_at, set__signed_ip=ip,
                     set__signed_user_agent=user_agent)

    def attach_certificate(
        self, workspace_id: str, report_id: str, certificate_id: str, snapshot_sha256: str,
    ) -> ServiceReport:
        """Link the recorded evidence to the signature; from here on it is never undone."""
        linked = ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", certificate_id=None,
        ).modify(new=True, set__certificate_id=certificate_id, set__snapshot_sha256=snapshot_sha256)
        return linked or self.get(workspace_id, report_id)

    def abandoned_signatures(self, claimed_before: datetime, limit: int = 100) -> list[ServiceReport]:
        """Signatures of every workspace claimed before ``claimed_before`` and still without
        their certificate: their process died half-way (``evidence.recover``)."""
        return list(ServiceReport.objects(status="signed", certificate_id=None,
                                          signed_at__lt=claimed_before).limit(limit))

    # -- the signed PDF -----------------------------------------------------------------
    def keep_signed_pdf(self, workspace_id: str, report_id: str, stored: StoredFile) -> ServiceReport | None:
        """Record the signed PDF once; a second render finds it already set (None)."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", pdf_file_id=None,
        ).modify(new=True, set__pdf_file_id=str(stored.id), set__pdf_sha256=stored.sha256)

    def signed_without_pdf(self, signed_before: datetime, limit: int = 200) -> list[ServiceReport]:
        """Signed reports of every workspace still waiting for their PDF (the sweep)."""
        return list(ServiceReport.objects(
            status="signed", pdf_file_id=None, certificate_id__ne=None, signed_at__lte=signed_before,
        ).only("id", "workspace_id").limit(limit))

    def choose_email(self, workspace_id: str, report_id: str, emails_customer: bool) -> None:
        ServiceReport.objects(id=report_id, workspace_id=workspace_id).update_one(
            set__emails_customer=emails_customer)

    def claim_signed_copy(self, workspace_id: str, report_id: str, now: datetime) -> ServiceReport | None:
        """The signed copy, taken once: only for a customer staff chose to email, and only
        once the signed PDF is kept. None when it is not (or no longer) due."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", emails_customer=True,
            pdf_file_id__ne=None, signed_copy_at=None,
        ).modify(new=True, set__signed_copy_at=now)

    def release_signed_copy(self, workspace_id: str, report_id: str) -> None:
        """A signed copy that could not be handed over is due again."""
        ServiceReport.objects(id=report_id, workspace_id=workspace_id).update_one(
            unset__signed_copy_at=True)

    def due_signed_copies(self, limit: int = 200) -> list[ServiceReport]:
        """Signed reports of every workspace whose copy is due and not handed over."""
        return list(ServiceReport.objects(
            status="signed", emails_customer=True, pdf_file_id__ne=None, signed_copy_at=None,
        ).only("id", "workspace_id").limit(limit))
