"""Information requests in the signed-in portal, through Flask's test client with every
service on real RabbitMQ: a sent request is listed in the Open tab with its progress and
opened; the contact answers an item with text and a file (the request moves to in
progress), staff return it with a note the contact then reads and answers again, staff
accept every item and it moves to the Completed tab; each bad answer is the page again
(422) with the reason and the words typed, nothing stored; a view-level contact reads
without a form; drafts, cancelled requests and other customers' are the 404 page."""

from __future__ import annotations

import io
import re
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.gateway.test_admin_share_grants import joined_customer
from tests.gateway.test_portal_accounts import csrf, people, sign_in_by_code
from tests.gateway.test_portal_projects import shared_project
from tests.gateway.test_portal_reads import heard
from tests.gateway.test_portal_sections import links
from tests.mail import Worker
from tests.staff import StaffApi

PDF = b"%PDF-1.7\n" + b"0" * 200
PROMPTS = ("A copy of the land registry extract", "Your preferred tile colour", "Photos of the attic")


def sent_request(staff: StaffApi, worker: Worker, pid: str,
                 prompts: tuple[str, ...] = PROMPTS) -> dict[str, Any]:
    made = staff.created(f"/projects/{pid}/information-requests", {
        "title": "Documents for the permit", "items": [{"prompt": p} for p in prompts]})
    reply = staff.post(f"/information-requests/{made['id']}/send")
    assert reply.status_code == 200, reply.text
    worker.queued(len(reply.json["customer_emails"]))
    return reply.json["information_request"]


def answer(portal: Any, request: dict[str, Any], n: int, text: str = "",
           files: list[tuple[bytes, str]] = ()) -> Any:
    path = f"/portal/information-requests/{request['id']}"
    form = portal.get(path)
    fields = MultiDict([("csrf_token", csrf(form.text)), ("text", text)])
    for content, name in files:
        fields.add("files", FileStorage(io.BytesIO(content), filename=name, content_type="application/pdf"))
    # Encoded in memory: the test client would spool a large body to a temporary file and
    # leave it open when the app refuses it unread (413).
    boundary, body = encode_multipart(fields)
    return portal.post(f"{path}/items/{request['items'][n]['id']}", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_a_request_is_listed_answered_returned_answered_again_and_completed(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    assert "/portal/information-requests" in links(portal.get("/portal").text)
    request = sent_request(staff, worker, pid)
    rid = request["id"]
    listed = portal.get("/portal/information-requests")
    assert listed.status_code == 200
    assert request["number"] in listed.text and "Documents for the permit" in listed.text
    assert "Loft conversion" in listed.text and "0 of 3 accepted" in listed.text
    assert re.search(r'aria-current="page">Open <span class="count">1</span>', listed.text)
    page = portal.get(f"/portal/information-requests/{rid}")
    assert page.status_code == 200 and page.text.count('enctype="multipart/form-data"') == 3
    assert all(p in page.text for p in PROMPTS)

    done = answer(portal, request, 0, "Attached, the 2026 extract.\r\nSecond line.", [(PDF, "extract.pdf")])
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#item-{request['items'][0]['id']}")
    page = portal.get(done.headers["Location"])
    assert "Thank you: your answer was sent." in page.text and "extract.pdf" in page.text
    assert "Attached, the 2026 extract.\nSecond line." in page.text
    assert page.text.count('enctype="multipart/form-data"') == 2
    assert staff.get(f"/information-requests/{rid}").json["status"] == "in_progress"

    item = request["items"][0]["id"]
    with heard(model, "information_request", rid):
        returned = staff.post(f"/information-requests/{rid}/items/{item}/return",
                              {"note": "This extract is from last year."})
        assert returned.status_code == 200
    page = portal.get(f"/portal/information-requests/{rid}")
    assert "This extract is from last year." in page.text and "Returned" in page.text
    assert answer(portal, request, 0, "The new one.", [(PDF, "2026.pdf")]).status_code == 303
    assert answer(portal, request, 1, "Slate grey").status_code == 303
    assert answer(portal, request, 2, "", [(PDF, "attic.pdf")]).status_code == 303
    staff_view = staff.get(f"/information-requests/{rid}").json
    assert [f["name"] for f in staff_view["items"][0]["files"]] == ["2026.pdf"]
    [kept] = staff_view["items"][0]["files"]
    download = staff.get(f"/information-requests/{rid}/items/{item}/files/{kept['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["Content-Disposition"].startswith("attachment") and "2026.pdf" in (
        download.headers["Content-Disposition"])
    with heard(model, "information_request", rid):
        for n in range(3):
            accepted = staff.post(f"/information-requests/{rid}/items/{request['items'][n]['id']}/accept")
            assert accepted.status_code == 200
    assert accepted.json["status"] == "completed"
    page = portal.get(f"/portal/information-requests/{rid}")
    assert "3 of 3 accepted" in page.text and 'enctype="multipart/form-data"' not in page.text
    assert request["number"] not in portal.get("/portal/information-requests?tab=open").text
    assert request["number"] in portal.get("/portal/information-requests?tab=completed").text


def test_bad_answers_are_the_page_again_with_the_reason_and_the_words_typed(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    request = sent_request(staff, worker, pid)
    empty = answer(portal, request, 0, "   ")
    assert empty.status_code == 422 and "Write an answer or attach a file." in empty.text
    long = answer(portal, request, 0, "word " * 1001)
    assert long.status_code == 422 and "at most 5000 characters" in long.text
    assert ("word " * 1001).strip() in long.text  # what was typed is kept
    exe = answer(portal, request, 0, "Here it is", [(b"MZ\x90\x00 a program", "setup.exe")])
    assert exe.status_code == 422 and "setup.exe is not a kind of file we accept" in exe.text
    assert "Here it is" in exe.text
    many = answer(portal, request, 0, "Lots", [(PDF, f"{n}.pdf") for n in range(6)])
    assert many.status_code == 422 and "Give at most 5." in many.text
    stored = staff.get(f"/information-requests/{request['id']}").json
    assert stored["status"] == "sent" and {i["status"] for i in stored["items"]} == {"pending"}
    assert answer(portal, request, 0, "Fine").status_code == 303
    again = answer(portal, request, 0, "Twice")
    assert again.status_code == 409 and "answered already" in again.text


def test_a_view_level_contact_reads_without_a_form_and_cannot_answer(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id, level="view")["project"]["id"]
    request = sent_request(staff, worker, pid)
    page = portal.get(f"/portal/information-requests/{request['id']}")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' not in page.text
    assert "You can read this request." in page.text
    refused = portal.post(f"/portal/information-requests/{request['id']}/items/{request['items'][0]['id']}",
                          data={"csrf_token": csrf(page.text), "text": "Let me in"})
    assert refused.status_code == 404
    assert staff.get(f"/information-requests/{request['id']}").json["items"][0]["status"] == "pending"


def test_drafts_cancelled_and_other_customers_requests_are_the_404_page(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any, model: Any) -> None:
    portal = portal_app.test_client()
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    draft = staff.created(f"/projects/{pid}/information-requests",
                          {"title": "Not yet", "items": [{"prompt": "Later"}]})
    assert portal.get(f"/portal/information-requests/{draft['id']}").status_code == 404
    request = sent_request(staff, worker, pid)
    assert portal.get(f"/portal/information-requests/{request['id']}").status_code == 200
    people(staff, worker, email="olive@elsewhere.example")
    stranger = portal_app.test_client()
    assert sign_in_by_code(stranger, worker, mail_server, "olive@elsewhere.example", 2).status_code == 303
    assert stranger.get(f"/portal/information-requests/{request['id']}").status_code == 404
    assert request["number"] not in stranger.get("/portal/information-requests").text
    with heard(model, "information_request", request["id"]):
        assert staff.post(f"/information-requests/{request['id']}/cancel").status_code == 200
    assert portal.get(f"/portal/information-requests/{request['id']}").status_code == 404
    assert request["number"] not in portal.get("/portal/information-requests").text
    assert portal.get("/portal/information-requests/nonsense").status_code == 404
    assert portal.get("/portal/information-requests?tab=lost").status_code == 422


def test_an_answer_may_carry_more_than_the_portals_usual_bound_and_not_more_than_25_mb(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id)["project"]["id"]
    request = sent_request(staff, worker, pid)
    big = PDF + b"0" * (13 * 1024 * 1024)  # over the portal's 12 MB for other forms
    assert answer(portal, request, 0, "Scans", [(big, "scans.pdf")]).status_code == 303
    too_big = answer(portal, request, 1, "More", [(big, "a.pdf"), (big, "b.pdf")])
    assert too_big.status_code == 413 and "at most 25 MB per answer" in too_big.text
    assert staff.get(f"/information-requests/{request['id']}").json["items"][1]["status"] == "pending"
    page = portal.get(f"/portal/information-requests/{request['id']}")
    forged = portal.post(f"/portal/information-requests/{request['id']}/items/{request['items'][1]['id']}",
                         data={"csrf_token": "forged", "text": "Hi"}, content_type="multipart/form-data")
    assert forged.status_code == 400 and page.status_code == 200
    assert staff.get(f"/information-requests/{request['id']}").json["items"][1]["status"] == "pending"
