"""The staff inbox (``services.notifications``): each fact makes one item with the right
text — from the fact alone, documents is never asked — a fact delivered twice makes one
item, a payload that is not such a fact makes none, and the RPCs keep to the workspace."""

from __future__ import annotations

import inspect
import logging
from datetime import timedelta

import pytest
from nameko.extensions import DependencyProvider

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import InvalidInput, NotFound
from porchlight.contracts.events import EstimateRejected
from services.notifications import inbox as inbox_items
from services.notifications.models import ALIAS, InboxItem
from services.notifications.repository import NotificationsRepository
from services.notifications.service import NotificationsService

WS = "a" * 24
OTHER_WS = "b" * 24
EST = "c" * 24
SRP = "d" * 24
CERT = "cert_" + "1" * 32


@pytest.fixture
def notifications(make_worker):
    return make_worker(NotificationsService, ALIAS, NotificationsRepository)


def fact(workspace_id: str = WS, minutes_ago: int = 0, **fields) -> dict:
    return {"workspace_id": workspace_id, "actor": "customer",
            "occurred_at": isoformat(utcnow() - timedelta(minutes=minutes_ago)), **fields}


def answered(workspace_id: str = WS, estimate_id: str = EST, revision: int = 2, minutes_ago: int = 0,
             **shown) -> dict:
    """An estimate's answer as documents announces it: ids, and what the item shows."""
    return fact(workspace_id, minutes_ago, estimate_id=estimate_id, revision=revision,
                certificate_id=CERT, **{"number": "EST-0007", "title": "Boiler replacement",
                                        "signer_name": "Dana Fix", "reason": None,
                                        "total": "€1,210.00", **shown})


accepted = answered


def signed(**shown) -> dict:
    return fact(service_report_id=SRP, certificate_id=CERT, **{
        "number": "SR-0003", "signer_name": "Sam Signer", "work_order_number": "WO-0012",
        "work_order_title": "Annual boiler service", **shown})


def inbox(worker, workspace_id: str = WS, **query) -> dict:
    return worker.list_inbox(workspace_id, query)


def test_an_accepted_estimate_makes_one_item_with_the_answer(notifications):
    notifications.on_estimate_approved(accepted())
    [item] = inbox(notifications)["items"]
    assert item["kind"] == "estimate_accepted" and item["workspace_id"] == WS
    assert item["title"] == "Estimate EST-0007 accepted"
    assert item["summary"] == ("Dana Fix accepted estimate EST-0007 “Boiler replacement” "
                               "(revision 2), total €1,210.00.")
    assert item["entity"] == {"type": "estimate", "id": EST, "number": "EST-0007"}
    assert item["details"] == {"signer_name": "Dana Fix", "certificate_id": CERT}
    assert item["read_at"] is None and item["created_at"] and item["occurred_at"]


def test_a_declined_estimate_carries_the_customers_reason(notifications):
    notifications.on_estimate_rejected(answered(reason="Too dear"))
    [item] = inbox(notifications)["items"]
    assert item["kind"] == "estimate_declined"
    assert item["title"] == "Estimate EST-0007 declined"
    assert item["summary"] == ("Dana Fix declined estimate EST-0007 “Boiler replacement” "
                               "(revision 2). Reason: “Too dear”.")
    assert item["details"] == {"signer_name": "Dana Fix", "reason": "Too dear", "certificate_id": CERT}


def test_a_decline_without_a_name_or_a_reason_says_so(notifications):
    notifications.on_estimate_rejected(answered(signer_name=None))
    [item] = inbox(notifications)["items"]
    assert item["summary"] == ("The customer declined estimate EST-0007 “Boiler replacement” "
                               "(revision 2). No reason given.")
    assert item["details"] == {"certificate_id": CERT}


def test_the_item_is_made_from_the_event_alone():
    event = EstimateRejected.model_validate(answered(reason="Too dear", number="EST-0042",
                                                     title="Roof", signer_name="Lee"))
    item = inbox_items.estimate_item(event)
    assert (item["entity_number"], item["signer_name"], item["reason"]) == ("EST-0042", "Lee", "Too dear")
    assert item["title"] == "Estimate EST-0042 declined"
    assert "“Roof”" in item["summary"] and "Lee declined" in item["summary"]


def test_a_signed_service_report_names_the_signer_and_the_certificate(notifications):
    notifications.on_service_report_signed(signed())
    [item] = inbox(notifications)["items"]
    assert item["kind"] == "service_report_signed"
    assert item["title"] == "Service report SR-0003 signed"
    assert item["summary"] == ("Sam Signer signed service report SR-0003 for work order WO-0012 "
                               "“Annual boiler service”.")
    assert item["entity"] == {"type": "service_report", "id": SRP, "number": "SR-0003"}
    assert item["details"] == {"signer_name": "Sam Signer", "certificate_id": CERT}


def asked(worker) -> set[str]:
    """The neighbours (and other dependencies but the store) the worker called."""
    return {name for name, dependency in inspect.getmembers(NotificationsService)
            if isinstance(dependency, DependencyProvider) and name != "repo"
            and getattr(worker, name).mock_calls}


def test_the_inbox_handlers_never_ask_documents(notifications):
    """documents puts in the fact what an item shows: no handler calls it back, so an item
    is made whether documents answers or not. Only identity is asked, for the office's
    addresses."""
    notifications.identity.get_workspace.return_value = {"id": WS, "notification_addresses": []}
    notifications.on_estimate_approved(accepted())
    notifications.on_estimate_rejected(answered(estimate_id="e" * 24, reason="No"))
    notifications.on_service_report_signed(signed())
    assert InboxItem.objects(workspace_id=WS).count() == 3
    assert asked(notifications) == {"identity"}
    assert {c[0] for c in notifications.identity.mock_calls} == {"get_workspace"}


def test_the_same_fact_twice_makes_one_item(notifications):
    event = accepted()
    notifications.on_estimate_approved(event)
    notifications.on_estimate_approved(dict(event))
    assert InboxItem.objects(workspace_id=WS).count() == 1
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
        notifications.on_estimate_approved({**accepted(estimate_id=f"{n:024x}", revision=1),
                                            "occurred_at": moment})
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


@pytest.mark.parametrize("payload", [
    {"barrier": True}, {"workspace_id": WS}, "not a fact",
    # ids only, as documents sent them before the answers carried what the item shows
    fact(estimate_id=EST, revision=2, service_report_id=SRP, certificate_id=CERT),
])
def test_a_payload_that_is_no_such_fact_makes_no_item(notifications, payload, caplog):
    with caplog.at_level(logging.WARNING, logger="services.notifications.inbox"):
        notifications.on_estimate_approved(payload)
        notifications.on_estimate_rejected(payload)
        notifications.on_service_report_signed(payload)
    assert InboxItem.objects.count() == 0
    assert asked(notifications) == set()
    assert [r.getMessage().startswith("no inbox item: documents.") for r in caplog.records] == [True] * 3


def test_an_approval_with_a_reason_is_no_such_fact(notifications):
    """Only a decline has a reason: an approval carrying one was not sent by documents."""
    notifications.on_estimate_approved(accepted(reason="Why not"))
    assert InboxItem.objects.count() == 0
