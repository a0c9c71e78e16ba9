"""Estimates in the documents service: money, states, revisions, answers, conversion.
The signatures neighbour is replaced by a fake that records what it was asked to keep."""

import itertools
from datetime import timedelta

import pytest

from porchlight.contracts.clock import parse_iso, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, StaleRevision, Unavailable
from porchlight.contracts.estimates import STATUSES
from porchlight.contracts.snapshots import digest
from services.documents import evidence as evidence_flow
from services.documents.estimates.models import Estimate, EstimateOutcome
from services.documents.work_orders.models import WorkOrder
from tests.grants import link
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
LINES = [
    {"description": "Labour", "quantity": "0.5", "unit_price": "97.35", "tax_rate": "21"},
    {"description": "Fittings", "quantity": 3, "unit_price": "0.10", "tax_rate": "21"},
    {"description": "Descale the boiler", "quantity": 1, "unit_price": "45.00", "tax_rate": "9",
     "optional": True},
]


def future(days=30):
    return (utcnow() + timedelta(days=days)).date().isoformat()


def create(documents, **fields):
    data = {"title": "Boiler repair", "valid_until": future(), "line_items": LINES, **fields}
    return documents.create_estimate(WS, "staff", data)


def answer(documents, estimate, response="accept", **fields):
    data = {"response": response, "revision": estimate["revision"], "signer_name": "Alex Morgan",
            "ip": "203.0.113.7", "user_agent": "test", **fields}
    return documents.respond_to_estimate(link(WS, "estimate", estimate["id"]), estimate["id"], data)


def test_totals_match_hand_computation(documents):
    est = create(documents)
    # Labour 0.5 × 97.35 = 48.675 → 48.68; tax 21 % of 48.68 = 10.2228 → 10.22
    # Fittings 3 × 0.10 = 0.30; tax 21 % of 0.30 = 0.063 → 0.06
    # The optional line (45.00, 9 % → 4.05) does not count until included.
    assert [(line["net_minor"], line["tax_minor"]) for line in est["line_items"]] == [
        (4868, 1022), (30, 6), (4500, 405)]
    assert (est["subtotal_minor"], est["tax_minor"], est["total_minor"]) == (4898, 1028, 5926)
    assert est["total"] == "59.26" and est["number"] == "EST-0001"
    view = documents.get_estimate_for_customer(link(WS, "estimate", est["id"]), est["id"], ["l3"])
    assert (view["subtotal_minor"], view["tax_minor"], view["total_minor"]) == (9398, 1433, 10831)
    assert [line["included"] for line in view["lines"]] == [True, True, True]


def test_currency_without_minor_units(documents):
    est = create(documents, currency="JPY", line_items=[
        {"description": "Inspection", "quantity": "1.5", "unit_price": "1001", "tax_rate": "10"}])
    assert est["line_items"][0]["net_minor"] == 1502  # 1501.5 rounds half up
    assert est["total"] == "1652"


@pytest.mark.parametrize("line, field", [
    ({"quantity": 0}, "quantity"), ({"quantity": "-1"}, "quantity"),
    ({"quantity": "1.2345"}, "quantity"), ({"quantity": "NaN"}, "quantity"),
    ({"quantity": "Infinity"}, "quantity"), ({"quantity": True}, "quantity"),
    ({"unit_price": "9.999"}, "unit_price"), ({"unit_price": "-1"}, "unit_price"),
    ({"unit_price": "1e3"}, "unit_price"), ({"tax_rate": "101"}, "tax_rate"),
    ({"optional": "yes"}, "optional"), ({"description": ""}, "description"),
    ({"colour": "red"}, "colour"),
])
def test_line_item_validation_names_the_line_and_writes_nothing(documents, line, field):
    bad = {**LINES[0], **line}
    with pytest.raises(InvalidInput) as info:
        create(documents, line_items=[LINES[1], bad])
    assert f"line_items[1].{field}" in info.value.fields
    assert Estimate.objects.count() == 0


@pytest.mark.parametrize("fields, name", [
    ({"line_items": []}, "line_items"), ({"line_items": "x"}, "line_items"),
    ({"line_items": [dict(LINES[2])]}, "line_items"),  # only optional lines
    ({"valid_until": "2001-01-01"}, "valid_until"), ({"valid_until": "31/12/2030"}, "valid_until"),
    ({"currency": "euro"}, "currency"), ({"title": ""}, "title"),
])
def test_estimate_validation(documents, fields, name):
    with pytest.raises(InvalidInput) as info:
        create(documents, **fields)
    assert name in info.value.fields
    assert Estimate.objects.count() == 0


def test_accept_records_exactly_what_was_shown(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    result = answer(documents, est, include_optional=["l3"])
    assert result["status"] == "approved" and result["outcome"]["signer_name"] == "Alex Morgan"
    stored = documents.get_estimate(WS, est["id"])
    assert stored["approved_at"] and stored["outcome"]["total_minor"] == 10831
    assert stored["outcome"]["included_optional"] == ["l3"]
    [evidence] = documents.evidence
    assert evidence["kind"] == "acceptance" and evidence["revision"] == 1
    assert evidence["snapshot"]["total_minor"] == 10831 and evidence["ip"] == "203.0.113.7"
    assert "status" not in evidence["snapshot"]
    assert stored["outcome"]["snapshot_sha256"] == digest(evidence["snapshot"])
    assert dispatched(documents)[-1] == "estimate_approved"


def test_decline_with_reason(documents):
    est = create(documents)
    result = answer(documents, est, "decline", signer_name="", reason="Too expensive")
    assert result["status"] == "rejected"
    stored = documents.get_estimate(WS, est["id"])
    assert stored["rejected_at"] and stored["outcome"]["reason"] == "Too expensive"
    assert documents.evidence[0]["kind"] == "decline"


def test_a_second_answer_changes_nothing(documents):
    est = create(documents)
    answer(documents, est)
    for response in ("accept", "decline"):
        with pytest.raises(Conflict):
            answer(documents, est, response)
    assert len(documents.evidence) == 1
    assert dispatched(documents).count("estimate_approved") == 1
    assert documents.get_estimate(WS, est["id"])["status"] == "approved"


def test_editing_a_sent_estimate_makes_a_new_revision_and_refuses_the_old(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    edited = documents.update_estimate(WS, "staff", est["id"], {"title": "Boiler replacement"})
    assert edited["revision"] == 2
    with pytest.raises(StaleRevision):
        answer(documents, est)  # the customer still had revision 1 open
    assert documents.evidence == [] and documents.get_estimate(WS, est["id"])["status"] == "sent"
    assert answer(documents, edited)["status"] == "approved"
    assert documents.evidence[0]["revision"] == 2
    assert documents.evidence[0]["snapshot"]["title"] == "Boiler replacement"


def test_editing_a_draft_also_makes_a_new_revision(documents):
    # A draft's link may already be open: a price change must not be accepted unseen.
    est = create(documents)
    edited = documents.update_estimate(WS, "staff", est["id"], {"line_items": [
        {"description": "Labour", "quantity": 1, "unit_price": "999.00"}]})
    assert edited["revision"] == 2
    with pytest.raises(StaleRevision):
        answer(documents, est)
    assert documents.evidence == []


def test_expired_estimates_cannot_be_answered(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    Estimate.objects(id=est["id"]).update_one(set__expires_at=utcnow() - timedelta(seconds=1))
    view = documents.get_estimate_for_customer(link(WS, "estimate", est["id"]), est["id"])
    assert view["status"] == "expired" and not view["can_respond"]
    assert Estimate.objects.get(id=est["id"]).status == "sent"  # a read changes nothing
    with pytest.raises(Conflict):
        answer(documents, est)
    assert Estimate.objects.get(id=est["id"]).status == "expired"  # the command records it
    assert documents.evidence == []


def test_the_sweep_expires_due_estimates_once(documents):
    due = create(documents)
    create(documents)
    Estimate.objects(id=due["id"]).update_one(set__expires_at=utcnow() - timedelta(minutes=1))
    assert documents.expire_estimates() == {"expired": 1}
    assert documents.expire_estimates() == {"expired": 0}
    assert dispatched(documents).count("estimate_expired") == 1


def test_valid_until_ends_at_midnight_in_the_workspace_zone(documents):
    est = create(documents, valid_until="2030-06-30")
    assert est["expires_at"] == "2030-06-30T22:00:00.000Z"  # midnight in Amsterdam (CEST)


def test_failed_evidence_puts_the_estimate_back(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    documents.signatures.record_evidence.side_effect = RuntimeError("signatures down")
    with pytest.raises(RuntimeError):
        answer(documents, est)
    stored = documents.get_estimate(WS, est["id"])
    assert stored["status"] == "sent" and stored["outcome"] is None and stored["approved_at"] is None


def test_optional_choice_must_name_optional_lines(documents):
    est = create(documents)
    with pytest.raises(InvalidInput):
        answer(documents, est, include_optional=["l1"])
    with pytest.raises(InvalidInput):
        documents.get_estimate_for_customer(link(WS, "estimate", est["id"]), est["id"], ["l9"])
    assert documents.evidence == []


def test_convert_links_both_ways_and_is_safe_to_repeat(documents):
    est = create(documents)
    answer(documents, est, include_optional=["l3"])
    wo = documents.convert_estimate(WS, "staff", est["id"])
    assert wo["estimate_id"] == est["id"] and "Descale the boiler" in wo["description"]
    assert documents.get_estimate(WS, est["id"])["work_order_id"] == wo["id"]
    assert documents.convert_estimate(WS, "staff", est["id"])["id"] == wo["id"]
    assert WorkOrder.objects.count() == 1


ACTIONS = {
    "send": lambda d, e: d.send_estimate(WS, "staff", e["id"])["estimate"],
    "edit": lambda d, e: d.update_estimate(WS, "staff", e["id"], {"title": "New"}),
    "accept": lambda d, e: answer(d, e),
    "decline": lambda d, e: answer(d, e, "decline"),
    "convert": lambda d, e: d.convert_estimate(WS, "staff", e["id"]),
}
# (from status, action) → the status afterwards; missing pairs must be refused (409).
LEGAL = {
    ("draft", "send"): "sent", ("sent", "send"): "sent",
    ("draft", "edit"): "draft", ("sent", "edit"): "sent",
    ("draft", "accept"): "approved", ("sent", "accept"): "approved",
    ("draft", "decline"): "rejected", ("sent", "decline"): "rejected",
    ("approved", "convert"): "converted",
    # Converted without a work order: a conversion that failed half-way, finished now.
    ("converted", "convert"): "converted",
}


@pytest.mark.parametrize("status, action", list(itertools.product(STATUSES, ACTIONS)))
def test_every_transition(documents, status, action):
    est = create(documents)
    answered = status in ("approved", "rejected", "converted")
    outcome = EstimateOutcome(response="accept", revision=1, certificate_id="cert_" + "1" * 32)
    Estimate.objects(id=est["id"]).update_one(
        set__status=status, **({"set__outcome": outcome} if answered else {}))
    est["revision"] = 1
    if (status, action) in LEGAL:
        ACTIONS[action](documents, est)
        assert Estimate.objects.get(id=est["id"]).status == LEGAL[(status, action)]
    else:
        with pytest.raises(Conflict):
            ACTIONS[action](documents, est)
        stored = Estimate.objects.get(id=est["id"])
        assert stored.status == status and stored.title == "Boiler repair"
        assert (stored.outcome is not None) == answered and documents.evidence == []


def test_other_workspaces_cannot_touch_an_estimate(documents):
    est = create(documents)
    other = "b" * 24
    for call in (
        lambda: documents.get_estimate(other, est["id"]),
        # A link issued in another workspace names the same id: still not theirs.
        lambda: documents.get_estimate_for_customer(link(other, "estimate", est["id"]), est["id"]),
        lambda: documents.respond_to_estimate(link(other, "estimate", est["id"]), est["id"], {
            "response": "accept", "revision": 1, "signer_name": "X", "ip": "203.0.113.9"}),
        lambda: documents.send_estimate(other, "x", est["id"]),
    ):
        with pytest.raises(NotFound):
            call()
    assert documents.get_estimate(WS, est["id"])["status"] == "draft"


def test_signatures_not_answering_undoes_the_answer(documents):
    # TimedRpcProxy turns a call that outlives its bound into Unavailable (tested in
    # tests/service/test_service_calls.py); here: what documents does with that refusal.
    documents.signatures.record_evidence.side_effect = Unavailable(evidence_flow.NOT_RECORDED)
    est = create(documents)
    with pytest.raises(Unavailable):  # an Exception: nameko replies and acknowledges
        answer(documents, est)
    stored = Estimate.objects.get(id=est["id"])
    assert stored.status == "draft" and stored.outcome is None
    # A page filled while the answer was claimed showed it approved: it is told.
    assert dispatched(documents)[-1] == "estimate_answer_undone"
    event = documents.dispatch.call_args.args[1]
    assert event["estimate_id"] == est["id"] and event["revision"] == 1 and event["workspace_id"] == WS


def late_evidence(kind, **fields):
    """Evidence of an earlier attempt, recorded after documents had given up on its reply."""
    return {"certificate_id": "cert_" + "9" * 32, "kind": kind, "revision": 1,
            "signer_name": "Alex Morgan", "reason": None, "ip": "203.0.113.7", "user_agent": "x",
            "signed_at": "2026-01-01T10:00:00.000Z", "snapshot_sha256": "ab" * 32,
            "snapshot": {"lines": [{"id": "l3", "optional": True, "included": True}],
                         "subtotal_minor": 9398, "tax_minor": 1433, "total_minor": 10831}, **fields}


def test_evidence_of_the_same_kind_recorded_after_a_timeout_is_adopted(documents):
    est = create(documents)
    late = late_evidence("acceptance")
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.return_value = [late]
    result = answer(documents, est)  # this retry chose no optional line: the recorded answer stands
    assert result["status"] == "approved" and result["outcome"]["certificate_id"] == late["certificate_id"]
    stored = documents.get_estimate(WS, est["id"])
    assert stored["outcome"]["included_optional"] == ["l3"] and stored["outcome"]["total_minor"] == 10831
    assert stored["rejected_at"] is None and stored["approved_at"] == "2026-01-01T10:00:00.000Z"
    assert dispatched(documents)[-1] == "estimate_approved"


@pytest.mark.parametrize("late_kind, response", [("acceptance", "decline"), ("decline", "accept")])
def test_late_evidence_of_another_kind_is_never_adopted(documents, late_kind, response):
    # The customer was told their first answer failed and now answers differently: they
    # must not be bound to the answer they were told had failed.
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.return_value = [late_evidence(late_kind)]
    with pytest.raises(Conflict) as info:
        answer(documents, est, response)
    assert info.value.message == evidence_flow.ANOTHER_ANSWER
    stored = Estimate.objects.get(id=est["id"])
    assert stored.status == "sent" and stored.outcome is None
    assert stored.approved_at is None and stored.rejected_at is None
    assert not {"estimate_approved", "estimate_rejected"} & set(dispatched(documents))
    assert dispatched(documents)[-1] == "estimate_answer_undone"


def test_late_evidence_of_an_older_revision_is_not_adopted(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.return_value = [late_evidence("acceptance", revision=7)]
    with pytest.raises(Conflict):
        answer(documents, est)
    assert Estimate.objects.get(id=est["id"]).status == "sent"


def test_when_the_evidence_cannot_be_looked_up_the_answer_is_undone(documents):
    est = documents.send_estimate(WS, "staff", create(documents)["id"])["estimate"]
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.side_effect = RuntimeError("signatures went away")
    with pytest.raises(Unavailable):
        answer(documents, est)
    stored = Estimate.objects.get(id=est["id"])
    assert stored.status == "sent" and stored.outcome is None
    assert dispatched(documents)[-1] == "estimate_answer_undone"


def test_an_evidence_request_carries_its_deadline(documents):
    est = create(documents)
    before = utcnow()
    answer(documents, est)
    [request] = documents.evidence
    deadline = parse_iso(request["deadline"])
    timeout = timedelta(seconds=evidence_flow.EVIDENCE_TIMEOUT)
    # Milliseconds on the wire: the deadline may read up to 1 ms early.
    assert before + timeout - timedelta(milliseconds=1) <= deadline <= utcnow() + timeout
    assert request["deadline"].endswith("Z")


def test_conversion_waits_for_the_evidence(documents):
    est = create(documents)
    Estimate.objects(id=est["id"]).update_one(set__status="approved")  # evidence still pending
    with pytest.raises(Conflict):
        documents.convert_estimate(WS, "staff", est["id"])
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize("fields, name", [
    ({"valid_until": "9999-12-31"}, "valid_until"),
    ({"line_items": [{"description": "Tower", "quantity": "1000000", "unit_price": "999999999"}] * 2},
     "line_items"),
    ({"notes": "x" * 10_001}, "notes"),
])
def test_bounds_that_keep_answers_recordable(documents, fields, name):
    with pytest.raises(InvalidInput) as info:
        create(documents, **fields)
    assert name in info.value.fields


def test_a_malformed_include_list_is_a_field_error(documents):
    est = create(documents)
    with pytest.raises(InvalidInput):
        documents.get_estimate_for_customer(link(WS, "estimate", est["id"]), est["id"], [["l3"]])


def accepted(documents):
    est = create(documents)
    answer(documents, est, include_optional=["l3"])
    return est


def test_a_conversion_whose_work_order_failed_is_released_and_the_retry_makes_exactly_one(documents):
    est = accepted(documents)
    work_orders = documents.repo.work_orders
    real = work_orders.create_once_for_estimate
    failures = iter([RuntimeError("database hiccup")])

    def fail_once(*args, **kwargs):
        for failure in failures:
            raise failure
        return real(*args, **kwargs)

    work_orders.create_once_for_estimate = fail_once
    documents.dispatch.reset_mock()
    with pytest.raises(RuntimeError):
        documents.convert_estimate(WS, "staff", est["id"])
    stored = Estimate.objects.get(id=est["id"])
    assert stored.status == "approved" and stored.work_order_id is None and stored.converted_at is None
    # It read "converted" meanwhile; whoever showed that is told it is approved again.
    assert dispatched(documents) == ["estimate_conversion_released"]
    assert documents.dispatch.call_args.args[1]["estimate_id"] == est["id"]
    wo = documents.convert_estimate(WS, "staff", est["id"])  # not a 409: the claim was released
    assert WorkOrder.objects.count() == 1 and wo["estimate_id"] == est["id"]
    stored = Estimate.objects.get(id=est["id"])
    assert stored.status == "converted" and stored.work_order_id == wo["id"] and stored.converted_at
    assert dispatched(documents).count("work_order_created") == 1
    assert dispatched(documents).count("estimate_converted") == 1


def test_a_work_order_made_but_not_linked_is_reused_by_the_retry(documents):
    est = accepted(documents)
    estimates = documents.repo.estimates
    real = estimates.link_work_order
    failures = iter([RuntimeError("connection reset")])

    def fail_once(*args, **kwargs):
        for failure in failures:
            raise failure
        return real(*args, **kwargs)

    estimates.link_work_order = fail_once
    with pytest.raises(RuntimeError):
        documents.convert_estimate(WS, "staff", est["id"])
    [made] = WorkOrder.objects  # made, then the link failed
    assert Estimate.objects.get(id=est["id"]).status == "approved"
    wo = documents.convert_estimate(WS, "staff", est["id"])
    assert wo["id"] == str(made.id) and WorkOrder.objects.count() == 1
    assert documents.get_estimate(WS, est["id"])["work_order_id"] == wo["id"]
    assert dispatched(documents).count("work_order_created") == 1
    assert dispatched(documents).count("estimate_converted") == 1


def test_a_conversion_left_half_way_is_finished_by_the_next_attempt(documents):
    # An attempt that died between its claim and its work order (no release ran).
    est = accepted(documents)
    Estimate.objects(id=est["id"]).update_one(set__status="converted", set__converted_at=utcnow())
    wo = documents.convert_estimate(WS, "staff", est["id"])
    assert documents.convert_estimate(WS, "staff", est["id"])["id"] == wo["id"]
    assert WorkOrder.objects.count() == 1
    assert documents.get_estimate(WS, est["id"])["work_order_id"] == wo["id"]


def test_racing_conversions_make_one_work_order(documents):
    est = accepted(documents)
    work_orders = documents.repo.work_orders
    real_create = work_orders.create
    second = []

    def interleaved(*args, **kwargs):
        # The first attempt has claimed the estimate and found no work order; before it
        # inserts one, a second attempt runs from start to finish.
        if not second:
            second.append(None)
            second.append(documents.convert_estimate(WS, "staff", est["id"]))
        return real_create(*args, **kwargs)

    work_orders.create = interleaved
    first = documents.convert_estimate(WS, "staff", est["id"])
    assert first["id"] == second[1]["id"] and WorkOrder.objects.count() == 1
    assert documents.get_estimate(WS, est["id"])["work_order_id"] == first["id"]
    assert dispatched(documents).count("work_order_created") == 1
    assert dispatched(documents).count("estimate_converted") == 1


def test_an_estimate_only_points_at_a_customer_of_its_workspace(documents):
    with pytest.raises(InvalidInput) as info:
        create(documents, customer_id="d" * 24)
    assert info.value.fields == {"customer_id": "No such customer in this workspace."}
    assert Estimate.objects.count() == 0
    est = create(documents, customer_id=CUSTOMER)
    with pytest.raises(InvalidInput):
        documents.update_estimate(WS, "staff", est["id"], {"customer_id": "d" * 24})
    stored = Estimate.objects.get(id=est["id"])
    assert stored.customer_id == CUSTOMER and stored.revision == 1


def test_currency_and_time_zone_come_from_identity(documents):
    documents.identity.get_workspace.return_value = {"currency": "JPY", "timezone": "Asia/Tokyo"}
    est = create(documents, valid_until="2030-06-30", line_items=[
        {"description": "Inspection", "quantity": 1, "unit_price": "1000"}])
    documents.identity.get_workspace.assert_called_with(WS)
    assert est["currency"] == "JPY" and est["total"] == "1000"
    assert est["expires_at"] == "2030-06-30T15:00:00.000Z"  # the following midnight in Tokyo
    edited = documents.update_estimate(WS, "staff", est["id"], {"valid_until": "2030-07-31"})
    assert edited["expires_at"] == "2030-07-31T15:00:00.000Z"


def test_identity_not_answering_changes_nothing(documents):
    documents.identity.get_workspace.side_effect = Unavailable("identity is silent")
    with pytest.raises(Unavailable):
        create(documents)
    assert Estimate.objects.count() == 0
