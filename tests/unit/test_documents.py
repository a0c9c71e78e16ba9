import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from services.documents.estimates.models import Estimate
from services.documents.work_orders.models import WorkOrder
from services.documents.work_orders.rules import STATUSES, TRANSITIONS
from tests.grants import link
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_WS = "b" * 24


def create(documents, ws=WS, **fields):
    return documents.create_work_order(ws, "staff", {"title": "Fix boiler", **fields})


def test_numbers_are_generated_per_workspace_and_skip_taken_ones(documents):
    assert create(documents)["number"] == "WO-0001"
    assert create(documents, number="WO-0002")["number"] == "WO-0002"
    assert create(documents)["number"] == "WO-0003"  # WO-0002 was taken by hand
    assert create(documents, ws=OTHER_WS)["number"] == "WO-0001"


def test_a_number_is_unique_within_a_workspace(documents):
    create(documents, number="JOB-7")
    with pytest.raises(Conflict):
        create(documents, number="JOB-7")
    assert create(documents, ws=OTHER_WS, number="JOB-7")["number"] == "JOB-7"
    assert WorkOrder.objects(workspace_id=WS).count() == 1


def test_created_event_and_defaults(documents):
    wo = create(documents)
    assert wo["status"] == "new" and wo["status_label"] == "Request received"
    assert wo["completed_at"] is None
    assert dispatched(documents) == ["work_order_created"]


@pytest.mark.parametrize("data, field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"status": "done"}, "status"),
    ({"number": "has space"}, "number"),
    ({"number": "x" * 33}, "number"),
    ({"customer_id": "alex"}, "customer_id"),
    ({"description": 5}, "description"),
    ({"secret": 1}, "secret"),
])
def test_create_validation_writes_nothing(documents, data, field):
    with pytest.raises(InvalidInput) as info:
        create(documents, **data)
    assert field in info.value.fields
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize("current, target", list(itertools.product(STATUSES, STATUSES)))
def test_every_transition(documents, current, target):
    wo = create(documents)
    WorkOrder.objects(id=wo["id"]).update_one(set__status=current)
    if current == target:
        result = documents.update_work_order(WS, "staff", wo["id"], {"status": target})
        assert result["status"] == current
        assert "work_order_status_changed" not in dispatched(documents)
    elif target in TRANSITIONS[current]:
        result = documents.update_work_order(WS, "staff", wo["id"], {"status": target})
        assert result["status"] == target
        assert (result["completed_at"] is not None) == (target == "completed")
        assert dispatched(documents)[-1] == "work_order_status_changed"
    else:
        with pytest.raises(Conflict):
            documents.update_work_order(WS, "staff", wo["id"], {"status": target, "title": "New"})
        stored = WorkOrder.objects.get(id=wo["id"])
        assert stored.status == current and stored.title == "Fix boiler"


def test_completion_is_stamped_once(documents):
    wo = create(documents)
    done = documents.update_work_order(WS, "staff", wo["id"], {"status": "completed"})
    again = documents.update_work_order(WS, "staff", wo["id"], {"status": "completed"})
    assert done["completed_at"] == again["completed_at"] is not None


def test_patch_changes_only_what_was_sent_and_null_clears(documents):
    wo = create(documents, description="Old", location="Here", internal_notes="gate 1234")
    result = documents.update_work_order(WS, "staff", wo["id"], {"description": None, "title": "New"})
    assert result["title"] == "New" and result["description"] is None
    assert result["location"] == "Here" and result["internal_notes"] == "gate 1234"
    with pytest.raises(InvalidInput) as info:
        documents.update_work_order(WS, "staff", wo["id"], {"title": None, "status": None, "number": "X"})
    assert set(info.value.fields) == {"title", "status", "number"}


def test_customer_view_carries_nothing_internal(documents):
    wo = create(documents, internal_notes="Gate code 4471", customer_id=CUSTOMER)
    view = documents.get_work_order_for_customer(link(WS, "work_order", wo["id"]), wo["id"])
    assert set(view) == {"number", "title", "status", "status_label", "description",
                         "location", "completed_at"}
    assert "4471" not in str(view)


def test_other_workspaces_see_nothing(documents):
    wo = create(documents)
    for call in (
        lambda: documents.get_work_order(OTHER_WS, wo["id"]),
        lambda: documents.get_work_order_for_customer(link(OTHER_WS, "work_order", wo["id"]), wo["id"]),
        lambda: documents.update_work_order(OTHER_WS, "x", wo["id"], {"title": "Mine"}),
        lambda: documents.entity_exists(OTHER_WS, "work_order", wo["id"]),
        lambda: documents.get_work_order(WS, "../etc/passwd"),
    ):
        with pytest.raises(NotFound):
            call()
    assert documents.list_work_orders(OTHER_WS, {}) == {"work_orders": [], "next_cursor": None}
    assert WorkOrder.objects.get(id=wo["id"]).title == "Fix boiler"


NO_SUCH_CUSTOMER = {"customer_id": "No such customer in this workspace."}


def test_a_work_order_only_points_at_a_customer_of_its_workspace(documents):
    with pytest.raises(InvalidInput) as info:
        create(documents, customer_id="d" * 24)
    assert info.value.message == "Some fields need attention." and info.value.fields == NO_SUCH_CUSTOMER
    assert WorkOrder.objects.count() == 0
    documents.identity.get_customer.assert_called_with(WS, "d" * 24)
    wo = create(documents, customer_id=CUSTOMER)
    assert wo["customer_id"] == CUSTOMER
    with pytest.raises(InvalidInput) as info:
        documents.update_work_order(WS, "staff", wo["id"], {"customer_id": "d" * 24, "title": "New"})
    assert info.value.fields == NO_SUCH_CUSTOMER
    stored = WorkOrder.objects.get(id=wo["id"])
    assert stored.customer_id == CUSTOMER and stored.title == "Fix boiler"
    calls = documents.identity.get_customer.call_count
    cleared = documents.update_work_order(WS, "staff", wo["id"], {"customer_id": None})
    assert cleared["customer_id"] is None
    assert documents.identity.get_customer.call_count == calls  # clearing needs no question


def test_an_unknown_work_order_is_not_found_before_its_customer_is_checked(documents):
    with pytest.raises(NotFound):
        documents.update_work_order(WS, "staff", "f" * 24, {"customer_id": "d" * 24})
    documents.identity.get_customer.assert_not_called()


def one_of_each(documents, ws=WS):
    """A work order, an estimate and a service report of one workspace, by type."""
    wo = create(documents, ws=ws)
    est = documents.create_estimate(ws, "staff", {
        "title": "Boiler", "valid_until": (utcnow() + timedelta(days=10)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}]})
    report = documents.create_service_report(ws, "staff", {"work_order_id": wo["id"]})
    return {"work_order": wo["id"], "estimate": est["id"], "service_report": report["id"]}


def test_sharing_a_record_tells_sharing_when_the_record_ends(documents):
    ids = one_of_each(documents)
    for kind, entity_id in ids.items():
        request = {"entity": {"type": kind, "id": entity_id}, "permissions": ["view"]}
        minted = documents.share_record(WS, "staff", request)
        assert minted == documents.links[-1]  # sharing's answer, raw token included
        assert documents.sharing.mint_token.call_args.args[:3] == (WS, "staff", request)
    ends_at = [call.args[3] for call in documents.sharing.mint_token.call_args_list]
    # Only an estimate ends: at the end of its valid-until day in the workspace's zone.
    assert ends_at[0] is None and ends_at[2] is None
    assert ends_at[1] == isoformat(Estimate.objects.get(id=ids["estimate"]).expires_at)
    assert ends_at[1].endswith("T22:00:00.000Z") or ends_at[1].endswith("T23:00:00.000Z")  # Amsterdam
    assert all(documents.entity_exists(WS, kind, entity_id) for kind, entity_id in ids.items())


def test_a_link_carries_the_customer_of_its_record_as_documents_knows_it(documents):
    wo = create(documents, customer_id=CUSTOMER)
    report = documents.create_service_report(WS, "staff", {"work_order_id": wo["id"]})
    estimate = documents.create_estimate(WS, "staff", {
        "title": "Boiler", "customer_id": CUSTOMER,
        "valid_until": (utcnow() + timedelta(days=10)).date().isoformat(),
        "line_items": [{"description": "Labour", "quantity": 1, "unit_price": "80"}]})
    documents.share_record(WS, "staff", {"entity": {"type": "work_order", "id": wo["id"]},
                                         "permissions": ["view"]})
    documents.share_record(WS, "staff", {"entity": {"type": "service_report", "id": report["id"]},
                                         "permissions": ["view"]})
    documents.send_estimate(WS, "staff", estimate["id"])
    documents.complete_service_report(WS, "staff", report["id"])
    assert [link["share_token"]["customer_id"] for link in documents.links] == [CUSTOMER] * 4
    unowned = create(documents)
    documents.share_record(WS, "staff", {"entity": {"type": "work_order", "id": unowned["id"]},
                                         "permissions": ["view"]})
    assert documents.links[-1]["share_token"]["customer_id"] is None


def test_a_record_this_workspace_does_not_hold_is_never_shared(documents):
    theirs = one_of_each(documents, ws=OTHER_WS)
    mine = one_of_each(documents)
    refused = [(kind, entity_id) for kind, entity_id in theirs.items()]
    refused += [(kind, "f" * 24) for kind in mine]
    refused += [("estimate", mine["work_order"]), ("service_report", mine["estimate"])]
    for kind, entity_id in refused:
        with pytest.raises(InvalidInput) as info:
            documents.share_record(WS, "staff", {"entity": {"type": kind, "id": entity_id},
                                                 "permissions": ["view"]})
        assert info.value.fields == {"entity.id": "No such record in this workspace."}
        with pytest.raises(NotFound):
            documents.entity_exists(WS, kind, entity_id)
    for kind, entity_id in [("invoice", mine["work_order"]), ("work_order", "../x"), ("work_order", "")]:
        with pytest.raises(NotFound):
            documents.entity_exists(WS, kind, entity_id)
    documents.sharing.mint_token.assert_not_called()


@pytest.mark.parametrize("request_body, field", [
    ({"entity": {"type": "invoice", "id": "a" * 24}, "permissions": ["view"]}, "entity.type"),
    ({"entity": {"type": "work_order", "id": "123"}, "permissions": ["view"]}, "entity.id"),
    ({"permissions": ["view"]}, "entity"),
])
def test_a_malformed_share_request_is_refused_before_anyone_is_asked(documents, request_body, field):
    with pytest.raises(InvalidInput) as info:
        documents.share_record(WS, "staff", request_body)
    assert field in info.value.fields
    documents.sharing.mint_token.assert_not_called()


SERVICES = Path(__file__).resolve().parents[2] / "services"


def test_documents_queries_live_only_in_repository_modules():
    modules = [p for p in (SERVICES / "documents").rglob("*.py") if p.name != "repository.py"]
    assert SERVICES / "documents" / "estimates" / "rpc.py" in modules
    offenders = [
        f"{path.relative_to(SERVICES)}:{number}"
        for path in modules
        for number, line in enumerate(path.read_text().splitlines(), 1) if ".objects" in line
    ]
    assert offenders == []


def test_no_service_module_outgrows_a_reading():
    sizes = {str(p.relative_to(SERVICES)): len(p.read_text().splitlines()) for p in SERVICES.rglob("*.py")}
    assert "documents/service.py" in sizes
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}
