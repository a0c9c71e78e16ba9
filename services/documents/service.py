"""documents: the customer-facing records of a workspace — work orders, estimates,
service reports and the files they carry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import logging
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import eventlet
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy, rpc

from porchlight import signature_path
from porchlight.clock import isoformat, parse_iso, utcnow
from porchlight.errors import Conflict, InvalidInput, NotFound, StaleRevision, Unavailable
from porchlight.events import fact
from porchlight.storage import Store
from porchlight.task_queue import TaskQueue
from porchlight.validation import Form
from services.documents import estimates as est_rules
from services.documents import money
from services.documents import service_reports as report_rules
from services.documents.models import ALIAS, Estimate, EstimateOutcome, ServiceReport, WorkOrder
from services.documents.repository import DocumentsRepository
from services.documents.work_orders import CUSTOMER_LABELS, STATUSES

log = logging.getLogger(__name__)
# How long a customer's answer waits for the signatures service before it is undone.
EVIDENCE_TIMEOUT = 5.0

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
WORK_ORDER_EDITABLE = ("title", "status", "description", "location", "customer_id", "internal_notes")


def work_order_to_wire(wo: WorkOrder) -> dict[str, Any]:
    """The staff view, internal notes included."""
    return {
        "id": str(wo.id),
        "workspace_id": wo.workspace_id,
        "number": wo.number,
        "title": wo.title,
        "status": wo.status,
        "status_label": CUSTOMER_LABELS[wo.status],
        "description": wo.description,
        "location": wo.location,
        "customer_id": wo.customer_id,
        "estimate_id": wo.estimate_id,
        "internal_notes": wo.internal_notes,
        "completed_at": isoformat(wo.completed_at),
        "created_at": isoformat(wo.created_at),
        "updated_at": isoformat(wo.updated_at),
    }


def work_order_for_customer(wo: WorkOrder) -> dict[str, Any]:
    """What a customer may see. Built field by field — never by removing fields from the
    staff view — so a field added later stays private until someone decides otherwise."""
    return {
        "number": wo.number,
        "title": wo.title,
        "status": wo.status,
        "status_label": CUSTOMER_LABELS[wo.status],
        "description": wo.description,
        "location": wo.location,
        "completed_at": isoformat(wo.completed_at),
    }


def _read_number(form: Form) -> str | None:
    """An optional hand-typed document number (work order, estimate, report)."""
    number = form.text("number", required=False, max_length=32)
    if number is not None and not _NUMBER.match(number):
        form.error("number", "Use letters, digits and . _ / - only (at most 32).")
        return None
    return number


def estimate_to_wire(estimate: Estimate) -> dict[str, Any]:
    """The staff view of an estimate, with its outcome when there is one."""
    view = est_rules.customer_view(estimate, None)
    outcome = estimate.outcome
    return {
        "id": str(estimate.id),
        "workspace_id": estimate.workspace_id,
        "number": estimate.number,
        "title": estimate.title,
        "customer_id": estimate.customer_id,
        "currency": estimate.currency,
        "valid_until": estimate.valid_until,
        "expires_at": isoformat(estimate.expires_at),
        "notes": estimate.notes,
        "status": estimate.status,
        "revision": estimate.revision,
        "line_items": view["lines"],
        "subtotal_minor": view["subtotal_minor"],
        "tax_minor": view["tax_minor"],
        "total_minor": view["total_minor"],
        "subtotal": view["subtotal"],
        "tax": view["tax"],
        "total": view["total"],
        "sent_at": isoformat(estimate.sent_at),
        "approved_at": isoformat(estimate.approved_at),
        "rejected_at": isoformat(estimate.rejected_at),
        "expired_at": isoformat(estimate.expired_at),
        "converted_at": isoformat(estimate.converted_at),
        "work_order_id": estimate.work_order_id,
        "outcome": None if outcome is None else {
            "response": outcome.response,
            "revision": outcome.revision,
            "signer_name": outcome.signer_name,
            "reason": outcome.reason,
            "included_optional": list(outcome.included_optional),
            "total_minor": outcome.total_minor,
            "total": money.format_minor(outcome.total_minor or 0, estimate.currency),
            "certificate_id": outcome.certificate_id,
            "snapshot_sha256": outcome.snapshot_sha256,
            "ip": outcome.ip,
            "user_agent": outcome.user_agent,
        },
        "created_at": isoformat(estimate.created_at),
        "updated_at": isoformat(estimate.updated_at),
    }


def service_report_to_wire(report: ServiceReport, work_order: WorkOrder | None) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "workspace_id": report.workspace_id,
        "number": report.number,
        "work_order_id": report.work_order_id,
        "work_order_number": work_order.number if work_order else None,
        "work_order_title": work_order.title if work_order else None,
        "narrative": report.narrative,
        "status": report.status,
        "attachments": [
            {"id": a.file_id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in report.attachments
        ],
        "completed_at": isoformat(report.completed_at),
        "signed_by": report.signed_by,
        "signed_at": isoformat(report.signed_at),
        "signed_ip": report.signed_ip,
        "signed_user_agent": report.signed_user_agent,
        "certificate_id": report.certificate_id,
        "snapshot_sha256": report.snapshot_sha256,
        "pdf": {"ready": bool(report.pdf_file_id), "file_id": report.pdf_file_id,
                "sha256": report.pdf_sha256},
        "created_at": isoformat(report.created_at),
    }


def _optional_choice(estimate: Estimate, include: list[str] | None) -> list[str] | None:
    """The customer's choice of optional lines; anything that is not an optional line of
    this estimate is a bad request, not silently ignored."""
    if include is None:
        return None
    optional_ids = {item.id for item in estimate.line_items if item.optional}
    if (not isinstance(include, list) or not all(isinstance(i, str) for i in include)
            or not set(include) <= optional_ids):
        raise InvalidInput("Some fields need attention.",
                           {"include_optional": "Only optional lines of this estimate can be included."})
    return [item.id for item in estimate.line_items if item.id in set(include)]


def _work_order_fields(form: Form) -> dict[str, Any]:
    fields = {
        "title": form.text("title", max_length=200),
        "status": form.choice("status", STATUSES, default=None if form.partial else "new"),
        "description": form.text("description", required=False, max_length=10_000, multiline=True),
        "location": form.text("location", required=False, max_length=500, multiline=True),
        "customer_id": form.object_id("customer_id", required=False),
        "internal_notes": form.text(
            "internal_notes", required=False, max_length=10_000, multiline=True
        ),
    }
    if form.partial:
        # Only what was sent changes; an explicit null or "" clears an optional field.
        return {k: v for k, v in fields.items() if form.has(k) and k not in form.errors}
    return fields


class DocumentsService:
    name = "documents"

    repo: DocumentsRepository = Store(ALIAS, DocumentsRepository)
    dispatch = EventDispatcher()
    # Requests to signatures expire with the wait, so an answer that was undone after a
    # timeout is not recorded later behind the customer's back.
    signatures = RpcProxy("signatures", expiration=EVIDENCE_TIMEOUT)
    tasks = TaskQueue()

    def _record_evidence(self, workspace_id: str, evidence: dict[str, Any]) -> dict[str, Any]:
        """Record evidence, or raise: ``Unavailable`` after the timeout (an Exception, so
        nameko still replies and acknowledges), ``Conflict`` when this revision already
        has a different answer, ``InvalidInput`` when the evidence is refused."""
        refusal = Unavailable("Your answer could not be recorded just now. Nothing was changed; "
                              "please try again in a minute.")
        with eventlet.Timeout(EVIDENCE_TIMEOUT, refusal):
            return self.signatures.record_evidence.call_async(workspace_id, evidence).result()

    def _late_evidence(self, workspace_id: str, entity_type: str, entity_id: str,
                       revision: int) -> dict[str, Any] | None:
        """Evidence of an earlier attempt that arrived after we had given up on it."""
        for record in self.signatures.list_evidence(workspace_id, entity_type, entity_id):
            if record["revision"] == revision:
                return record
        return None

    @rpc
    def create_work_order(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        form = Form(data)
        form.reject_unknown(("number", *WORK_ORDER_EDITABLE))
        number = _read_number(form)
        fields = _work_order_fields(form)
        form.check()
        if number:
            fields["number"] = number
        wo = self.repo.create_work_order(workspace_id, actor, fields)
        self.dispatch("work_order_created", fact(workspace_id, actor, work_order_id=str(wo.id)))
        return work_order_to_wire(wo)

    @rpc
    def update_work_order(
        self, workspace_id: str, actor: str, work_order_id: str, data: dict
    ) -> dict[str, Any]:
        form = Form(data, partial=True)
        form.reject_unknown(WORK_ORDER_EDITABLE)
        changes = _work_order_fields(form)
        if form.has("title") and changes.get("title") is None and "title" not in form.errors:
            form.error("title", "This field is required.")
        if form.has("status") and changes.get("status") is None and "status" not in form.errors:
            form.error("status", "This field is required.")
        form.check()
        wo, previous_status = self.repo.update_work_order(workspace_id, actor, work_order_id, changes)
        if set(changes) - {"status"}:
            self.dispatch("work_order_updated", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                fields=sorted(set(changes) - {"status"}),
            ))
        if previous_status is not None:
            self.dispatch("work_order_status_changed", fact(
                workspace_id, actor, work_order_id=str(wo.id),
                from_status=previous_status, to_status=wo.status,
            ))
        return work_order_to_wire(wo)

    @rpc
    def get_work_order(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        return work_order_to_wire(self.repo.get_work_order(workspace_id, work_order_id))

    @rpc
    def get_work_order_for_customer(self, workspace_id: str, work_order_id: str) -> dict[str, Any]:
        return work_order_for_customer(self.repo.get_work_order(workspace_id, work_order_id))

    @rpc
    def list_work_orders(
        self, workspace_id: str, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        form = Form({"status": status}, partial=True)
        form.choice("status", STATUSES, required=False)
        form.check()
        limit = max(1, min(int(limit), 500))
        return [work_order_to_wire(wo) for wo in self.repo.list_work_orders(workspace_id, status, limit)]

    @rpc
    def entity_exists(self, workspace_id: str, entity_type: str, entity_id: str) -> bool:
        """Whether the workspace holds this entity — asked before a share link is minted."""
        getter = {
            "work_order": self.repo.get_work_order,
            "estimate": self.repo.get_estimate,
            "service_report": self.repo.get_service_report,
        }.get(entity_type)
        if getter is None:
            raise NotFound("Links cannot be shared for this kind of record.")
        getter(workspace_id, entity_id)
        return True

    @rpc
    def get_link_target(self, workspace_id: str, entity_type: str, entity_id: str) -> dict[str, Any]:
        """What sharing asks before minting a link: the record exists in the workspace
        (else ``NotFound``), and when it ends — an estimate at the end of its valid-until
        day (UTC), anything else never (``None``)."""
        self.entity_exists(workspace_id, entity_type, entity_id)
        ends_at = None
        if entity_type == "estimate":
            ends_at = isoformat(self.repo.get_estimate(workspace_id, entity_id).expires_at)
        return {"entity_type": entity_type, "entity_id": entity_id, "ends_at": ends_at}

    # -- estimates --------------------------------------------------------------------
    def _expire_if_due(self, estimate: Estimate, *, record: bool = True) -> Estimate:
        """Checked on every access, so a page left open past the date can never accept.
        Reads (``record=False``) only show the estimate as expired; commands and the sweep
        store it — a GET never changes state."""
        now = utcnow()
        if estimate.status in est_rules.OPEN and estimate.expires_at <= now and not record:
            estimate.status = "expired"  # this copy only; never saved from a read
            return estimate
        if estimate.status in est_rules.OPEN and estimate.expires_at <= now:
            # The date is part of the filter: a concurrent edit that extended it wins.
            expired = Estimate.objects(
                id=estimate.id, workspace_id=estimate.workspace_id, status__in=est_rules.OPEN,
                expires_at__lte=now,
            ).modify(new=True, set__status="expired", set__expired_at=now)
            if expired is not None:
                self.dispatch("estimate_expired", fact(
                    estimate.workspace_id, "system", estimate_id=str(estimate.id)))
                return expired
            return self.repo.get_estimate(estimate.workspace_id, str(estimate.id))
        return estimate

    def _estimate_fields(self, form: Form, defaults: dict[str, Any], currency: str) -> dict[str, Any]:
        today = datetime.now(ZoneInfo(defaults["timezone"])).date()
        fields: dict[str, Any] = {
            "title": form.text("title", max_length=200),
            "customer_id": form.object_id("customer_id", required=False),
            "notes": form.text("notes", required=False, max_length=est_rules.MAX_NOTES, multiline=True),
        }
        valid_until = est_rules.read_valid_until(form, today, required=not form.partial)
        if valid_until is not None:
            fields["valid_until"] = valid_until.isoformat()
            fields["expires_at"] = est_rules.end_of_day_utc(valid_until, defaults["timezone"])
        if not form.partial or form.has("line_items"):
            fields["line_items"] = est_rules.read_line_items(form, currency)
        if form.partial:
            keep = {k: v for k, v in fields.items() if form.has(k) and k not in form.errors}
            if "expires_at" in fields:
                keep["expires_at"] = fields["expires_at"]
            if "title" in keep and keep["title"] is None:
                form.error("title", "This field is required.")
            return keep
        return fields

    @rpc
    def create_estimate(
        self, workspace_id: str, actor: str, data: dict, defaults: dict[str, Any]
    ) -> dict[str, Any]:
        """``defaults`` carries the workspace's currency and time zone (identity owns them)."""
        form = Form(data)
        form.reject_unknown(("number", "title", "customer_id", "currency", "valid_until", "notes",
                             "line_items"))
        number = _read_number(form)
        currency = form.currency("currency", default=defaults["currency"])
        fields = self._estimate_fields(form, defaults, currency or "EUR")
        form.check()
        fields["currency"] = currency
        if number:
            fields["number"] = number
        estimate = self.repo.create_estimate(workspace_id, actor, fields)
        self.dispatch("estimate_created", fact(workspace_id, actor, estimate_id=str(estimate.id)))
        return estimate_to_wire(estimate)

    @rpc
    def update_estimate(
        self, workspace_id: str, actor: str, estimate_id: str, data: dict, defaults: dict[str, Any]
    ) -> dict[str, Any]:
        """Edit a draft or sent estimate. Each edit makes a new revision: the customer sees
        it at once, and an answer given to an older one is refused."""
        current = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id))
        form = Form(data, partial=True)
        form.reject_unknown(("title", "customer_id", "valid_until", "notes", "line_items"))
        changes = self._estimate_fields(form, defaults, current.currency)
        form.check()
        if current.status not in est_rules.EDITABLE:
            raise Conflict(f"An estimate that is {current.status} can no longer be edited.")
        if not changes:
            return estimate_to_wire(current)
        # Every edit is a new revision, draft or sent: a link may already be open, and an
        # answer must always name exactly the version it was given.
        revision = current.revision + 1
        updated = self.repo.change_estimate(
            workspace_id, estimate_id, statuses=(current.status,), revision=current.revision,
            set__revision=revision, set__updated_at=utcnow(), set__updated_by=actor,
            **{f"set__{k}": v for k, v in changes.items()},
        )
        if updated is None:
            raise Conflict("The estimate changed while you were editing it; reload and try again.")
        self.dispatch("estimate_updated", fact(
            workspace_id, actor, estimate_id=estimate_id, revision=updated.revision))
        return estimate_to_wire(updated)

    @rpc
    def send_estimate(self, workspace_id: str, actor: str, estimate_id: str) -> dict[str, Any]:
        """draft → sent. Sending again is harmless; any other state is a conflict."""
        current = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id))
        if current.status == "sent":
            return estimate_to_wire(current)
        sent = self.repo.change_estimate(
            workspace_id, estimate_id, statuses=("draft",), set__status="sent", set__sent_at=utcnow(),
        )
        if sent is None:
            raise Conflict(f"An estimate that is {current.status} cannot be sent.")
        self.dispatch("estimate_sent", fact(workspace_id, actor, estimate_id=estimate_id))
        return estimate_to_wire(sent)

    @rpc
    def get_estimate(self, workspace_id: str, estimate_id: str) -> dict[str, Any]:
        estimate = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id), record=False)
        return estimate_to_wire(estimate)

    @rpc
    def list_estimates(self, workspace_id: str, status: str | None = None) -> list[dict[str, Any]]:
        form = Form({"status": status}, partial=True)
        form.choice("status", est_rules.STATUSES, required=False)
        form.check()
        return [estimate_to_wire(e) for e in self.repo.list_estimates(workspace_id, status, 200)]

    @rpc
    def get_estimate_for_customer(
        self, workspace_id: str, estimate_id: str, include: list[str] | None = None
    ) -> dict[str, Any]:
        estimate = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id), record=False)
        return est_rules.customer_view(estimate, _optional_choice(estimate, include))

    @rpc
    def respond_to_estimate(self, workspace_id: str, estimate_id: str, data: dict) -> dict[str, Any]:
        """The customer's accept or decline, with the evidence of exactly what they saw.

        One conditional update decides: it applies only while the estimate is open, at
        the revision the customer was shown, and not past its date. Of any number of
        racing answers exactly one wins; the others get a Conflict and change nothing."""
        form = Form(data)
        form.reject_unknown(("response", "revision", "signer_name", "reason", "include_optional",
                             "ip", "user_agent"))
        response = form.choice("response", ("accept", "decline"))
        revision = data.get("revision")
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
            form.error("revision", "Must be the revision number shown on the page.")
        signer = form.text("signer_name", required=response == "accept", max_length=120)
        reason = form.text("reason", required=False, max_length=1000, multiline=True)
        include = data.get("include_optional") or []
        if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
            form.error("include_optional", "Must be a list of line ids.")
        ip = form.text("ip", max_length=45)
        user_agent = form.text("user_agent", required=False, max_length=512)
        form.check()
        estimate = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id))
        if estimate.status not in est_rules.OPEN:
            raise Conflict(f"This estimate is already {est_rules.STATUS_LABELS[estimate.status].lower()}.")
        if revision != estimate.revision:
            raise StaleRevision("This estimate was updated after you opened it. "
                                "Please review the new version before answering.")
        chosen = _optional_choice(estimate, include if response == "accept" else [])
        view = est_rules.customer_view(estimate, chosen)
        now = utcnow()
        outcome = EstimateOutcome(
            response=response, revision=revision, signer_name=signer, reason=reason,
            included_optional=chosen, subtotal_minor=view["subtotal_minor"],
            tax_minor=view["tax_minor"], total_minor=view["total_minor"], ip=ip, user_agent=user_agent,
        )
        stamp = {"set__approved_at": now} if response == "accept" else {"set__rejected_at": now}
        won = Estimate.objects(
            id=estimate.id, workspace_id=workspace_id, status__in=est_rules.OPEN,
            revision=revision, expires_at__gt=now,
        ).modify(new=True, set__status="approved" if response == "accept" else "rejected",
                 set__outcome=outcome, **stamp)
        if won is None:
            latest = self._expire_if_due(self.repo.get_estimate(workspace_id, estimate_id))
            if latest.status in est_rules.OPEN and latest.revision != revision:
                raise StaleRevision("This estimate was updated after you opened it. "
                                    "Please review the new version before answering.")
            raise Conflict(f"This estimate is already {est_rules.STATUS_LABELS[latest.status].lower()}.")
        try:
            evidence = self._record_evidence(workspace_id, {
                "kind": "acceptance" if response == "accept" else "decline",
                "entity_type": "estimate", "entity_id": estimate_id,
                "entity_number": estimate.number, "revision": revision,
                "signer_name": signer or "(not given)", "reason": reason,
                "snapshot": est_rules.snapshot(view), "ip": ip, "user_agent": user_agent,
            })
        except Exception as exc:
            late = (self._late_evidence(workspace_id, "estimate", estimate_id, revision)
                    if isinstance(exc, Conflict) else None)
            if late is None:
                # No evidence, no answer: put the estimate back exactly as it was.
                Estimate.objects(
                    id=estimate.id, workspace_id=workspace_id, status=won.status,
                    outcome__certificate_id=None,
                ).update_one(
                    set__status=estimate.status, unset__outcome=True,
                    **({"unset__approved_at": True} if response == "accept"
                       else {"unset__rejected_at": True}),
                )
                raise
            # An earlier attempt was recorded after we had given up on it: that answer
            # is the customer's, with its evidence, and it stands.
            evidence = late
            self._adopt_estimate_evidence(workspace_id, estimate, late)
            response = "accept" if late["kind"] == "acceptance" else "decline"
        final = Estimate.objects(id=estimate.id, workspace_id=workspace_id).modify(
            new=True, set__outcome__certificate_id=evidence["certificate_id"],
            set__outcome__snapshot_sha256=evidence["snapshot_sha256"],
        )
        event = "estimate_approved" if response == "accept" else "estimate_rejected"
        self.dispatch(event, fact(workspace_id, "customer", estimate_id=estimate_id, revision=revision,
                                  certificate_id=evidence["certificate_id"]))
        return est_rules.customer_view(final, None)

    def _adopt_estimate_evidence(self, workspace_id: str, estimate: Estimate, late: dict) -> None:
        snap = late["snapshot"]
        accepted = late["kind"] == "acceptance"
        signed_at = parse_iso(late["signed_at"])
        Estimate.objects(id=estimate.id, workspace_id=workspace_id, outcome__certificate_id=None).update_one(
            set__status="approved" if accepted else "rejected",
            set__outcome=EstimateOutcome(
                response="accept" if accepted else "decline", revision=late["revision"],
                signer_name=late["signer_name"], reason=late.get("reason"),
                included_optional=[line["id"] for line in snap["lines"]
                                   if line["optional"] and line["included"]],
                subtotal_minor=snap["subtotal_minor"], tax_minor=snap["tax_minor"],
                total_minor=snap["total_minor"], ip=late["ip"], user_agent=late.get("user_agent"),
                certificate_id=late["certificate_id"], snapshot_sha256=late["snapshot_sha256"],
            ),
            **({"set__approved_at": signed_at, "unset__rejected_at": True} if accepted
               else {"set__rejected_at": signed_at, "unset__approved_at": True}),
        )

    @rpc
    def convert_estimate(self, workspace_id: str, actor: str, estimate_id: str) -> dict[str, Any]:
        """approved → converted, creating the work order and linking both ways. Repeating
        it returns the same work order."""
        estimate = self.repo.get_estimate(workspace_id, estimate_id)
        if estimate.status == "converted" and estimate.work_order_id:
            return self.get_work_order(workspace_id, estimate.work_order_id)
        if estimate.status != "approved":
            raise Conflict("Only an accepted estimate can become a work order; "
                           f"this one is {estimate.status}.")
        # Only an acceptance whose evidence is recorded can be converted.
        claimed = Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status="approved",
            outcome__certificate_id__ne=None,
        ).modify(new=True, set__status="converted", set__converted_at=utcnow())
        if claimed is None:
            latest = self.repo.get_estimate(workspace_id, estimate_id)
            if latest.status == "converted" and latest.work_order_id:
                return self.get_work_order(workspace_id, latest.work_order_id)
            raise Conflict("This acceptance is still being recorded, or another conversion is "
                           "under way; try again in a moment.")
        lines = "\n".join(
            f"- {line['description']} ({line['quantity']})"
            for line in est_rules.customer_view(claimed, None)["lines"] if line["included"]
        )
        wo = self.repo.create_work_order(workspace_id, actor, {
            "title": estimate.title, "status": "new", "customer_id": estimate.customer_id,
            "description": f"From estimate {estimate.number}:\n{lines}", "estimate_id": estimate_id,
        })
        self.repo.change_estimate(workspace_id, estimate_id, statuses=("converted",),
                                  set__work_order_id=str(wo.id))
        self.dispatch("work_order_created", fact(workspace_id, actor, work_order_id=str(wo.id)))
        self.dispatch("estimate_converted", fact(
            workspace_id, actor, estimate_id=estimate_id, work_order_id=str(wo.id)))
        return work_order_to_wire(wo)

    @rpc
    def expire_estimates(self) -> dict[str, int]:
        """The timed sweep: every open estimate past its date becomes expired."""
        count = 0
        for estimate in self.repo.due_estimates(utcnow()):
            if self._expire_if_due(estimate).status == "expired":
                count += 1
        return {"expired": count}

    # -- service reports --------------------------------------------------------------
    @rpc
    def create_service_report(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        form = Form(data)
        form.reject_unknown(("number", "work_order_id", "narrative"))
        number = _read_number(form)
        work_order_id = form.object_id("work_order_id")
        narrative = form.text("narrative", required=False, max_length=20_000, multiline=True)
        form.check()
        if self.repo.find_work_order(workspace_id, work_order_id) is None:
            raise InvalidInput("Some fields need attention.",
                               {"work_order_id": "No such work order in this workspace."})
        fields: dict[str, Any] = {"work_order_id": work_order_id, "narrative": narrative}
        if number:
            fields["number"] = number
        report = self.repo.create_service_report(workspace_id, actor, fields)
        self.dispatch("service_report_created", fact(workspace_id, actor, service_report_id=str(report.id)))
        return self._report_to_wire(report)

    def _report_to_wire(self, report: ServiceReport) -> dict[str, Any]:
        wo = self.repo.find_work_order(report.workspace_id, report.work_order_id)
        return service_report_to_wire(report, wo)

    @rpc
    def update_service_report(
        self, workspace_id: str, actor: str, report_id: str, data: dict
    ) -> dict[str, Any]:
        form = Form(data, partial=True)
        form.reject_unknown(("narrative",))
        narrative = form.text("narrative", required=False, max_length=20_000, multiline=True)
        form.check()
        current = self.repo.get_service_report(workspace_id, report_id)
        if not form.has("narrative"):
            return self._report_to_wire(current)
        updated = self.repo.change_service_report(
            workspace_id, report_id, statuses=("draft",), set__narrative=narrative,
            set__updated_at=utcnow(), set__updated_by=actor,
        )
        if updated is None:
            raise Conflict("Only a draft report can be edited: the customer may already have seen it.")
        self.dispatch("service_report_updated", fact(workspace_id, actor, service_report_id=report_id))
        return self._report_to_wire(updated)

    @rpc
    def add_attachment(self, workspace_id: str, actor: str, report_id: str, data: dict) -> dict[str, Any]:
        """Store a photo or PDF on a draft report. The declared type must match the
        file's content; the size and count are capped."""
        form = Form(data)
        form.reject_unknown(("filename", "content_type", "content_b64"))
        filename = form.text("filename", max_length=200)
        content_type = form.choice("content_type", report_rules.ALLOWED_TYPES)
        encoded = data.get("content_b64")
        content = b""
        if not isinstance(encoded, str) or not encoded:
            form.error("content_b64", "The file is missing.")
        elif len(encoded) > (report_rules.MAX_FILE_BYTES * 4) // 3 + 8:
            form.error("file", f"Files may be at most {report_rules.MAX_FILE_BYTES // (1024 * 1024)} MB.")
        else:
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                form.error("content_b64", "Must be base64.")
        if content and len(content) > report_rules.MAX_FILE_BYTES:
            form.error("file", f"Files may be at most {report_rules.MAX_FILE_BYTES // (1024 * 1024)} MB.")
        elif encoded and not content and "content_b64" not in form.errors:
            form.error("file", "The file is empty.")
        if content and content_type and report_rules.sniff(content) != content_type:
            form.error("file", "The file's content is not a " + content_type + " file.")
        form.check()
        report = self.repo.get_service_report(workspace_id, report_id)
        if report.status != "draft":
            raise Conflict("Attachments can only be added to a draft report.")
        stored = self.repo.store_file(workspace_id, filename, content_type, content)
        updated = self.repo.attach_file(workspace_id, actor, report_id, stored, report_rules.MAX_ATTACHMENTS)
        if updated is None:
            self.repo.delete_file(workspace_id, str(stored.id))  # leave nothing half-written
            raise Conflict(f"A report holds at most {report_rules.MAX_ATTACHMENTS} attachments, "
                           "and only while it is a draft.")
        self.dispatch("service_report_attachment_added", fact(
            workspace_id, actor, service_report_id=report_id, file_id=str(stored.id)))
        return self._report_to_wire(updated)

    @rpc
    def complete_service_report(self, workspace_id: str, actor: str, report_id: str) -> dict[str, Any]:
        """The appointment is done: draft → awaiting_signature. Repeating it is harmless."""
        current = self.repo.get_service_report(workspace_id, report_id)
        if current.status == "awaiting_signature":
            return self._report_to_wire(current)
        done = self.repo.change_service_report(
            workspace_id, report_id, statuses=("draft",), set__status="awaiting_signature",
            set__completed_at=utcnow(), set__updated_at=utcnow(), set__updated_by=actor,
        )
        if done is None:
            raise Conflict("This report is already signed.")
        self.dispatch("service_report_completed", fact(workspace_id, actor, service_report_id=report_id))
        return self._report_to_wire(done)

    @rpc
    def get_service_report(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        return self._report_to_wire(self.repo.get_service_report(workspace_id, report_id))

    @rpc
    def list_service_reports(
        self, workspace_id: str, work_order_id: str | None = None
    ) -> list[dict[str, Any]]:
        reports = self.repo.list_service_reports(workspace_id, work_order_id)
        work_orders = self.repo.work_orders_by_id(workspace_id, [r.work_order_id for r in reports])
        return [service_report_to_wire(r, work_orders.get(r.work_order_id)) for r in reports]

    @rpc
    def get_service_report_for_customer(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        report = self.repo.get_service_report(workspace_id, report_id)
        if report.status == "draft":
            raise NotFound("No such service report.")  # not shown before it is complete
        view = report_rules.customer_view(
            report, self.repo.find_work_order(workspace_id, report.work_order_id))
        if report.status == "signed":
            view["signed"] = {"signer_name": report.signed_by, "signed_at": isoformat(report.signed_at),
                              "certificate_id": report.certificate_id}
        return view

    @rpc
    def sign_service_report(self, workspace_id: str, report_id: str, data: dict) -> dict[str, Any]:
        """The customer's signature. One conditional update (awaiting_signature → signed)
        decides among racing submits; evidence is recorded before anyone is told it
        worked, and the PDF is only queued — signing never waits for it."""
        form = Form(data)
        form.reject_unknown(("signer_name", "signature_path", "ip", "user_agent"))
        signer = form.text("signer_name", max_length=120)
        path = data.get("signature_path")
        if not isinstance(path, str) or not path:
            form.error("signature_path", "Please sign in the box.")
        else:
            try:  # checked here too, before anything changes, not only by signatures
                signature_path.parse(path)
            except signature_path.SignaturePathError as exc:
                form.error("signature_path", str(exc))
        ip = form.text("ip", max_length=45)
        if ip is not None:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                form.error("ip", "Must be an IP address.")
        user_agent = form.text("user_agent", required=False, max_length=512)
        form.check()
        report = self.repo.get_service_report(workspace_id, report_id)
        if report.status != "awaiting_signature":
            raise Conflict("This report is already signed." if report.status == "signed"
                           else "This report is not ready to be signed yet.")
        work_order = self.repo.find_work_order(workspace_id, report.work_order_id)
        view = report_rules.customer_view(report, work_order)
        now = utcnow()
        won = self.repo.change_service_report(
            workspace_id, report_id, statuses=("awaiting_signature",), set__status="signed",
            set__signed_by=signer, set__signed_at=now, set__signed_ip=ip, set__signed_user_agent=user_agent,
        )
        if won is None:
            raise Conflict("This report is already signed.")
        try:
            evidence = self._record_evidence(workspace_id, {
                "kind": "signature", "entity_type": "service_report", "entity_id": report_id,
                "entity_number": report.number, "revision": 1, "signer_name": signer,
                "signature_path": path, "snapshot": report_rules.snapshot(view),
                "ip": ip, "user_agent": user_agent,
            })
        except Exception as exc:
            late = (self._late_evidence(workspace_id, "service_report", report_id, 1)
                    if isinstance(exc, Conflict) else None)
            if late is None:
                ServiceReport.objects(id=report.id, workspace_id=workspace_id, status="signed",
                                      certificate_id=None).update_one(
                    set__status="awaiting_signature", unset__signed_by=True, unset__signed_at=True,
                    unset__signed_ip=True, unset__signed_user_agent=True,
                )
                raise
            # An earlier signature was recorded after we had given up on it: it stands.
            evidence = late
            ServiceReport.objects(id=report.id, workspace_id=workspace_id, certificate_id=None).update_one(
                set__signed_by=late["signer_name"], set__signed_at=parse_iso(late["signed_at"]),
                set__signed_ip=late["ip"], set__signed_user_agent=late.get("user_agent"),
            )
        signed = ServiceReport.objects(id=report.id, workspace_id=workspace_id).modify(
            new=True, set__certificate_id=evidence["certificate_id"],
            set__snapshot_sha256=evidence["snapshot_sha256"],
        )
        self.dispatch("service_report_signed", fact(
            workspace_id, "customer", service_report_id=report_id,
            certificate_id=evidence["certificate_id"]))
        self.tasks.enqueue("porchlight.render_signed_pdf", workspace_id, report_id)
        return self.get_service_report_for_customer(workspace_id, str(signed.id))

    @rpc
    def store_signed_pdf(self, workspace_id: str, report_id: str, data: dict) -> dict[str, Any]:
        """Keep the rendered PDF once. A second render (a retried task) gets the first."""
        report = self.repo.get_service_report(workspace_id, report_id)
        if report.pdf_file_id:
            return {"file_id": report.pdf_file_id, "sha256": report.pdf_sha256}
        if report.status != "signed":
            raise Conflict("Only a signed report has a signed PDF.")
        try:
            content = base64.b64decode(data.get("content_b64") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise InvalidInput("Some fields need attention.", {"content_b64": "Must be base64."}) from None
        if not content.startswith(b"%PDF-") or hashlib.sha256(content).hexdigest() != data.get("sha256"):
            raise InvalidInput("Some fields need attention.",
                               {"content_b64": "Not a PDF, or it does not match its sha256."})
        stored = self.repo.store_file(workspace_id, f"{report.number}-signed.pdf", "application/pdf", content)
        if self.repo.set_signed_pdf(workspace_id, report_id, stored) is None:
            self.repo.delete_file(workspace_id, str(stored.id))
            report = self.repo.get_service_report(workspace_id, report_id)
            return {"file_id": report.pdf_file_id, "sha256": report.pdf_sha256}
        self.dispatch("signed_pdf_stored", fact(
            workspace_id, "worker", service_report_id=report_id, file_id=str(stored.id)))
        return {"file_id": str(stored.id), "sha256": stored.sha256}

    @rpc
    def list_reports_missing_pdf(self, older_than_seconds: int = 120) -> list[dict[str, str]]:
        """Signed reports still without their PDF after a while (the worker's sweep)."""
        cutoff = utcnow() - timedelta(seconds=max(0, int(older_than_seconds)))
        return [{"workspace_id": r.workspace_id, "id": str(r.id)}
                for r in self.repo.signed_without_pdf(cutoff)]

    @rpc
    def get_signed_pdf(self, workspace_id: str, report_id: str) -> dict[str, Any]:
        report = self.repo.get_service_report(workspace_id, report_id)
        if not report.pdf_file_id:
            raise NotFound("The signed PDF is not ready yet." if report.status == "signed"
                           else "This report has not been signed yet.")
        return self.open_file(workspace_id, report.pdf_file_id)

    @rpc
    def open_file(self, workspace_id: str, file_id: str) -> dict[str, Any]:
        stored = self.repo.get_file(workspace_id, file_id)
        return {"id": str(stored.id), "filename": stored.filename, "content_type": stored.content_type,
                "size": stored.size, "sha256": stored.sha256,
                "content_b64": base64.b64encode(stored.content).decode("ascii")}

    @rpc
    def report_has_file(self, workspace_id: str, report_id: str, file_id: str) -> bool:
        """Whether a file is one of this report's attachments (the portal's photo check)."""
        report = self.repo.get_service_report(workspace_id, report_id)
        if report.status == "draft" or file_id not in {a.file_id for a in report.attachments}:
            raise NotFound("No such file.")
        return True
