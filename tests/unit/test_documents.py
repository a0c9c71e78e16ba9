import itertools

import pytest

from porchlight.errors import Conflict, InvalidInput, NotFound
from services.documents.models import WorkOrder
from services.documents.work_orders import STATUSES, TRANSITIONS
from tests.unit.conftest import dispatched

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
    wo = create(documents, internal_notes="Gate code 4471", customer_id="c" * 24)
    view = documents.get_work_order_for_customer(WS, wo["id"])
    assert set(view) == {"number", "title", "status", "status_label", "description",
                         "location", "completed_at"}
    assert "4471" not in str(view)


def test_other_workspaces_see_nothing(documents):
    wo = create(documents)
    for call in (
        lambda: documents.get_work_order(OTHER_WS, wo["id"]),
        lambda: documents.get_work_order_for_customer(OTHER_WS, wo["id"]),
        lambda: documents.update_work_order(OTHER_WS, "x", wo["id"], {"title": "Mine"}),
        lambda: documents.entity_exists(OTHER_WS, "work_order", wo["id"]),
        lambda: documents.get_work_order(WS, "../etc/passwd"),
    ):
        with pytest.raises(NotFound):
            call()
    assert documents.list_work_orders(OTHER_WS) == []
    assert WorkOrder.objects.get(id=wo["id"]).title == "Fix boiler"
