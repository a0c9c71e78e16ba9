"""Staff commands are safe to retry: an ``Idempotency-Key`` makes the same request act once
and answer as it first did — even when that first answer never reached the caller."""

from __future__ import annotations

from typing import Any

import eventlet
import pytest

from porchlight.contracts.work_orders import WorkOrderInput
from porchlight.kit.idempotency import OTHER_REQUEST, SHOWN_ONCE, STILL_RUNNING
from porchlight.runtime import request_context
from tests.staff import Reply, StaffApi

KEY = "Idempotency-Key"


def retried(staff: StaffApi, method: str, path: str, body: Any, key: str) -> Reply:
    return staff.send(method, path, {**staff.headers, KEY: key}, json=body)


def work_orders(staff: StaffApi) -> list[dict[str, Any]]:
    return staff.every("/work-orders", "work_orders")


def test_a_create_retried_with_its_key_acts_once_and_answers_the_same(staff: StaffApi) -> None:
    body = {"title": "Boiler service", "location": "12 Orchard Lane"}
    first = retried(staff, "POST", "/work-orders", body, "create-boiler-1")
    again = retried(staff, "POST", "/work-orders", body, "create-boiler-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert [w["id"] for w in work_orders(staff)] == [first.json["id"]]
    # Without a key, or with another, it is a new request.
    assert retried(staff, "POST", "/work-orders", body, "create-boiler-2").json["id"] != first.json["id"]
    assert staff.post("/work-orders", body).status_code == 201
    assert len(work_orders(staff)) == 3


def test_the_same_key_for_another_request_is_422_and_does_nothing(staff: StaffApi) -> None:
    retried(staff, "POST", "/work-orders", {"title": "Boiler service"}, "k-1")
    other = retried(staff, "POST", "/work-orders", {"title": "Gutter repair"}, "k-1")
    assert other.status_code == 422
    assert other.json["error"]["fields"] == {KEY: OTHER_REQUEST}
    assert [w["title"] for w in work_orders(staff)] == ["Boiler service"]


@pytest.mark.parametrize("key", ["", "has space", "ünïcode", "x" * 129, "semi;colon"])
def test_a_malformed_key_is_422_before_anything_is_done(staff: StaffApi, key: str) -> None:
    response = retried(staff, "POST", "/work-orders", {"title": "Boiler service"}, key)
    assert response.status_code == 422 and KEY in response.json["error"]["fields"]
    assert work_orders(staff) == []


def test_keys_belong_to_their_workspace(make_staff: Any) -> None:
    acme, other = make_staff("Acme"), make_staff("Other Co")
    body = {"title": "Boiler service"}
    mine = retried(acme, "POST", "/work-orders", body, "shared-key")
    theirs = retried(other, "POST", "/work-orders", body, "shared-key")
    assert mine.status_code == theirs.status_code == 201 and mine.json["id"] != theirs.json["id"]
    assert len(work_orders(acme)) == len(work_orders(other)) == 1


def test_the_answer_the_caller_never_got_is_the_answer_of_the_retry(staff: StaffApi, rpc: Any) -> None:
    """The gateway gave up (a timeout, the broker gone) but documents did the work: the
    retry finds it done, instead of creating a second work order."""
    body = {"title": "Burst pipe", "location": "3 Mill Road"}
    actor = "api_key:" + rpc.call("identity", "authenticate_api_key", staff.api_key)["api_key_id"]
    data = WorkOrderInput.model_validate(body).model_dump(mode="json")
    with request_context.command("lost-answer-1"):  # what the gateway sent, answer lost
        done = rpc.call("documents", "create_work_order", staff.workspace_id, actor, data)
    retry = retried(staff, "POST", "/work-orders", body, "lost-answer-1")
    assert retry.status_code == 201 and retry.json == done
    assert [w["id"] for w in work_orders(staff)] == [done["id"]]


def test_concurrent_retries_with_one_key_have_one_effect(admin_app: Any, staff: StaffApi) -> None:
    body = {"title": "Roof survey"}

    def attempt(_: int) -> Reply:
        # Each its own client: a person's double click, a proxy's retry, a script's.
        own = StaffApi(type(staff.send)(admin_app.test_client()), staff.workspace_id, staff.api_key)
        return retried(own, "POST", "/work-orders", body, "roof-1")

    answers = list(eventlet.GreenPool(8).imap(attempt, range(8)))
    created = {a.json["id"] for a in answers if a.status_code == 201}
    assert len(work_orders(staff)) == 1 and len(created) == 1
    for answer in answers:
        assert answer.status_code in (201, 409), answer.json
        if answer.status_code == 409:
            assert answer.json["error"]["message"] == STILL_RUNNING
    assert retried(staff, "POST", "/work-orders", body, "roof-1").json["id"] in created


def test_a_command_that_failed_can_be_retried_with_its_key(staff: StaffApi) -> None:
    wo = staff.work_order(title="Boiler service")
    final = retried(staff, "PATCH", f"/work-orders/{wo['id']}", {"status": "completed"}, "close-1")
    assert final.status_code == 200
    refused = retried(staff, "PATCH", f"/work-orders/{wo['id']}", {"status": "scheduled"}, "reopen-1")
    assert refused.status_code == 409
    # The refusal was not kept: the same key with the same request is refused again,
    # for the same reason, not answered from memory.
    again = retried(staff, "PATCH", f"/work-orders/{wo['id']}", {"status": "scheduled"}, "reopen-1")
    assert again.status_code == 409 and again.json == refused.json
    assert retried(staff, "PATCH", f"/work-orders/{wo['id']}", {"status": "completed"}, "close-1").json \
        == final.json


def test_a_secret_shown_once_is_never_kept_so_its_retry_is_409(staff: StaffApi) -> None:
    wo = staff.work_order(title="Boiler service")
    body = {"entity": {"type": "work_order", "id": wo["id"]}, "permissions": ["view"]}
    first = retried(staff, "POST", "/share-tokens", body, "mint-1")
    assert first.status_code == 201 and first.json["token"].startswith("wo_")
    again = retried(staff, "POST", "/share-tokens", body, "mint-1")
    assert again.status_code == 409 and again.json["error"]["message"] == SHOWN_ONCE
    assert first.json["token"] not in again.text
    assert len(staff.tokens(wo["id"])) == 1


def test_the_openapi_document_names_the_header_on_every_command(admin_app: Any) -> None:
    document = admin_app.test_client().get("/api/v1/openapi.json").json
    for path, entry in document["paths"].items():
        for method, op in entry.items():
            if method not in ("post", "patch"):
                continue
            names = [p["name"] for p in op.get("parameters", [])]
            assert KEY in names, (method, path)
            assert {"409", "422"} <= set(op["responses"]), (method, path)
