"""Documents storage. Every query carries the workspace id; every state change is one
conditional update whose filter names the state it expects."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import mongoengine as me

from porchlight.clock import utcnow
from porchlight.errors import Conflict
from porchlight.storage import get_in_workspace
from porchlight.validation import is_object_id
from services.documents.models import (
    Attachment,
    Counter,
    Estimate,
    ServiceReport,
    StoredFile,
    WorkOrder,
)
from services.documents.work_orders import can_move

NUMBER_PREFIX = {"work_order": "WO", "estimate": "EST", "service_report": "SR"}
_LABELS = {"work_order": "work order", "estimate": "estimate", "service_report": "service report"}


class DocumentsRepository:
    def ensure_indexes(self) -> None:
        for model in (Counter, WorkOrder, Estimate, ServiceReport, StoredFile):
            model.ensure_indexes()

    # -- shared -----------------------------------------------------------------------
    def _next_number(self, workspace_id: str, kind: str) -> str:
        counter = Counter.objects(id=f"{workspace_id}:{kind}").modify(
            upsert=True, new=True, inc__seq=1
        )
        return f"{NUMBER_PREFIX[kind]}-{counter.seq:04d}"

    def _create_numbered(
        self, model: type[me.Document], kind: str, workspace_id: str, actor: str,
        fields: dict[str, Any],
    ) -> Any:
        number = fields.pop("number", None)
        now = utcnow()
        for _ in range(1000):
            candidate = number or self._next_number(workspace_id, kind)
            try:
                return model(
                    workspace_id=workspace_id, number=candidate, created_by=actor,
                    updated_by=actor, created_at=now, updated_at=now, **fields,
                ).save(force_insert=True)
            except me.NotUniqueError:
                if number:
                    raise Conflict(
                        f"{_LABELS[kind].capitalize()} number {number} is already used in this workspace."
                    ) from None
                # A number typed by hand took this slot in the sequence: take the next.
        raise Conflict(f"Could not allocate a {_LABELS[kind]} number.")

    def _get(self, model: type[me.Document], kind: str, workspace_id: str, entity_id: str) -> Any:
        return get_in_workspace(model, workspace_id, entity_id, f"No such {_LABELS[kind]}.")

    # -- work orders ------------------------------------------------------------------
    def create_work_order(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> WorkOrder:
        if fields.get("status") == "completed":
            fields["completed_at"] = utcnow()
        return self._create_numbered(WorkOrder, "work_order", workspace_id, actor, fields)

    def get_work_order(self, workspace_id: str, work_order_id: str) -> WorkOrder:
        return self._get(WorkOrder, "work_order", workspace_id, work_order_id)

    def work_orders_by_id(self, workspace_id: str, ids: list[str]) -> dict[str, WorkOrder]:
        wanted = [i for i in set(ids) if is_object_id(i)]
        return {str(wo.id): wo for wo in WorkOrder.objects(workspace_id=workspace_id, id__in=wanted)}

    def find_work_order(self, workspace_id: str, work_order_id: str | None) -> WorkOrder | None:
        if not work_order_id or not is_object_id(work_order_id):
            return None
        return WorkOrder.objects(id=work_order_id, workspace_id=workspace_id).first()

    def list_work_orders(self, workspace_id: str, status: str | None, limit: int) -> list[WorkOrder]:
        query = WorkOrder.objects(workspace_id=workspace_id)
        if status:
            query = query.filter(status=status)
        return list(query.order_by("-created_at").limit(limit))

    def update_work_order(
        self, workspace_id: str, actor: str, work_order_id: str, changes: dict[str, Any]
    ) -> tuple[WorkOrder, str | None]:
        """Apply changes in one conditional update; returns the result and the previous
        status when the status changed. The status read is part of the filter, so a
        concurrent change makes this call retry against the new state, never skip it."""
        for _ in range(5):
            current = self.get_work_order(workspace_id, work_order_id)
            updates = {f"set__{k}": v for k, v in changes.items() if k != "status"}
            target = changes.get("status")
            moved = target is not None and target != current.status
            if moved:
                if not can_move(current.status, target):
                    raise Conflict(
                        f"A work order that is {current.status.replace('_', ' ')} "
                        f"cannot become {target.replace('_', ' ')}."
                    )
                updates["set__status"] = target
                if target == "completed":
                    updates["set__completed_at"] = utcnow()
            if not updates:
                return current, None
            updated = WorkOrder.objects(
                id=current.id, workspace_id=workspace_id, status=current.status
            ).modify(new=True, set__updated_at=utcnow(), set__updated_by=actor, **updates)
            if updated is not None:
                return updated, current.status if moved else None
        raise Conflict("The work order is changing too fast; try again.")

    # -- estimates --------------------------------------------------------------------
    def create_estimate(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> Estimate:
        return self._create_numbered(Estimate, "estimate", workspace_id, actor, fields)

    def get_estimate(self, workspace_id: str, estimate_id: str) -> Estimate:
        return self._get(Estimate, "estimate", workspace_id, estimate_id)

    def list_estimates(self, workspace_id: str, status: str | None, limit: int) -> list[Estimate]:
        query = Estimate.objects(workspace_id=workspace_id)
        if status:
            query = query.filter(status=status)
        return list(query.order_by("-created_at").limit(limit))

    def change_estimate(
        self, workspace_id: str, estimate_id: str, *, statuses: tuple[str, ...],
        revision: int | None = None, **updates: Any,
    ) -> Estimate | None:
        """One conditional update: applies only while the estimate is in one of
        ``statuses`` (and at ``revision`` when given). None when the state moved on."""
        query = Estimate.objects(id=estimate_id, workspace_id=workspace_id, status__in=statuses)
        if revision is not None:
            query = query.filter(revision=revision)
        return query.modify(new=True, **updates)

    def due_estimates(self, now: datetime, limit: int = 500) -> list[Estimate]:
        return list(Estimate.objects(status__in=("draft", "sent"), expires_at__lte=now).limit(limit))

    # -- service reports --------------------------------------------------------------
    def create_service_report(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> ServiceReport:
        return self._create_numbered(ServiceReport, "service_report", workspace_id, actor, fields)

    def get_service_report(self, workspace_id: str, report_id: str) -> ServiceReport:
        return self._get(ServiceReport, "service_report", workspace_id, report_id)

    def list_service_reports(self, workspace_id: str, work_order_id: str | None) -> list[ServiceReport]:
        query = ServiceReport.objects(workspace_id=workspace_id)
        if work_order_id:
            query = query.filter(work_order_id=work_order_id)
        return list(query.order_by("-created_at").limit(200))

    def change_service_report(
        self, workspace_id: str, report_id: str, *, statuses: tuple[str, ...], **updates: Any,
    ) -> ServiceReport | None:
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status__in=statuses
        ).modify(new=True, **updates)

    def attach_file(
        self, workspace_id: str, actor: str, report_id: str, stored: StoredFile, max_attachments: int,
    ) -> ServiceReport | None:
        """Attach while the report is a draft with room left; None otherwise."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="draft",
            **{f"attachments__{max_attachments - 1}__exists": False},
        ).modify(
            new=True, push__attachments=Attachment(
                file_id=str(stored.id), filename=stored.filename,
                content_type=stored.content_type, size=stored.size,
            ),
            set__updated_at=utcnow(), set__updated_by=actor,
        )

    def set_signed_pdf(self, workspace_id: str, report_id: str, stored: StoredFile) -> ServiceReport | None:
        """Record the signed PDF once; a second render finds it already set."""
        return ServiceReport.objects(
            id=report_id, workspace_id=workspace_id, status="signed", pdf_file_id=None
        ).modify(new=True, set__pdf_file_id=str(stored.id), set__pdf_sha256=stored.sha256)

    def signed_without_pdf(self, signed_before: datetime, limit: int = 200) -> list[ServiceReport]:
        return list(ServiceReport.objects(
            status="signed", pdf_file_id=None, certificate_id__ne=None, signed_at__lte=signed_before,
        ).only("id", "workspace_id").limit(limit))

    # -- files ------------------------------------------------------------------------
    def store_file(self, workspace_id: str, filename: str, content_type: str, content: bytes) -> StoredFile:
        return StoredFile(
            workspace_id=workspace_id, filename=filename, content_type=content_type,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
        ).save(force_insert=True)

    def get_file(self, workspace_id: str, file_id: str) -> StoredFile:
        return get_in_workspace(StoredFile, workspace_id, file_id, "No such file.")

    def delete_file(self, workspace_id: str, file_id: str) -> None:
        StoredFile.objects(id=file_id, workspace_id=workspace_id).delete()
