"""The facts an answer ends with (``estimate_approved``, ``estimate_rejected``,
``service_report_signed``) carry what the office's inbox shows of it, read off the final
record as the staff view shows it — when the answer is settled and when the sweep adopts
an abandoned one — so notifications never asks documents back."""

from __future__ import annotations

from typing import Any

from tests.unit.test_abandoned_answers import abandoned_estimate, abandoned_signature
from tests.unit.test_estimates import WS, answer, create, late_evidence
from tests.unit.test_service_reports import report, sign


def announced(documents: Any, event: str) -> dict[str, Any]:
    [payload] = [c.args[1] for c in documents.dispatch.call_args_list if c.args[0] == event]
    return payload


def test_an_acceptance_is_announced_with_the_staff_views_number_title_signer_and_total(documents):
    est = create(documents)
    answer(documents, est)
    staff = documents.get_estimate(WS, est["id"])
    payload = announced(documents, "estimate_approved")
    assert payload == {
        "workspace_id": WS, "actor": "customer", "occurred_at": payload["occurred_at"],
        "estimate_id": est["id"], "revision": 1, "certificate_id": staff["outcome"]["certificate_id"],
        "number": "EST-0001", "title": "Boiler repair", "signer_name": "Alex Morgan", "reason": None,
        "total": staff["outcome"]["total"],
    }


def test_a_decline_is_announced_with_its_reason(documents):
    est = create(documents)
    answer(documents, est, "decline", reason="Too dear")
    payload = announced(documents, "estimate_rejected")
    assert (payload["number"], payload["signer_name"], payload["reason"]) == (
        "EST-0001", "Alex Morgan", "Too dear")
    assert payload["total"] == documents.get_estimate(WS, est["id"])["outcome"]["total"]


def test_a_signature_is_announced_with_the_report_and_its_work_order(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    sign(documents, rep)
    staff = documents.get_service_report(WS, rep["id"])
    payload = announced(documents, "service_report_signed")
    assert payload == {
        "workspace_id": WS, "actor": "customer", "occurred_at": payload["occurred_at"],
        "service_report_id": rep["id"], "certificate_id": staff["certificate_id"],
        "number": "SR-0001", "signer_name": "Alex Morgan",
        "work_order_number": staff["work_order_number"], "work_order_title": "Boiler service",
    }


def test_an_answer_the_sweep_adopts_is_announced_with_the_adopted_answer(documents):
    est = abandoned_estimate(documents)
    documents.signatures.list_evidence.return_value = [late_evidence("acceptance", signer_name="Sam Late")]
    documents.recover_abandoned_answers()
    staff = documents.get_estimate(WS, est["id"])
    payload = announced(documents, "estimate_approved")
    assert (payload["signer_name"], payload["total"]) == ("Sam Late", staff["outcome"]["total"])
    assert payload["number"] == staff["number"] and payload["reason"] is None


def test_a_signature_the_sweep_adopts_is_announced_with_its_signer(documents):
    rep = abandoned_signature(documents)
    documents.dispatch.reset_mock()
    documents.signatures.list_evidence.return_value = [late_evidence("signature", signer_name="Sam Late")]
    documents.recover_abandoned_signatures()
    payload = announced(documents, "service_report_signed")
    assert (payload["number"], payload["signer_name"]) == (rep["number"], "Sam Late")
