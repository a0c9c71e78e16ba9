"""Projects as a signed-in contact reads them (``services.documents.projects.customer``):
only through a live share with their customer, at the share's level capped by their role;
the hours as totals and never a time entry or its note; tasks open first; a page at a time,
the most recently active first. Sharing (faked here) answers for the shares; the events
that change a shared project's pages are visible and name it and its customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts import events
from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import InvalidInput, NotFound
from services.documents import customer_access
from services.documents.projects.customer import STATUS_LABELS, TASK_LABELS
from tests.grants import link, session
from tests.unit.conftest import CUSTOMER

WS = "a" * 24
OTHER_CUSTOMER = "d" * 24
YESTERDAY = (utcnow() - timedelta(days=1)).date().isoformat()
NOTE = "Internal: the skip costs £240"


@pytest.fixture
def shares(documents: Any) -> dict[tuple[str, str], str]:
    """Sharing, faked: (customer, project id) → level; newest share last."""
    held: dict[tuple[str, str], str] = {}

    def customer_shares(workspace_id: str, customer_id: str, resource_type: str) -> dict[str, Any]:
        assert (workspace_id, resource_type) == (WS, "project")
        return {"shares": [{"resource_id": pid, "level": level}
                           for (customer, pid), level in reversed(held.items()) if customer == customer_id]}

    def share_level(workspace_id: str, customer_id: str, resource_type: str, resource_id: str) -> dict:
        assert (workspace_id, resource_type) == (WS, "project")
        return {"level": held.get((customer_id, resource_id))}

    documents.sharing.customer_shares.side_effect = customer_shares
    documents.sharing.share_level.side_effect = share_level
    return held


def project(documents: Any, name: str = "Loft conversion", **fields: Any) -> dict[str, Any]:
    return documents.create_project(WS, "staff", {
        "name": name, "customer_id": CUSTOMER, "status": "active", "progress": 40,
        "manager": {"name": "Priya Shah", "email": "priya@acme.example", "phone": "+44 20 7946 0999"},
        **fields})


def test_a_shared_project_shows_totals_tasks_and_the_manager_never_an_entry_or_its_note(documents, shares):
    made = project(documents, description="Dormer and en-suite.")
    pid = made["id"]
    for hours, billable, note in (("7.5", True, NOTE), ("2", False, None)):
        documents.log_time(WS, "staff", pid, {"date": YESTERDAY, "hours": hours, "billable": billable,
                                              "note": note})
    first, second = (documents.add_task(WS, "staff", pid, {"title": t, "assignee": "Robin"})["id"]
                     for t in ("Strip out", "Steel beams"))
    documents.update_task(WS, "staff", pid, first, {"status": "done"})
    shares[(CUSTOMER, pid)] = "comment"

    seen = documents.get_project_for_customer(session(WS, CUSTOMER), pid)
    assert seen["totals"]["total_hours"] == "9.50" and seen["totals"]["billable_hours"] == "7.50"
    assert seen["manager"] == {"name": "Priya Shah", "email": "priya@acme.example",
                               "phone": "+44 20 7946 0999"}
    assert (seen["number"], seen["status"], seen["status_label"], seen["progress"]) == (
        made["number"], "active", "Active", 40)
    assert [(t["title"], t["status_label"]) for t in seen["tasks"]] == [("Steel beams", "To do"),
                                                                         ("Strip out", "Done")]
    assert seen["permissions"] == ["view", "comment"] and seen["document_count"] == 0
    assert NOTE not in repr(seen) and "time_entries" not in seen and "customer_id" not in seen
    assert set(seen["tasks"][0]) == {"id", "title", "assignee", "status", "status_label"}
    assert second == seen["tasks"][0]["id"]


@pytest.mark.parametrize(("level", "role", "allowed"), [
    ("view", "owner", ["view"]), ("comment", "member", ["view", "comment"]),
    ("approve", "owner", ["view", "comment", "approve"]), ("approve", "member", ["view", "comment"]),
])
def test_what_a_contact_may_do_is_the_share_level_capped_by_their_role(documents, shares, level, role,
                                                                        allowed):
    pid = project(documents)["id"]
    shares[(CUSTOMER, pid)] = level
    capability = session(WS, CUSTOMER, role=role)
    assert documents.get_project_for_customer(capability, pid)["permissions"] == allowed
    grant = documents.customer_record_grant(capability, "project", pid)
    assert grant["permissions"] == allowed and grant["entity_id"] == pid


def test_unshared_another_customers_a_stopped_share_and_a_link_are_all_not_found(documents, shares):
    pid = project(documents)["id"]
    mine = session(WS, CUSTOMER)
    with pytest.raises(NotFound):
        documents.get_project_for_customer(mine, pid)  # never shared
    shares[(OTHER_CUSTOMER, pid)] = "view"
    with pytest.raises(NotFound):
        documents.get_project_for_customer(mine, pid)  # shared with someone else
    assert documents.get_project_for_customer(session(WS, OTHER_CUSTOMER), pid)["id"] == pid
    shares[(CUSTOMER, pid)] = "view"
    assert documents.get_project_for_customer(mine, pid)["id"] == pid
    del shares[(CUSTOMER, pid)]  # stopped
    for capability, project_id in ((mine, pid), (mine, "0" * 24), (mine, "nope"), (mine, None),
                                   (session("b" * 24, CUSTOMER), pid), ("forged", pid),
                                   (link(WS, "work_order", pid), pid)):
        with pytest.raises(NotFound):
            documents.get_project_for_customer(capability, project_id)
    with pytest.raises(NotFound):
        documents.customer_record_grant(mine, "project", pid)
    assert customer_access.permissions(documents.repo, customer_access.session_of(mine), "project", pid) == ()


def test_the_list_holds_only_shared_projects_the_most_recently_active_first_a_page_at_a_time(
        documents, shares):
    made = [project(documents, name=f"Project {n}", status="active" if n % 2 else "planned")["id"]
            for n in range(5)]
    project(documents, name="Not shared")
    for pid in made:
        shares[(CUSTOMER, pid)] = "view"
    documents.add_task(WS, "staff", made[1], {"title": "Survey"})  # the latest activity
    mine = session(WS, CUSTOMER, role="member")

    first = documents.customer_projects(mine, {"limit": "3"})
    assert [p["name"] for p in first["items"]] == ["Project 1", "Project 4", "Project 3"]
    assert first["items"][0]["permissions"] == ["view"] and first["items"][0]["document_count"] == 0
    rest = documents.customer_projects(mine, {"limit": "3", "cursor": first["next_cursor"]})
    assert [p["name"] for p in rest["items"]] == ["Project 2", "Project 0"] and rest["next_cursor"] is None
    assert first["counts"] == {"planned": 3, "active": 2, "on_hold": 0, "completed": 0, "cancelled": 0}
    active = documents.customer_projects(mine, {"status": "active"})
    assert [p["name"] for p in active["items"]] == ["Project 1", "Project 3"]
    assert [state for state, _ in active["filters"]] == list(STATUS_LABELS)
    assert documents.customer_projects(session(WS, OTHER_CUSTOMER), {})["items"] == []
    not_shared = str(documents.repo.projects.page(WS, {}, cursor=None, limit=1)[0][0].id)
    for query in ({"status": "lost"}, {"cursor": not_shared}, {"cursor": "nope"}, {"limit": "0"}):
        with pytest.raises(InvalidInput):
            documents.customer_projects(mine, query)
    for capability in ("forged", link(WS, "work_order", made[0])):
        with pytest.raises(NotFound):
            documents.customer_projects(capability, {})


def test_changes_to_a_project_are_visible_events_naming_it_and_its_customer(documents, shares):
    pid = project(documents)["id"]
    documents.dispatch.reset_mock()
    documents.update_project(WS, "staff", pid, {"progress": 60})
    documents.log_time(WS, "staff", pid, {"date": YESTERDAY, "hours": "1"})
    documents.add_task(WS, "staff", pid, {"title": "Survey"})
    sent = [(call.args[0], call.args[1]) for call in documents.dispatch.call_args_list]
    assert [name for name, _ in sent] == ["project_updated", "project_activity", "project_activity"]
    for name, payload in sent:
        model = events.model_of("documents", name)
        assert model.visible and name in events.CUSTOMER_VISIBLE["documents"]
        assert {(field, kind) for field, kind in model.record_fields()} == {("project_id", "project"),
                                                                          ("customer_id", "customer")}
        assert payload["project_id"] == pid and payload["customer_id"] == CUSTOMER
    assert not events.model_of("documents", "project_created").visible  # shared with nobody yet


def test_every_state_has_the_customers_label():
    from porchlight.contracts.projects import STATUSES, TASK_STATUSES
    assert set(STATUS_LABELS) == set(STATUSES) and set(TASK_LABELS) == set(TASK_STATUSES)
