"""An answer whose documents process died between its claim and its evidence is ended by
the sweep as ``settle`` would have ended it: the evidence recorded in time is adopted, or
the claim is undone so the customer can answer again — never left "approved" without a
certificate, which nobody could then convert, answer or be told about."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Unavailable
from services.documents import evidence
from services.documents.estimates.models import Estimate
from services.documents.service_reports.models import ServiceReport
from tests.unit.conftest import dispatched
from tests.unit.test_estimates import WS, answer, create, late_evidence
from tests.unit.test_service_reports import report, sign


class Killed(BaseException):
    """The process dying mid-answer: no ``except Exception`` runs, nothing is undone."""


def abandoned_estimate(documents: Any, response: str = "accept", *, ago: float = 31) -> dict[str, Any]:
    est = create(documents)
    documents.send_estimate(WS, "staff", est["id"])
    est = documents.get_estimate(WS, est["id"])
    documents.recorder = documents.signatures.record_evidence.side_effect  # the fake signatures
    documents.signatures.record_evidence.side_effect = Killed()
    with pytest.raises(Killed):
        answer(documents, est, response)
    field = "approved_at" if response == "accept" else "rejected_at"
    Estimate.objects(id=est["id"]).update_one(**{f"set__{field}": utcnow() - timedelta(seconds=ago)})
    documents.dispatch.reset_mock()
    return est


def test_an_abandoned_acceptance_whose_evidence_was_recorded_is_finished(documents: Any) -> None:
    est = abandoned_estimate(documents)
    stuck = documents.get_estimate(WS, est["id"])
    assert stuck["status"] == "approved" and stuck["outcome"]["certificate_id"] is None
    documents.signatures.list_evidence.return_value = [late_evidence("acceptance")]
    assert documents.recover_abandoned_answers() == {"adopted": 1, "undone": 0, "left": 0}
    done = documents.get_estimate(WS, est["id"])
    assert done["status"] == "approved" and done["outcome"]["certificate_id"] == "cert_" + "9" * 32
    assert dispatched(documents) == ["estimate_approved"]  # the office hears of it now
    assert documents.recover_abandoned_answers() == {"adopted": 0, "undone": 0, "left": 0}


@pytest.mark.parametrize("recorded", [[], [late_evidence("decline")]])
def test_an_abandoned_answer_without_its_evidence_is_undone_and_can_be_given_again(
        documents: Any, recorded: list[dict[str, Any]]) -> None:
    est = abandoned_estimate(documents)
    documents.signatures.list_evidence.return_value = recorded
    assert documents.recover_abandoned_answers()["undone"] == 1
    again = documents.get_estimate(WS, est["id"])
    assert again["status"] == "sent" and again["outcome"] is None and again["approved_at"] is None
    assert dispatched(documents) == ["estimate_answer_undone"]  # pages that showed it are told
    documents.signatures.record_evidence.side_effect = documents.recorder
    assert answer(documents, again)["status"] == "approved"


def test_a_claim_still_within_its_evidence_deadline_is_left_alone(documents: Any) -> None:
    est = abandoned_estimate(documents, ago=2)
    documents.signatures.list_evidence.return_value = []
    # Not even a caller asking for a shorter age can reach below the evidence's deadline.
    assert documents.recover_abandoned_answers(0) == {"adopted": 0, "undone": 0, "left": 0}
    assert documents.get_estimate(WS, est["id"])["status"] == "approved"
    Estimate.objects(id=est["id"]).update_one(
        set__approved_at=utcnow() - timedelta(seconds=evidence.EVIDENCE_TIMEOUT + evidence.REPLY_GRACE + 1))
    assert documents.recover_abandoned_answers()["undone"] == 0  # the default waits 30 s
    assert documents.recover_abandoned_answers(0)["undone"] == 1


def test_signatures_not_answering_leaves_the_claim_for_the_next_sweep(documents: Any) -> None:
    est = abandoned_estimate(documents, "decline")
    documents.signatures.list_evidence.side_effect = Unavailable("signatures is silent")
    assert documents.recover_abandoned_answers() == {"adopted": 0, "undone": 0, "left": 1}
    assert documents.get_estimate(WS, est["id"])["status"] == "rejected"
    assert dispatched(documents) == []


def abandoned_signature(documents: Any) -> dict[str, Any]:
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    documents.signatures.record_evidence.side_effect = Killed()
    with pytest.raises(Killed):
        sign(documents, rep)
    ServiceReport.objects(id=rep["id"]).update_one(set__signed_at=utcnow() - timedelta(seconds=31))
    return rep


def test_an_abandoned_signature_is_finished_with_its_evidence_and_its_pdf_queued(documents: Any) -> None:
    rep = abandoned_signature(documents)
    documents.dispatch.reset_mock()
    documents.tasks.enqueue.reset_mock()
    documents.signatures.list_evidence.return_value = [
        late_evidence("signature", signer_name="Alex Morgan")]
    assert documents.recover_abandoned_signatures() == {"adopted": 1, "undone": 0, "left": 0}
    signed = documents.get_service_report(WS, rep["id"])
    assert signed["status"] == "signed" and signed["certificate_id"] == "cert_" + "9" * 32
    assert dispatched(documents) == ["service_report_signed"]
    documents.tasks.enqueue.assert_called_once_with("porchlight.render_signed_pdf", WS, rep["id"])


def test_an_abandoned_signature_without_evidence_can_be_signed_again(documents: Any) -> None:
    rep = abandoned_signature(documents)
    documents.signatures.list_evidence.return_value = []
    assert documents.recover_abandoned_signatures()["undone"] == 1
    assert documents.get_service_report(WS, rep["id"])["status"] == "awaiting_signature"
