"""The estimate RPC methods of the documents service: staff edit and send, the customer
answers, staff convert an accepted estimate into a work order."""

from __future__ import annotations

from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.clock import parse_iso, utcnow
from porchlight.contracts.errors import (
    CONTRACT_ERRORS,
    Conflict,
    InvalidInput,
    NotFound,
    StaleRevision,
    Unavailable,
)
from porchlight.contracts.estimates import EstimateInput, EstimatePatch, EstimateQuery
from porchlight.contracts.events import fact
from porchlight.contracts.notifications import NotifyCustomer
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.contracts.words import N_
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import list_filters, next_cursor
from services.documents import customer_access, customer_mail, evidence
from services.documents.dependencies import DocumentsDependencies
from services.documents.estimates import rules
from services.documents.estimates.models import Estimate, EstimateOutcome
from services.documents.estimates.wire import answer_display, customer_view, estimate_to_wire, snapshot
from services.documents.work_orders.wire import work_order_to_wire
from services.documents.workspace import ensure_customer, estimate_settings

STALE = N_("This estimate was updated after you opened it. Please review the new version before answering.")
# An answer to an estimate no longer open, by the state it is in (every state, as a race
# may leave one open).
ALREADY = {
    "draft": N_("This estimate is already awaiting your answer."),
    "sent": N_("This estimate is already awaiting your answer."),
    "approved": N_("This estimate is already accepted."),
    "converted": N_("This estimate is already accepted."),
    "rejected": N_("This estimate is already declined."),
    "expired": N_("This estimate is already expired."),
}


def _already(estimate: Estimate) -> Conflict:
    return Conflict(ALREADY[estimate.status])


class EstimateRpc(DocumentsDependencies):
    def _expire_if_due(self, estimate: Estimate, *, record: bool = True) -> Estimate:
        """Checked on every access, so a page left open past the date can never accept.
        Reads (``record=False``) only show the estimate as expired; commands and the sweep
        store it — a GET never changes state."""
        now = utcnow()
        if estimate.status not in rules.OPEN or estimate.expires_at > now:
            return estimate
        if not record:
            estimate.status = "expired"  # this copy only; never saved from a read
            return estimate
        expired = self.repo.estimates.record_expiry(estimate.workspace_id, str(estimate.id), now)
        if expired is None:
            return self.repo.estimates.get(estimate.workspace_id, str(estimate.id))
        self.dispatch("estimate_expired", fact(estimate.workspace_id, "system", estimate_id=str(estimate.id)))
        return expired

    @rpc(expected_exceptions=(InvalidInput, Conflict, Unavailable))
    @idempotent()
    def create_estimate(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        sent = parse(EstimateInput, data)
        settings = estimate_settings(self.identity, workspace_id)
        currency = sent.currency or settings["currency"]
        fields = rules.read_fields(sent, settings, currency)
        ensure_customer(self.identity, workspace_id, sent.customer_id)
        fields["currency"] = currency
        if sent.number:
            fields["number"] = sent.number
        estimate = self.repo.estimates.create(workspace_id, actor, fields)
        self.dispatch("estimate_created", fact(workspace_id, actor, estimate_id=str(estimate.id)))
        return estimate_to_wire(estimate)

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    @idempotent()
    def update_estimate(self, workspace_id: str, actor: str, estimate_id: str, data: dict) -> dict[str, Any]:
        """Edit a draft or sent estimate. Each edit makes a new revision: the customer sees
        it at once, and an answer given to an older one is refused."""
        current = self._expire_if_due(self.repo.estimates.get(workspace_id, estimate_id))
        patch = parse(EstimatePatch, data)
        changes = rules.read_fields(patch, estimate_settings(self.identity, workspace_id), current.currency)
        if current.status not in rules.EDITABLE:
            raise Conflict(f"An estimate that is {current.status} can no longer be edited.")
        ensure_customer(self.identity, workspace_id, changes.get("customer_id"))
        if not changes:
            return estimate_to_wire(current)
        # Every edit is a new revision, draft or sent: a link may already be open, and an
        # answer must always name exactly the version it was given.
        updated = self.repo.estimates.revise(workspace_id, actor, current, changes, utcnow())
        if updated is None:
            raise Conflict("The estimate changed while you were editing it; reload and try again.")
        self.dispatch("estimate_updated", fact(
            workspace_id, actor, estimate_id=estimate_id, revision=updated.revision,
            customer_id=updated.customer_id if updated.status == "sent" else None))
        return estimate_to_wire(updated)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent(secret=True)
    def send_estimate(self, workspace_id: str, actor: str, estimate_id: str,
                      command: dict | None = None) -> dict[str, Any]:
        """draft → sent, a new link that replaces the earlier ones, and the customer emailed
        it unless ``command`` (``NotifyCustomer``) says not to. Sending a sent estimate
        again changes nothing but the link and the email; any other state is a conflict.
        A send refused half-way is finished by the same command (``customer_mail``)."""
        notify = parse(NotifyCustomer, command or {}).notify_customer
        current = self._expire_if_due(self.repo.estimates.get(workspace_id, estimate_id))
        if current.status != "sent":
            sent = self.repo.estimates.mark_sent(workspace_id, estimate_id, utcnow())
            if sent is None:
                raise Conflict(f"An estimate that is {current.status} cannot be sent.")
            self.dispatch("estimate_sent", fact(workspace_id, actor, estimate_id=estimate_id,
                                                customer_id=sent.customer_id))
            current = sent
        minted = customer_mail.link(self.sharing, workspace_id, actor, "estimate", estimate_id,
                                    current.expires_at, current.customer_id, replace=True)
        view = estimate_to_wire(current)
        emailed = customer_mail.email(
            self.notifications, workspace_id, actor, "estimate_ready",
            customer_mail.shared("estimate", estimate_id, minted),
            customer_mail.record("estimate", view), notify=notify, minted=minted)
        self.repo.estimates.choose_email(workspace_id, estimate_id, emailed["status"] == "queued")
        return {"estimate": view, **minted, "customer_email": emailed}

    @rpc(expected_exceptions=(NotFound,))
    def get_estimate(self, workspace_id: str, estimate_id: str) -> dict[str, Any]:
        estimate = self.repo.estimates.get(workspace_id, estimate_id)
        return estimate_to_wire(self._expire_if_due(estimate, record=False))

    @rpc(expected_exceptions=(InvalidInput,))
    def list_estimates(self, workspace_id: str, query: dict) -> dict[str, Any]:
        """The workspace's estimates newest first, a page at a time (``EstimateQuery``)."""
        request = parse(EstimateQuery, query, message=QUERY_ATTENTION)
        found, more = self.repo.estimates.page(workspace_id, list_filters(request), cursor=request.cursor,
                                               limit=request.limit or DEFAULT_PAGE)
        return {"estimates": [estimate_to_wire(e) for e in found], "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=(NotFound, InvalidInput))
    def get_estimate_for_customer(
        self, capability: str, estimate_id: str, include: list[str] | None = None
    ) -> dict[str, Any]:
        """What the customer sees, for a grant that allows viewing it (``customer_access``)."""
        grant = customer_access.allowed(self.repo, capability, "estimate", estimate_id, "view")
        workspace_id = grant.workspace_id
        estimate = self._expire_if_due(self.repo.estimates.get(workspace_id, estimate_id), record=False)
        return customer_view(estimate, rules.optional_choice(estimate, include))

    @rpc(expected_exceptions=(InvalidInput, NotFound, Conflict, Unavailable))
    def respond_to_estimate(self, capability: str, estimate_id: str, data: dict) -> dict[str, Any]:
        """The customer's accept or decline, with the evidence of exactly what they saw, for
        a grant that allows answering it (``customer_access``).

        One conditional update decides: it applies only while the estimate is open, at
        the revision the customer was shown, and not past its date. Of any number of
        racing answers exactly one wins; the others get a Conflict and change nothing."""
        grant = customer_access.allowed(self.repo, capability, "estimate", estimate_id, "respond")
        workspace_id = grant.workspace_id
        answer = rules.read_answer(data)
        response, revision = answer["response"], answer["revision"]
        estimate = self._expire_if_due(self.repo.estimates.get(workspace_id, estimate_id))
        if estimate.status not in rules.OPEN:
            raise _already(estimate)
        if revision != estimate.revision:
            raise StaleRevision(STALE)
        chosen = rules.optional_choice(estimate, answer["include_optional"] if response == "accept" else [])
        view = customer_view(estimate, chosen)
        outcome = EstimateOutcome(
            response=response, revision=revision, signer_name=answer["signer_name"],
            reason=answer["reason"], included_optional=chosen, subtotal_minor=view["subtotal_minor"],
            tax_minor=view["tax_minor"], total_minor=view["total_minor"], ip=answer["ip"],
            user_agent=answer["user_agent"],
        )
        evidence.still_awaited()
        if self.repo.estimates.claim_answer(workspace_id, estimate_id, revision, outcome, utcnow()) is None:
            latest = self._expire_if_due(self.repo.estimates.get(workspace_id, estimate_id))
            if latest.status in rules.OPEN and latest.revision != revision:
                raise StaleRevision(STALE)
            raise _already(latest)
        final = evidence.settle(
            self.signatures, self.dispatch, workspace_id, {
                "kind": rules.evidence_kind(response), "entity_type": "estimate",
                "entity_id": estimate_id, "entity_number": estimate.number, "revision": revision,
                "signer_name": answer["signer_name"] or "(not given)", "reason": answer["reason"],
                "snapshot": snapshot(view), "ip": answer["ip"], "user_agent": answer["user_agent"],
                **customer_access.vouched_by(grant),
            },
            self._answer_claim(workspace_id, estimate_id, response, estimate.status),
            event="estimate_approved" if response == "accept" else "estimate_rejected",
            undone="estimate_answer_undone", ids={"estimate_id": estimate_id, "revision": revision},
        )
        return customer_view(final, None)

    def _answer_claim(self, workspace_id: str, estimate_id: str, response: str,
                      previous_status: str) -> evidence.Claim[Estimate]:
        """The ways a claimed answer can end (``evidence.Claim``)."""
        repo = self.repo.estimates
        return evidence.Claim(
            undo=lambda: repo.undo_answer(workspace_id, estimate_id, response, previous_status),
            adopt=lambda late: repo.adopt_evidence(
                workspace_id, estimate_id, rules.outcome_from_evidence(late), parse_iso(late["signed_at"])),
            attach=lambda recorded: repo.attach_certificate(
                workspace_id, estimate_id, recorded["certificate_id"], recorded["snapshot_sha256"]),
            display=answer_display,
        )

    @rpc
    def recover_abandoned_answers(self, older_than_seconds: float | None = None) -> dict[str, int]:
        """The worker's sweep: every answer whose process died between its claim and its
        evidence (``evidence.recover``) is finished with the evidence recorded in time, or
        undone so the customer can answer again. A sweep signatures does not answer leaves
        them for the next one."""
        counts = {"adopted": 0, "undone": 0, "left": 0}
        for estimate in self.repo.estimates.abandoned_answers(evidence.abandoned_before(older_than_seconds)):
            workspace_id, estimate_id, outcome = estimate.workspace_id, str(estimate.id), estimate.outcome
            # Only an open estimate can be answered, and only a sent one has a link.
            previous = "sent" if estimate.sent_at else "draft"
            try:
                ended = evidence.recover(
                    self.signatures, self.dispatch, workspace_id, {
                        "kind": rules.evidence_kind(outcome.response), "entity_type": "estimate",
                        "entity_id": estimate_id, "revision": outcome.revision},
                    self._answer_claim(workspace_id, estimate_id, outcome.response, previous),
                    event="estimate_approved" if outcome.response == "accept" else "estimate_rejected",
                    undone="estimate_answer_undone",
                    ids={"estimate_id": estimate_id, "revision": outcome.revision})
            except Unavailable:
                ended = "left"
            counts[ended] += 1
        return counts

    @rpc(expected_exceptions=(NotFound, Conflict))
    @idempotent()
    def convert_estimate(self, workspace_id: str, actor: str, estimate_id: str) -> dict[str, Any]:
        """approved → converted, creating the work order and linking both ways. Repeating
        it returns the same work order; a conversion that failed half-way is finished by
        the next attempt, never left blocking it."""
        estimates, work_orders = self.repo.estimates, self.repo.work_orders
        estimate = estimates.get(workspace_id, estimate_id)
        if estimate.work_order_id:
            return work_order_to_wire(work_orders.get(workspace_id, estimate.work_order_id))
        if estimate.status == "approved" and estimates.claim_conversion(
                workspace_id, estimate_id, utcnow()) is None:
            estimate = estimates.get(workspace_id, estimate_id)
            if estimate.work_order_id:
                return work_order_to_wire(work_orders.get(workspace_id, estimate.work_order_id))
            if estimate.status == "approved":  # only an acceptance with evidence converts
                raise Conflict("This acceptance is still being recorded; try again in a moment.")
        if estimate.status not in ("approved", "converted"):
            raise Conflict("Only an accepted estimate can become a work order; "
                           f"this one is {estimate.status}.")
        # Claimed here, or left converted without its work order by an attempt that failed
        # half-way: finish it. The work order is made once per estimate, whoever asks.
        try:
            wo, created = work_orders.create_once_for_estimate(workspace_id, actor, estimate_id, {
                "title": estimate.title, "status": "new", "customer_id": estimate.customer_id,
                "description": rules.work_order_description(estimate),
            })
            if created:  # announced at once: it exists even if linking it fails below
                self.dispatch("work_order_created", fact(workspace_id, actor, work_order_id=str(wo.id),
                                                         customer_id=wo.customer_id))
            linked = estimates.link_work_order(workspace_id, estimate_id, str(wo.id), utcnow())
        except Exception:
            if estimates.release_conversion(workspace_id, estimate_id):  # a retry can convert it
                # Shown as converted meanwhile, it is approved again.
                self.dispatch("estimate_conversion_released", fact(
                    workspace_id, actor, estimate_id=estimate_id))
            raise
        if linked is not None:
            self.dispatch("estimate_converted", fact(
                workspace_id, actor, estimate_id=estimate_id, work_order_id=str(wo.id)))
        return work_order_to_wire(wo)

    @rpc
    def expire_estimates(self) -> dict[str, int]:
        """The timed sweep: every open estimate past its date becomes expired."""
        count = 0
        for estimate in self.repo.estimates.due_for_expiry(utcnow()):
            if self._expire_if_due(estimate).status == "expired":
                count += 1
        return {"expired": count}
