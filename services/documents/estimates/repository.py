"""Estimate storage. Every query carries the workspace id (the expiry sweep alone spans
workspaces); every change is one conditional update whose filter is the rule it decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mongoengine.queryset.visitor import Q

from porchlight.contracts.paging import NOT_A_CURSOR
from porchlight.contracts.words import N_
from porchlight.kit.storage import get_in_workspace, page_after
from services.documents.estimates.models import Estimate, EstimateOutcome
from services.documents.estimates.rules import OPEN, answered_status
from services.documents.numbering.repository import create_numbered

_ANSWERED_AT = {"accept": "approved_at", "decline": "rejected_at"}


class EstimateRepository:
    def ensure_indexes(self) -> None:
        Estimate.ensure_indexes()

    def create(self, workspace_id: str, actor: str, fields: dict[str, Any]) -> Estimate:
        return create_numbered(Estimate, "estimate", workspace_id, actor, fields)

    def get(self, workspace_id: str, estimate_id: str) -> Estimate:
        return get_in_workspace(Estimate, workspace_id, estimate_id, N_("No such estimate."))

    def page(self, workspace_id: str, filters: dict[str, Any], *, cursor: str | None,
             limit: int) -> tuple[list[Estimate], bool]:
        """A page of the workspace's estimates newest first (``page_after``), narrowed by
        ``filters`` (``list_filters``)."""
        found = Estimate.objects(workspace_id=workspace_id, **filters)
        return page_after(Estimate, found, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def customer_page(self, workspace_id: str, customer_id: str, status: str | None, cursor: str | None,
                      limit: int) -> tuple[list[Estimate], bool]:
        """A page of the customer's estimates but drafts, newest first (``page_after``)."""
        query = Estimate.objects(workspace_id=workspace_id, customer_id=customer_id, status__ne="draft")
        if status:
            query = query.filter(status=status)
        return page_after(Estimate, query, workspace_id, cursor, order="-created_at", limit=limit,
                          not_a_cursor=NOT_A_CURSOR)

    def sent_to_customer(self, workspace_id: str, customer_id: str, limit: int) -> list[Estimate]:
        """The customer's estimates but drafts (never sent, never theirs to see)."""
        return list(Estimate.objects(workspace_id=workspace_id, customer_id=customer_id,
                                     status__ne="draft").order_by("-created_at", "-id").limit(limit))

    def due_for_expiry(self, now: datetime, limit: int = 500) -> list[Estimate]:
        """Open estimates of every workspace whose date has passed (the timed sweep)."""
        return list(Estimate.objects(status__in=OPEN, expires_at__lte=now).limit(limit))

    def due_reminders(self, now: datetime, until: datetime, limit: int = 500) -> list[Estimate]:
        """Sent estimates of every workspace still open at ``now`` whose date ends by
        ``until``, whose customer was emailed and not yet reminded of this revision (the
        reminder sweep); drafts were never sent, so nobody is waiting."""
        found = Estimate.objects(status="sent", emails_customer=True, expires_at__gt=now,
                                 expires_at__lte=until).order_by("expires_at").limit(limit)
        return [e for e in found if e.reminded_revision != e.revision]

    def claim_reminder(self, workspace_id: str, estimate_id: str, revision: int) -> Estimate | None:
        """The revision's reminder, taken by one sweep; None when it is no longer due."""
        return Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status="sent", emails_customer=True,
            revision=revision, reminded_revision__ne=revision,
        ).modify(new=True, set__reminded_revision=revision)

    def release_reminder(self, workspace_id: str, estimate_id: str, revision: int) -> None:
        """A reminder that could not be handed over is due again."""
        Estimate.objects(id=estimate_id, workspace_id=workspace_id,
                         reminded_revision=revision).update_one(unset__reminded_revision=True)

    def choose_email(self, workspace_id: str, estimate_id: str, emails_customer: bool) -> None:
        Estimate.objects(id=estimate_id, workspace_id=workspace_id).update_one(
            set__emails_customer=emails_customer)

    def record_expiry(self, workspace_id: str, estimate_id: str, now: datetime) -> Estimate | None:
        """open → expired, only while still past its date: the date is part of the filter,
        so a concurrent edit that extended it wins."""
        return Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status__in=OPEN, expires_at__lte=now,
        ).modify(new=True, set__status="expired", set__expired_at=now)

    def mark_sent(self, workspace_id: str, estimate_id: str, now: datetime) -> Estimate | None:
        """draft → sent; None when it is no longer a draft."""
        return Estimate.objects(id=estimate_id, workspace_id=workspace_id, status="draft").modify(
            new=True, set__status="sent", set__sent_at=now)

    def revise(
        self, workspace_id: str, actor: str, current: Estimate, changes: dict[str, Any], now: datetime,
    ) -> Estimate | None:
        """Apply an edit as the next revision, only if the estimate is still in the state
        and at the revision the edit was made against; None when it moved on."""
        return Estimate.objects(
            id=current.id, workspace_id=workspace_id, status=current.status, revision=current.revision,
        ).modify(new=True, set__revision=current.revision + 1, set__updated_at=now,
                 set__updated_by=actor, **{f"set__{k}": v for k, v in changes.items()})

    # -- the customer's answer (see services/documents/evidence.py) ---------------------
    def claim_answer(
        self, workspace_id: str, estimate_id: str, revision: int, outcome: EstimateOutcome,
        now: datetime,
    ) -> Estimate | None:
        """The one update that decides among racing answers: it applies only while the
        estimate is open, at the revision the customer was shown, and not past its date."""
        return Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status__in=OPEN, revision=revision,
            expires_at__gt=now,
        ).modify(new=True, set__status=answered_status(outcome.response), set__outcome=outcome,
                 **{f"set__{_ANSWERED_AT[outcome.response]}": now})

    def undo_answer(self, workspace_id: str, estimate_id: str, response: str, previous_status: str) -> None:
        """Put a claimed answer whose evidence was not recorded back exactly as it was. An
        answer with a certificate is never undone."""
        Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status=answered_status(response),
            outcome__certificate_id=None,
        ).update_one(set__status=previous_status, unset__outcome=True,
                     **{f"unset__{_ANSWERED_AT[response]}": True})

    def adopt_evidence(
        self, workspace_id: str, estimate_id: str, outcome: EstimateOutcome, answered_at: datetime,
    ) -> None:
        """Replace the claimed outcome with that of an earlier attempt of the same kind,
        whose evidence was recorded after we had given up on it."""
        Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status=answered_status(outcome.response),
            outcome__response=outcome.response, outcome__certificate_id=None,
        ).update_one(set__outcome=outcome, **{f"set__{_ANSWERED_AT[outcome.response]}": answered_at})

    def attach_certificate(
        self, workspace_id: str, estimate_id: str, certificate_id: str, snapshot_sha256: str,
    ) -> Estimate:
        """Link the recorded evidence to the answer; from here on it is never undone."""
        linked = Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, outcome__exists=True,
            outcome__certificate_id=None,
        ).modify(new=True, set__outcome__certificate_id=certificate_id,
                 set__outcome__snapshot_sha256=snapshot_sha256)
        return linked or self.get(workspace_id, estimate_id)

    def abandoned_answers(self, claimed_before: datetime, limit: int = 100) -> list[Estimate]:
        """Answers of every workspace claimed before ``claimed_before`` and still without
        their certificate: their process died half-way (``evidence.recover``)."""
        return list(Estimate.objects(
            Q(status="approved", approved_at__lt=claimed_before)
            | Q(status="rejected", rejected_at__lt=claimed_before),
            outcome__certificate_id=None, outcome__exists=True,
        ).limit(limit))

    # -- conversion into a work order ---------------------------------------------------
    def claim_conversion(self, workspace_id: str, estimate_id: str, now: datetime) -> Estimate | None:
        """approved → converted, only for an acceptance whose evidence is recorded."""
        return Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status="approved",
            outcome__certificate_id__ne=None, work_order_id=None,
        ).modify(new=True, set__status="converted", set__converted_at=now)

    def release_conversion(self, workspace_id: str, estimate_id: str) -> bool:
        """converted → approved again when the work order could not be made and linked,
        so a retry can convert it; never once a work order is linked. Whether it did."""
        return bool(Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status="converted", work_order_id=None,
        ).update_one(set__status="approved", unset__converted_at=True))

    def link_work_order(
        self, workspace_id: str, estimate_id: str, work_order_id: str, now: datetime,
    ) -> Estimate | None:
        """Finish a conversion: point the estimate at its work order, once. Also from
        approved, for a conversion whose claim a failed attempt released meanwhile."""
        return Estimate.objects(
            id=estimate_id, workspace_id=workspace_id, status__in=("approved", "converted"),
            outcome__certificate_id__ne=None, work_order_id=None,
        ).modify(new=True, set__status="converted", set__work_order_id=work_order_id,
                 set__converted_at=now)
