"""Comments on a project in documents: the team posts under a name and hides; a customer's
contact posts only when the share allows it (a member at comment level too, never at view
level), under their own name; a form's key posts once; 0 or 2,001 characters and anything
not plain text are refused with nothing stored; a hidden comment reaches the customer
without its words; nothing of another workspace's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from porchlight.contracts.errors import InvalidInput, NotFound
from services.documents.project_comments.models import ProjectComment
from tests import grants
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
CONTACT = "6" * 24


@pytest.fixture
def project(documents: Any) -> str:
    documents.identity.get_contact.return_value = {"name": "Frances Marsh"}
    return documents.create_project(WS, "staff", {"name": "Loft", "customer_id": CUSTOMER})["id"]


def share(documents: Any, level: str | None) -> None:
    documents.sharing.share_level.return_value = {"level": level}


def post(documents: Any, project_id: str, body: str = "When do the roofers come?", role: str = "owner",
         key: str | None = None) -> dict[str, Any]:
    return documents.post_customer_comment(grants.session(WS, CUSTOMER, role, contact_id=CONTACT), project_id,
                                           {"body": body, "key": key or "form-" + uuid.uuid4().hex})


def test_staff_and_customer_comments_make_one_thread(documents, project):
    share(documents, "comment")
    staff = documents.post_staff_comment(WS, "api_key:1", project, {"body": "Scaffold goes up Monday.",
                                                                    "author_name": "Sam Lee"})
    assert staff["author"] == {"kind": "staff", "name": "Sam Lee", "contact_id": None}
    mine = post(documents, project, "Thanks!\nWhat time?")
    assert mine["author"] == {"kind": "contact", "name": "Frances Marsh", "contact_id": CONTACT}
    assert mine["body"] == "Thanks!\nWhat time?"
    thread = documents.customer_comments(grants.session(WS, CUSTOMER), project, {})
    assert [c["id"] for c in thread["items"]] == [mine["id"], staff["id"]]  # newest first
    assert [c["id"] for c in documents.list_project_comments(WS, project, {})["comments"]] == [
        mine["id"], staff["id"]]
    assert dispatched(documents).count("project_comment_posted") == 2
    posted = [c.args[1] for c in documents.dispatch.call_args_list if c.args[0] == "project_comment_posted"]
    assert posted[1]["customer_id"] == CUSTOMER and posted[1]["excerpt"] == "Thanks!\nWhat time?"
    assert posted[1]["project_number"] == "PRJ-0001" and posted[0]["customer_id"] is None


def test_a_double_click_posts_once(documents, project):
    share(documents, "comment")
    key = "form-" + uuid.uuid4().hex
    first, second = post(documents, project, key=key), post(documents, project, key=key)
    assert first["id"] == second["id"] and ProjectComment.objects.count() == 1
    assert dispatched(documents).count("project_comment_posted") == 1


@pytest.mark.parametrize("body, key", [
    ("", None), ("   ", None), ("x" * 2001, None), ("bell\x07", None),
    ("fine", "not-a-key"), ("fine", "form-" + "A" * 32), ("fine", "a" * 32),
])
def test_bad_comments_are_refused_and_nothing_is_stored(documents, project, body, key):
    share(documents, "comment")
    with pytest.raises(InvalidInput):
        post(documents, project, body, key=key)
    assert ProjectComment.objects.count() == 0


def test_2000_characters_are_enough(documents, project):
    share(documents, "comment")
    assert len(post(documents, project, "é" * 2000)["body"]) == 2000


@pytest.mark.parametrize("level, role", [("view", "owner"), (None, "owner"), ("view", "member")])
def test_without_a_comment_share_nothing_is_posted(documents, project, level, role):
    share(documents, level)
    with pytest.raises(NotFound):
        post(documents, project, role=role)
    assert ProjectComment.objects.count() == 0


def test_a_member_comments_at_comment_and_approve_levels(documents, project):
    for level in ("comment", "approve"):
        share(documents, level)
        assert post(documents, project, role="member")["author"]["kind"] == "contact"


def test_a_hidden_comment_reads_removed_for_the_customer_and_stays_for_staff(documents, project):
    share(documents, "view")
    said = documents.post_staff_comment(WS, "api_key:1", project, {"body": "Wrong thread",
                                                                   "author_name": "Sam"})
    hidden = documents.hide_project_comment(WS, "api_key:2", project, said["id"])
    assert hidden["hidden_at"] and hidden["hidden_by"] == "api_key:2" and hidden["body"] == "Wrong thread"
    again = documents.hide_project_comment(WS, "api_key:3", project, said["id"])
    assert again["hidden_by"] == "api_key:2" and dispatched(documents).count("project_comment_hidden") == 1
    [seen] = documents.customer_comments(grants.session(WS, CUSTOMER), project, {})["items"]
    assert seen["hidden"] is True and seen["body"] is None


def test_nothing_of_another_workspaces(documents, project):
    share(documents, "comment")
    said = post(documents, project)
    with pytest.raises(NotFound):
        documents.hide_project_comment(OTHER_WS, "api_key:1", project, said["id"])
    with pytest.raises(NotFound):
        documents.list_project_comments(OTHER_WS, project, {})
    with pytest.raises(NotFound):
        documents.post_staff_comment(OTHER_WS, "api_key:1", project, {"body": "x", "author_name": "Sam"})
    with pytest.raises(NotFound):
        documents.customer_comments(grants.session(OTHER_WS, CUSTOMER), project, {})
    with pytest.raises(NotFound):
        documents.customer_comments(grants.link(WS, "work_order", project), project, {})
