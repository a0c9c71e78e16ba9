"""The staff inbox (``services.notifications``) with a fake documents neighbour: each fact
makes one item with the right text, a fact delivered twice makes one item, and the RPCs
keep to the workspace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from porchlight.clock import isoformat, utcnow
from porchlight.errors import InvalidInput, NotFound
from services.notifications.models import ALIAS, InboxItem
from services.notifications.repository import NotificationsRepository
from services.notifications.service import NotificationsService

WS = "a" * 24
OTHER_WS = "b" * 24
EST = "c" * 24
SRP = "d" * 24
CERT = "cert_" + "1" * 32


def estimate_view(response: str, revision: int = 2, reason: str | None = None) -> dict:
    return {"id": EST, "number": "EST-0007", "title": "Boiler replacement", "revision": revision,
            "outcome": {"response": response, "revision": revision, "signer_name": "Dana Fix",
                        "reason": reason, "total": "€1,210.00", "certificate_id": CERT}}


@pytest.fixture
def notifications(make_worker):
    worker = make_worker(NotificationsService, ALIAS, NotificationsRepository)
    worker.documents.get_estimate.return_value = estimate_view("accept")
    worker.documents.get_service_report.return_value = {
        "id": SRP, "number": "SR-0003", "work_order_number": "WO-0012",
        "work_order_title": "Annual boiler service", "signed_by": "Sam Signer",
        "certificate_id": CERT}
    return worker


def fact(workspace_id: str = WS, minutes_ago: int = 0, **ids) -> dict:
    return {"workspace_id": workspace_id, "actor": "customer",
            "occurred_at": isoformat(utcnow() - timedelta(minutes=minutes_ago)), **ids}


def accepted(workspace_id: str = WS, estimate_id: str = EST, revision: int = 2, minutes_ago: int = 0):
    return fact(workspace_id, minutes_ago, estimate_id=estimate_id, revision=revision,
                certificate_id=CERT)


def inbox(worker, workspace_id: str = WS, **query) -> dict:
    return worker.list_inbox(workspace_id, query)


def test_an_accepted_estimate_makes_one_item_with_the_answer(notifications):
    notifications.on_estimate_approved(accepted())
    [item] = inbox(notifications)["items"]
    notifications.documents.get_estimate.assert_called_once_with(WS, EST)
    assert item["kind"] == "estimate_accepted" and item["workspace_id"] == WS
    assert item["title"] == "Estimate EST-0007 accepted"
    assert item["summary"] == ("Dana Fix accepted estimate EST-0007 “Boiler replacement” "
                               "(revision 2), total €1,210.00.")
    assert item["entity"] == {"type": "estimate", "id": EST, "number": "EST-0007"}
    assert item["details"] == {"signer_name": "Dana Fix", "certificate_id": CERT}
    assert item["read_at"] is None and item["created_at"] and item["occurred_at"]


def test_a_declined_estimate_carries_the_customers_reason(notifications):
    notifications.documents.get_estimate.return_value = estimate_view("reject", reason="Too dear")
    notifications.on_estimate_rejected(accepted())
    [item] = inbox(notifications)["items"]
    assert item["kind"] == "estimate_declined"
    assert item["title"] == "Estimate EST-0007 declined"
    assert item["summary"].endswith("(revision 2). Reason: “Too dear”.")
    assert item["details"] == {"signer_name": "Dana Fix", "reason": "Too dear", "certificate_id": CERT}


def test_a_signed_service_report_names_the_signer_and_the_certificate(notifications):
    notifications.on_service_report_signed(fact(service_report_id=SRP, certificate_id=CERT))
    [item] = inbox(notifications)["items"]
    notifications.documents.get_service_report.assert_called_once_with(WS, SRP)
    assert item["kind"] == "service_report_signed"
    assert item["title"] == "Service report SR-0003 signed"
    assert item["summary"] == ("Sam Signer signed service report SR-0003 for work order WO-0012 "
                               "“Annual boiler service”.")
    assert item["entity"] == {"type": "service_report", "id": SRP, "number": "SR-0003"}
    assert item["details"] == {"signer_name": "Sam Signer", "certificate_id": CERT}


def test_the_same_fact_twice_makes_one_item_and_one_lookup(notifications):
    event = accepted()
    notifications.on_estimate_approved(event)
    notifications.on_estimate_approved(dict(event))
    assert InboxItem.objects(workspace_id=WS).count() == 1
    assert notifications.documents.get_estimate.call_count == 1
    # A new revision answered is a new fact, and a new item.
    notifications.on_estimate_approved(accepted(revision=3))
    assert InboxItem.objects(workspace_id=WS).count() == 2


def test_two_deliveries_racing_past_the_first_check_still_make_one_item(notifications):
    repo = notifications.repo
    fields = {"workspace_id": WS, "cause": "estimate_approved:x:1", "kind": "estimate_accepted",
              "title": "t", "summary": "s", "entity_type": "estimate", "entity_id": EST,
              "occurred_at": utcnow()}
    first, made = repo.add_once(dict(fields))
    again, made_again = repo.add_once(dict(fields))
    assert made and not made_again and again.id == first.id
    assert InboxItem.objects.count() == 1


def test_an_unanswered_lookup_still_makes_the_item_from_the_fact(notifications):
    notifications.documents.get_estimate.side_effect = NotFound("gone")
    notifications.on_estimate_approved(accepted())
    [item] = inbox(notifications)["items"]
    assert item["title"] == "An estimate accepted"
    assert item["entity"] == {"type": "estimate", "id": EST, "number": None}
    assert item["details"] == {"certificate_id": CERT}


def test_an_outcome_of_another_revision_is_not_shown_as_this_answer(notifications):
    notifications.documents.get_estimate.return_value = estimate_view("reject", revision=3, reason="No")
    notifications.on_estimate_rejected(accepted(revision=2))
    [item] = inbox(notifications)["items"]
    assert "reason" not in item["details"] and "signer_name" not in item["details"]
    assert item["summary"].startswith("The customer declined estimate EST-0007")


def test_mark_read_is_idempotent_and_another_workspaces_item_is_not_found(notifications):
    notifications.on_estimate_approved(accepted())
    [item] = inbox(notifications)["items"]
    read = notifications.mark_read(WS, "api_key:1", item["id"])
    assert read["read_at"] and read["read_by"] == "api_key:1"
    again = notifications.mark_read(WS, "api_key:2", item["id"])
    assert again["read_at"] == read["read_at"] and again["read_by"] == "api_key:1"
    with pytest.raises(NotFound):
        notifications.mark_read(OTHER_WS, "api_key:9", item["id"])
    with pytest.raises(NotFound):
        notifications.mark_read(WS, "api_key:1", "not-an-id")
    assert inbox(notifications, OTHER_WS)["items"] == []


def test_mark_all_read_counts_what_it_marked_in_its_own_workspace_only(notifications):
    for n in range(3):
        notifications.on_estimate_approved(accepted(estimate_id=f"{n:024x}"))
    notifications.on_estimate_approved(accepted(workspace_id=OTHER_WS, estimate_id="e" * 24))
    notifications.mark_read(WS, "api_key:1", inbox(notifications)["items"][0]["id"])
    assert notifications.mark_all_read(WS, "api_key:1") == {"marked": 2}
    assert notifications.mark_all_read(WS, "api_key:1") == {"marked": 0}
    assert inbox(notifications, WS)["unread_count"] == 0
    assert inbox(notifications, OTHER_WS)["unread_count"] == 1


def test_unread_filter_and_pages_newest_first(notifications):
    ids = [f"{n:024x}" for n in range(5)]
    for n, estimate_id in enumerate(ids):  # the last one happened first
        notifications.on_estimate_approved(accepted(estimate_id=estimate_id, minutes_ago=n))
    page = inbox(notifications, limit="2")
    assert [i["entity"]["id"] for i in page["items"]] == ids[:2]
    assert page["unread_count"] == 5 and page["next_cursor"] == page["items"][-1]["id"]
    seen = [i["entity"]["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = inbox(notifications, limit="2", cursor=page["next_cursor"])
        seen += [i["entity"]["id"] for i in page["items"]]
    assert seen == ids

    notifications.mark_read(WS, "api_key:1", inbox(notifications)["items"][1]["id"])
    unread = inbox(notifications, unread="true")
    assert [i["entity"]["id"] for i in unread["items"]] == [ids[0], *ids[2:]]
    assert unread["unread_count"] == 4 and unread["next_cursor"] is None
    assert len(inbox(notifications, unread="false")["items"]) == 5


def test_items_with_the_same_moment_page_by_id_without_loss(notifications):
    moment = isoformat(utcnow())
    for n in range(4):
        notifications.on_estimate_approved({"workspace_id": WS, "actor": "customer",
                                            "occurred_at": moment, "estimate_id": f"{n:024x}",
                                            "revision": 1, "certificate_id": CERT})
    first = inbox(notifications, limit="3")
    rest = inbox(notifications, limit="3", cursor=first["next_cursor"])
    got = [i["id"] for i in first["items"] + rest["items"]]
    assert len(set(got)) == 4 and rest["next_cursor"] is None


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"unread": "yes"}, "unread"), ({"cursor": "nope"}, "cursor"), ({"cursor": "f" * 24}, "cursor"),
])
def test_a_bad_query_names_its_parameter(notifications, query, field):
    with pytest.raises(InvalidInput) as raised:
        notifications.list_inbox(WS, query)
    assert set(raised.value.fields) == {field}


def test_another_workspaces_item_is_no_cursor(notifications):
    notifications.on_estimate_approved(accepted(workspace_id=OTHER_WS))
    [item] = inbox(notifications, OTHER_WS)["items"]
    with pytest.raises(InvalidInput):
        notifications.list_inbox(WS, {"cursor": item["id"]})


@pytest.mark.parametrize("payload", [{"barrier": True}, {"workspace_id": WS}, "not a fact"])
def test_a_payload_that_is_no_such_fact_makes_no_item(notifications, payload):
    notifications.on_estimate_approved(payload)
    notifications.on_service_report_signed(payload)
    assert InboxItem.objects.count() == 0
    assert notifications.documents.mock_calls == []
