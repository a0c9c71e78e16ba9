"""Information requests in documents: a draft changes until it is sent; sending needs a
customer with a joined contact the project is shared with, and emails them; a customer's
contact answers item by item (the first answer moves it to in progress) with text and/or
files, within the bounds, only when the share allows (comment level; view reads) and
only while the item is pending or returned; staff accept or return each item, all
accepted completes it; racing answers or reviews end in one outcome; a refused answer
leaves no file behind; drafts, cancelled requests and other customers' are NotFound."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from services.documents.files.models import StoredFile
from services.documents.information_requests.models import InformationRequest
from tests import grants
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_CUSTOMER = "d" * 24
CONTACT = "6" * 24
PDF = b"%PDF-1.7\n" + b"0" * 100
PROMPTS = ["A copy of the land registry extract", "Your preferred tile colour", "Photos of the attic"]


def upload(content: bytes = PDF, filename: str = "extract.pdf") -> dict[str, str]:
    return {"filename": filename, "content_type": "application/pdf",
            "content_b64": base64.b64encode(content).decode("ascii")}


def share(documents: Any, level: str | None, project_id: str, joined: int = 1) -> None:
    """The project shared with ``CUSTOMER`` at ``level`` (None: not shared), who has ``joined``
    contacts."""
    documents.sharing.share_level.return_value = {"level": level}
    documents.sharing.customer_shares.return_value = {
        "shares": [{"resource_id": project_id, "level": level}] if level else []}
    documents.sharing.list_shares.return_value = {"share_grants": [
        {"customer_id": CUSTOMER, "level": level}] if level else [], "next_cursor": None}
    documents.identity.customer_portal_access.return_value = {"joined": joined}


@pytest.fixture
def project(documents: Any) -> str:
    found = documents.create_project(WS, "staff", {"name": "Loft", "customer_id": CUSTOMER,
                                                   "status": "active"})
    share(documents, "comment", found["id"])
    return found["id"]


def draft(documents: Any, project_id: str, prompts: list[str] = PROMPTS) -> dict[str, Any]:
    return documents.create_information_request(WS, "api_key:1", project_id, {
        "title": "Documents for the permit", "items": [{"prompt": p} for p in prompts]})


def sent(documents: Any, project_id: str, prompts: list[str] = PROMPTS) -> dict[str, Any]:
    made = draft(documents, project_id, prompts)
    return documents.send_information_request(WS, "api_key:1", made["id"])["information_request"]


def me(role: str = "owner", customer: str = CUSTOMER) -> str:
    return grants.session(WS, customer, role, contact_id=CONTACT)


def answer(documents: Any, request: dict[str, Any], n: int = 0, text: str | None = "Attached.",
           files: list[dict[str, str]] | None = None, role: str = "owner") -> dict[str, Any]:
    data: dict[str, Any] = {"text": text}
    if files is not None:
        data["files"] = files
    return documents.answer_information_item(me(role), request["id"], request["items"][n]["id"], data)


def test_a_request_is_numbered_and_starts_as_a_draft_nobody_sees(documents, project):
    made = draft(documents, project)
    assert made["number"] == "IR-0001" and made["status"] == "draft" and made["sent_at"] is None
    assert [i["prompt"] for i in made["items"]] == PROMPTS
    assert {i["status"] for i in made["items"]} == {"pending"}
    assert made["progress"] == {"accepted": 0, "total": 3}
    assert draft(documents, project)["number"] == "IR-0002"
    with pytest.raises(NotFound):
        documents.get_information_request_for_customer(me(), made["id"])
    assert documents.customer_information_requests(me(), {})["items"] == []
    assert dispatched(documents).count("information_request_created") == 2


def test_a_draft_changes_and_a_sent_request_does_not(documents, project):
    made = draft(documents, project)
    changed = documents.update_information_request(WS, "api_key:1", made["id"], {
        "title": "Permit papers", "items": [{"prompt": "The extract"}]})
    assert changed["title"] == "Permit papers" and [i["prompt"] for i in changed["items"]] == ["The extract"]
    documents.send_information_request(WS, "api_key:1", made["id"])
    with pytest.raises(Conflict):
        documents.update_information_request(WS, "api_key:1", made["id"], {"title": "Other"})
    same = documents.update_information_request(WS, "api_key:1", made["id"], {"title": "Permit papers"})
    assert same["status"] == "sent"  # a patch that changes nothing is no change


def test_sending_emails_the_contacts_a_link_into_their_account(documents, project):
    made = draft(documents, project)
    reply = documents.send_information_request(WS, "api_key:1", made["id"])
    assert reply["information_request"]["status"] == "sent" and reply["information_request"]["sent_at"]
    [command] = documents.emails
    assert command["template"] == "information_request_sent" and "url" not in command
    assert command["record"]["type"] == "information_request" and command["record"]["customer_id"] == CUSTOMER
    assert command["record"]["project_name"] == "Loft" and command["readers"] == ["owner", "member"]
    assert [e["status"] for e in reply["customer_emails"]] == ["queued"]
    assert dispatched(documents).count("information_request_sent") == 1
    again = documents.send_information_request(WS, "api_key:1", made["id"])  # a reminder
    assert again["information_request"]["sent_at"] == reply["information_request"]["sent_at"]
    assert len(documents.emails) == 2 and dispatched(documents).count("information_request_sent") == 1


@pytest.mark.parametrize("level, joined", [(None, 1), ("view", 0)])
def test_sending_needs_a_customer_with_a_joined_contact_to_see_it(documents, project, level, joined):
    made = draft(documents, project)
    share(documents, level, project, joined)
    with pytest.raises(Conflict):
        documents.send_information_request(WS, "api_key:1", made["id"])
    assert documents.get_information_request(WS, made["id"])["status"] == "draft" and documents.emails == []


def test_a_request_is_answered_item_by_item_and_completed_when_all_are_accepted(documents, project):
    request = sent(documents, project)
    seen = documents.customer_information_requests(me(), {"tab": "open"})
    assert [c["number"] for c in seen["items"]] == ["IR-0001"]
    assert seen["counts"] == {"open": 1, "completed": 0}
    assert seen["items"][0]["project_name"] == "Loft" and seen["project_ids"] == [project]
    first = answer(documents, request, 0, "See attached.", [upload()])
    assert first["status"] == "in_progress" and first["items"][0]["status"] == "submitted"
    assert first["items"][0]["files"][0]["name"] == "extract.pdf"
    answer(documents, request, 1, "Slate grey")
    answer(documents, request, 2, None, [upload(filename="attic.pdf")])
    for n in range(3):
        done = documents.accept_information_item(WS, "api_key:1", request["id"], request["items"][n]["id"])
    assert done["status"] == "completed" and done["progress"] == {"accepted": 3, "total": 3}
    assert done["completed_at"]
    assert documents.customer_information_requests(me(), {"tab": "completed"})["counts"] == {
        "open": 0, "completed": 1}
    shown = documents.get_information_request_for_customer(me(), request["id"])
    assert shown["may_answer"] is False and shown["percent"] == 100
    assert dispatched(documents).count("information_item_answered") == 3
    assert dispatched(documents).count("information_item_reviewed") == 3


def test_a_returned_item_shows_the_note_and_is_answered_again_replacing_its_files(documents, project):
    request = sent(documents, project)
    answer(documents, request, 0, "Here", [upload()])
    first_file = InformationRequest.objects.get().items[0].files[0].file_id
    item = request["items"][0]["id"]
    documents.return_information_item(WS, "api_key:1", request["id"], item, {"note": "This is last year's."})
    shown = documents.get_information_request_for_customer(me(), request["id"])
    assert shown["items"][0]["status"] == "returned" and shown["items"][0]["note"] == "This is last year's."
    assert shown["items"][0]["answerable"] is True
    again = answer(documents, request, 0, "This year's", [upload(filename="2026.pdf")])
    assert again["items"][0]["status"] == "submitted" and again["items"][0]["note"] is None
    assert [f["name"] for f in again["items"][0]["files"]] == ["2026.pdf"]
    assert not StoredFile.objects(id=first_file).first()  # the replaced answer's file is gone


@pytest.mark.parametrize("data", [
    {"text": None}, {"text": ""}, {"text": "   "}, {"text": "x" * 5001}, {"text": "bell\x07"},
    {"text": "ok", "files": [upload(b"MZ\x90\x00 not a document", "setup.exe")]},
    {"text": None, "files": [upload(b"")]},
    {"text": "ok", "files": [upload() for _ in range(6)]},
])
def test_bad_answers_are_refused_and_nothing_is_stored(documents, project, data):
    request = sent(documents, project)
    with pytest.raises(InvalidInput):
        documents.answer_information_item(me(), request["id"], request["items"][0]["id"], data)
    assert StoredFile.objects.count() == 0
    assert InformationRequest.objects.get().items[0].status == "pending"


def test_an_empty_answer_says_what_to_do(documents, project):
    request = sent(documents, project)
    with pytest.raises(InvalidInput) as refused:
        answer(documents, request, 0, "  ")
    assert refused.value.fields == {"body": "Write an answer or attach a file."}


def test_5000_characters_are_enough(documents, project):
    request = sent(documents, project)
    assert len(answer(documents, request, 0, "é" * 5000)["items"][0]["answer_text"]) == 5000


def test_an_accepted_item_is_not_answered_again_and_its_files_are_not_stored(documents, project):
    request = sent(documents, project)
    answer(documents, request, 0)
    documents.accept_information_item(WS, "api_key:1", request["id"], request["items"][0]["id"])
    for _ in range(2):  # accepted, and answered-not-returned, alike
        with pytest.raises(Conflict):
            answer(documents, request, 0, "More", [upload()])
    answer(documents, request, 1)
    with pytest.raises(Conflict):
        answer(documents, request, 1, "Again", [upload()])
    assert StoredFile.objects.count() == 0


def test_drafts_cancelled_and_other_customers_requests_are_not_found(documents, project):
    made = draft(documents, project)
    item = made["items"][0]["id"]
    with pytest.raises(NotFound):
        documents.answer_information_item(me(), made["id"], item, {"text": "Hi"})
    request = sent(documents, project)
    documents.cancel_information_request(WS, "api_key:1", request["id"])
    for request_id in (request["id"], made["id"], "f" * 24, "nonsense"):
        with pytest.raises(NotFound):
            documents.get_information_request_for_customer(me(), request_id)
        with pytest.raises(NotFound):
            documents.answer_information_item(me(), request_id, item, {"text": "Hi"})
    other = sent(documents, project)
    share(documents, None, project)  # the project is not shared with the asking customer
    with pytest.raises(NotFound):
        documents.get_information_request_for_customer(me(customer=OTHER_CUSTOMER), other["id"])
    with pytest.raises(NotFound):
        answer(documents, other, 0)
    with pytest.raises(NotFound):
        documents.get_information_request_for_customer(grants.link(WS, "work_order", other["id"]),
                                                       other["id"])
    assert StoredFile.objects.count() == 0


@pytest.mark.parametrize("role", ["owner", "member"])
def test_a_view_share_reads_and_cannot_answer(documents, project, role):
    request = sent(documents, project)
    share(documents, "view", project)
    shown = documents.get_information_request_for_customer(me(role), request["id"])
    assert shown["may_answer"] is False and not any(i["answerable"] for i in shown["items"])
    with pytest.raises(NotFound):
        answer(documents, request, 0, "Hi", [upload()], role=role)
    assert StoredFile.objects.count() == 0 and InformationRequest.objects.get().status == "sent"


def test_a_member_answers_at_comment_level(documents, project):
    request = sent(documents, project)
    assert answer(documents, request, 0, role="member")["items"][0]["status"] == "submitted"


def test_staff_review_only_submitted_items(documents, project):
    request = sent(documents, project)
    item = request["items"][0]["id"]
    with pytest.raises(Conflict):
        documents.accept_information_item(WS, "api_key:1", request["id"], item)
    with pytest.raises(InvalidInput):
        documents.return_information_item(WS, "api_key:1", request["id"], item, {"note": ""})
    with pytest.raises(NotFound):
        documents.accept_information_item(WS, "api_key:1", request["id"], "f" * 24)
    answer(documents, request, 0)
    first = documents.accept_information_item(WS, "api_key:1", request["id"], item)
    again = documents.accept_information_item(WS, "api_key:1", request["id"], item)  # safe to repeat
    assert first["items"][0]["status"] == again["items"][0]["status"] == "accepted"
    with pytest.raises(Conflict):
        documents.return_information_item(WS, "api_key:1", request["id"], item, {"note": "No"})
    assert dispatched(documents).count("information_item_reviewed") == 1


def _stale_once(monkeypatch: pytest.MonkeyPatch, documents: Any, request_id: str) -> None:
    """The next read of the request gives what it was before the last change: a change that
    raced with it and lost the claim."""
    repo = documents.repo.information_requests
    before = repo.get(WS, request_id)
    real, served = repo.get, []

    def get(workspace_id: str, found_id: Any) -> Any:
        if not served:
            served.append(True)
            return before
        return real(workspace_id, found_id)

    monkeypatch.setattr(repo, "get", get)


def test_racing_answers_to_one_item_end_in_one_answer_and_the_loser_stores_nothing(
        documents, project, monkeypatch):
    request = sent(documents, project)
    answer(documents, request, 0, "First", [upload(filename="first.pdf")])
    stored = StoredFile.objects.count()
    # A second answer that read the request before the first was claimed: its claim is lost,
    # it reads again, finds the item answered and is refused.
    _stale_once(monkeypatch, documents, request["id"])
    with pytest.raises(Conflict):
        answer(documents, request, 0, "Second", [upload(filename="second.pdf")])
    final = InformationRequest.objects.get().items[0]
    assert final.answer_text == "First" and [f.name for f in final.files] == ["first.pdf"]
    assert StoredFile.objects.count() == stored
    assert dispatched(documents).count("information_item_answered") == 1


def test_racing_accept_and_return_end_in_one_outcome(documents, project, monkeypatch):
    request = sent(documents, project)
    answer(documents, request, 0)
    item = request["items"][0]["id"]
    documents.accept_information_item(WS, "api_key:1", request["id"], item)
    _stale_once(monkeypatch, documents, request["id"])  # a return that read it still submitted
    with pytest.raises(Conflict):
        documents.return_information_item(WS, "api_key:2", request["id"], item, {"note": "Too late"})
    _stale_once(monkeypatch, documents, request["id"])  # a second accept: no change, no second event
    assert documents.accept_information_item(WS, "api_key:3", request["id"], item)["items"][0]["status"] == (
        "accepted")
    stored = InformationRequest.objects.get().items[0]
    assert stored.status == "accepted" and stored.reviewed_by == "api_key:1" and stored.note is None
    assert dispatched(documents).count("information_item_reviewed") == 1


def test_a_cancelled_or_completed_request_takes_no_more_changes(documents, project):
    request = sent(documents, project, ["Only one"])
    answer(documents, request, 0)
    documents.accept_information_item(WS, "api_key:1", request["id"], request["items"][0]["id"])
    for change in (documents.cancel_information_request, documents.send_information_request):
        with pytest.raises(Conflict):
            change(WS, "api_key:1", request["id"])
    other = sent(documents, project)
    documents.cancel_information_request(WS, "api_key:1", other["id"])
    with pytest.raises(Conflict):
        documents.send_information_request(WS, "api_key:1", other["id"])


def test_no_request_on_a_final_project_nor_of_another_workspace(documents, project):
    documents.update_project(WS, "staff", project, {"status": "cancelled"})
    with pytest.raises(Conflict):
        draft(documents, project)
    with pytest.raises(NotFound):
        documents.create_information_request("b" * 24, "api_key:1", project, {"title": "x",
                                                                            "items": [{"prompt": "y"}]})
    with pytest.raises(NotFound):
        documents.list_information_requests("b" * 24, project, {})


def test_the_staff_list_pages_and_filters_by_status(documents, project):
    made = [draft(documents, project) for _ in range(3)]
    documents.send_information_request(WS, "api_key:1", made[0]["id"])
    first = documents.list_information_requests(WS, project, {"limit": "2"})
    assert [r["number"] for r in first["information_requests"]] == ["IR-0003", "IR-0002"]
    rest = documents.list_information_requests(WS, project, {"limit": "2", "cursor": first["next_cursor"]})
    assert [r["number"] for r in rest["information_requests"]] == ["IR-0001"] and rest["next_cursor"] is None
    assert [r["number"] for r in documents.list_information_requests(WS, project, {"status": "sent"})[
        "information_requests"]] == ["IR-0001"]
    with pytest.raises(InvalidInput):
        documents.list_information_requests(WS, project, {"status": "lost"})


def test_staff_download_the_files_of_an_items_latest_answer(documents, project):
    request = sent(documents, project)
    answer(documents, request, 0, None, [upload(PDF, "extract.pdf")])
    [attached] = documents.get_information_request(WS, request["id"])["items"][0]["files"]
    item = request["items"][0]["id"]
    opened = documents.open_information_answer_file(WS, request["id"], item, attached["id"])
    assert opened["name"] == "extract.pdf" and opened["pieces"] == 1 and opened["size"] == len(PDF)
    piece = documents.information_answer_file_piece(WS, request["id"], item, attached["id"], 0)
    assert base64.b64decode(piece["content_b64"]) == PDF
    for bad in ((request["id"], item, "f" * 24), (request["id"], "f" * 24, attached["id"]),
                ("f" * 24, item, attached["id"])):
        with pytest.raises(NotFound):
            documents.open_information_answer_file(WS, *bad)
    with pytest.raises(NotFound):
        documents.open_information_answer_file("b" * 24, request["id"], item, attached["id"])
    with pytest.raises(NotFound):
        documents.information_answer_file_piece(WS, request["id"], item, attached["id"], 1)
