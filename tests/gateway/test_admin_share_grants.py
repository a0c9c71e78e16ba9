"""Sharing projects with customers through the admin API against the running services:
share, change the level, stop, share again; the audit of every action; the lock on a
completed project; and each refusal with a message a person can act on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.gateway.test_portal_accounts import people, sign_in_by_code
from tests.mail import Worker
from tests.staff import StaffApi

EMAIL = "frances@northwind.example"


def joined_customer(staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> str:
    """A customer whose contact accepted the invitation (signed in once)."""
    customer_id = people(staff, worker)["customer"]["id"]
    assert sign_in_by_code(portal, worker, mail_server, EMAIL).status_code == 303
    return customer_id


def project(staff: StaffApi, customer_id: str, **fields: Any) -> dict[str, Any]:
    return staff.created("/projects", {"name": "Loft conversion", "customer_id": customer_id, **fields})


def test_share_change_stop_and_share_again_each_recorded_in_the_audit(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = project(staff, customer_id)["id"]
    shared = staff.post("/share-grants", {"resource": {"type": "project", "id": pid}, "level": "comment"})
    assert shared.status_code == 201, shared.text
    grant = shared.json
    assert (grant["customer_id"], grant["level"], grant["resource"]) == (
        customer_id, "comment", {"type": "project", "id": pid})
    again = staff.post("/share-grants", {"resource": {"type": "project", "id": pid}})
    assert again.status_code == 409 and "change its level" in again.json["error"]["message"]

    gid = grant["id"]
    raised = staff.patch(f"/share-grants/{gid}", {"level": "approve"})
    assert raised.status_code == 200 and raised.json["level"] == "approve"
    same = staff.patch(f"/share-grants/{gid}", {"level": "approve"})
    assert same.status_code == 200 and same.json["revision"] == raised.json["revision"]  # nothing changed
    stopped = staff.post(f"/share-grants/{gid}/stop")
    assert stopped.status_code == 200 and stopped.json["level"] is None and stopped.json["stopped_at"]
    assert staff.post(f"/share-grants/{gid}/stop").json["revision"] == stopped.json["revision"]
    refused = staff.patch(f"/share-grants/{gid}", {"level": "view"})
    assert refused.status_code == 409 and "share it again" in refused.json["error"]["message"]
    back = staff.post("/share-grants", {"resource": {"type": "project", "id": pid},
                                        "customer_id": customer_id})
    assert back.status_code == 201 and back.json["id"] == gid and back.json["level"] == "view"

    audit = staff.every(f"/share-audit?resource={pid}", "share_audit")
    assert [(a["action"], a["level_before"], a["level_after"]) for a in audit] == [
        ("shared", None, "view"), ("stopped", "approve", None),
        ("level_changed", "comment", "approve"), ("shared", None, "comment")]
    assert len({a["actor"] for a in audit}) == 1 and audit[0]["actor"].startswith("api_key:")
    assert {a["customer_id"] for a in audit} == {customer_id}
    assert staff.every(f"/share-audit?customer_id={customer_id}", "share_audit") == audit
    assert [g["id"] for g in staff.every(f"/share-grants?customer_id={customer_id}&live=true",
                                         "share_grants")] == [gid]
    assert staff.get(f"/share-grants/{gid}").json["level"] == "view"


def test_a_completed_projects_share_is_locked(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = project(staff, customer_id, status="active")["id"]
    gid = staff.created("/share-grants", {"resource": {"type": "project", "id": pid},
                                          "level": "comment"})["id"]
    assert staff.patch(f"/projects/{pid}", {"status": "completed"}).status_code == 200
    for refused in (staff.post(f"/share-grants/{gid}/stop"),
                    staff.patch(f"/share-grants/{gid}", {"level": "view"})):
        assert refused.status_code == 409 and "locked" in refused.json["error"]["message"]
    assert staff.patch(f"/share-grants/{gid}", {"level": "approve"}).status_code == 200  # raising is fine
    assert staff.get(f"/share-grants/{gid}").json["level"] == "approve"
    assert len(staff.every(f"/share-audit?resource={pid}", "share_audit")) == 2  # refusals leave no line


def test_sharing_needs_a_project_and_a_customer_with_someone_who_joined(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    invited_only = people(staff, worker, email="nobody@northwind.example")["customer"]["id"]
    pid = project(staff, invited_only)["id"]
    nobody = staff.post("/share-grants", {"resource": {"type": "project", "id": pid}})
    assert nobody.status_code == 422
    assert "accepted an invitation" in nobody.json["error"]["fields"]["customer_id"]
    unknown = staff.post("/share-grants", {"resource": {"type": "project", "id": "0" * 24}})
    assert unknown.status_code == 422
    assert unknown.json["error"]["fields"]["resource.id"] == "No such project in this workspace."
    stranger = staff.post("/share-grants", {"resource": {"type": "project", "id": pid},
                                            "customer_id": "0" * 24})
    assert stranger.status_code == 422
    assert "No such customer" in stranger.json["error"]["fields"]["customer_id"]
    for body in ({"resource": {"type": "estimate", "id": pid}}, {"resource": {"type": "project", "id": pid},
                                                                "level": "own"}, {}):
        assert staff.post("/share-grants", body).status_code == 422, body
    assert staff.get("/share-grants").status_code == 422  # names neither a customer nor a resource
    assert staff.get(f"/share-grants?resource={'0' * 24}").status_code == 404
    assert staff.get(f"/share-grants/{'0' * 24}").status_code == 404
    assert staff.post(f"/share-grants/{'0' * 24}/stop").status_code == 404
    assert staff.every(f"/share-audit?resource={pid}", "share_audit") == []  # nothing stored


def test_two_staff_changing_one_share_at_once_get_a_line_each_and_the_last_level(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = project(staff, customer_id)["id"]
    gid = staff.created("/share-grants", {"resource": {"type": "project", "id": pid}})["id"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda level: staff.patch(f"/share-grants/{gid}", {"level": level}),
                                ("comment", "approve")))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    changes = [a for a in staff.every(f"/share-audit?resource={pid}", "share_audit")
               if a["action"] == "level_changed"]
    assert len(changes) == 2
    last = changes[0]["level_after"]  # newest first: the later change is the level now
    assert staff.get(f"/share-grants/{gid}").json["level"] == last
    assert changes[0]["level_before"] == changes[1]["level_after"]  # each saw the other's change
