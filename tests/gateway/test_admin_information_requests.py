"""Information requests through the admin API against the running services: a draft with
its items, changed while it is one; sending refused until the project is shared with a
customer who has a joined contact, then emailed to that contact with a link into their
account (no token); the reviews and the refusals, each with a message a person can act on."""

from __future__ import annotations

from typing import Any

from tests.gateway.test_admin_share_grants import joined_customer, project
from tests.mail import Worker
from tests.staff import StaffApi

PROMPTS = ("A copy of the land registry extract", "Your preferred tile colour", "Photos of the attic")


def draft(staff: StaffApi, pid: str, prompts: tuple[str, ...] = PROMPTS) -> dict[str, Any]:
    return staff.created(f"/projects/{pid}/information-requests", {
        "title": "Documents for the permit", "items": [{"prompt": p} for p in prompts]})


def test_a_draft_is_written_changed_listed_and_sent_to_the_joined_contacts(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = project(staff, customer_id, status="active")["id"]
    made = draft(staff, pid)
    assert made["number"].startswith("IR-") and made["status"] == "draft"
    assert made["progress"] == {"accepted": 0, "total": 3} and len(made["items"]) == 3
    rid = made["id"]
    changed = staff.patch(f"/information-requests/{rid}", {"items": [{"prompt": "The extract"},
                                                                     {"prompt": "The colour"}]})
    assert changed.status_code == 200 and [i["prompt"] for i in changed.json["items"]] == [
        "The extract", "The colour"]

    nobody = staff.post(f"/information-requests/{rid}/send")
    assert nobody.status_code == 409 and "share the project" in nobody.json["error"]["message"]
    staff.created("/share-grants", {"resource": {"type": "project", "id": pid}, "level": "comment"})
    sent = staff.post(f"/information-requests/{rid}/send")
    assert sent.status_code == 200, sent.text
    assert sent.json["information_request"]["status"] == "sent"
    assert sent.json["information_request"]["sent_at"]
    [emailed] = sent.json["customer_emails"]
    assert emailed["status"] == "queued" and emailed["email"]["template"] == "information_request_sent"
    assert emailed["email"]["to"] == "frances@northwind.example"
    worker.queued(1)
    detail = staff.get(f"/notifications/emails/{emailed['email']['id']}").json
    assert f"/portal/information-requests/{rid}" in detail["text_body"] and not detail["has_link"]
    assert "Documents for the permit" in detail["subject"]

    listed = staff.get(f"/projects/{pid}/information-requests?status=sent").json["information_requests"]
    assert [r["id"] for r in listed] == [rid]
    assert staff.get(f"/projects/{pid}/information-requests?status=draft").json["information_requests"] == []
    refused = staff.patch(f"/information-requests/{rid}", {"title": "Another"})
    assert refused.status_code == 409 and "Only a draft changes" in refused.json["error"]["message"]


def test_reviews_and_cancelling_and_their_refusals(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = project(staff, customer_id, status="active")["id"]
    made = draft(staff, pid)
    rid, item = made["id"], made["items"][0]["id"]
    early = staff.post(f"/information-requests/{rid}/items/{item}/accept")
    assert early.status_code == 409 and "send it first" in early.json["error"]["message"]
    empty = staff.post(f"/information-requests/{rid}/items/{item}/return", {"note": ""})
    assert empty.status_code == 422 and "note" in empty.json["error"]["fields"]
    assert staff.post(f"/information-requests/{rid}/items/{'f' * 24}/accept").status_code == 404
    assert staff.get(f"/information-requests/{'f' * 24}").status_code == 404
    assert staff.post(f"/projects/{'f' * 24}/information-requests",
                      {"title": "x", "items": [{"prompt": "y"}]}).status_code == 404
    too_many = staff.post(f"/projects/{pid}/information-requests",
                          {"title": "x", "items": [{"prompt": "y"}] * 51})
    assert too_many.status_code == 422 and "items" in too_many.json["error"]["fields"]
    none = staff.post(f"/projects/{pid}/information-requests", {"title": "x", "items": []})
    assert none.status_code == 422

    cancelled = staff.post(f"/information-requests/{rid}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = staff.post(f"/information-requests/{rid}/cancel")
    assert again.status_code == 409 and "cannot be cancelled" in again.json["error"]["message"]
    assert staff.post(f"/information-requests/{rid}/send").status_code == 409

    assert staff.patch(f"/projects/{pid}", {"status": "completed"}).status_code == 200
    final = staff.post(f"/projects/{pid}/information-requests", {"title": "x", "items": [{"prompt": "y"}]})
    assert final.status_code == 409 and "final" in final.json["error"]["message"]
