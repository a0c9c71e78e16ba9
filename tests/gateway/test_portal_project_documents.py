"""A shared project's documents and comments in the signed-in portal, through Flask's
test client with every service on real RabbitMQ: files listed on the project page and on
the documents page, downloaded through a signed link as an attachment (the contact's
download recorded as a view), the link useless without that contact's session, after the
file is removed or after sharing stops; comments posted from the form once per form key,
shown as plain text with safe links, refused at 0 or 2,001 characters with the words kept,
refused and formless on a view-level share, and "Comment removed" once staff hide one."""

from __future__ import annotations

import re
from typing import Any

from tests.gateway.test_admin_share_grants import joined_customer
from tests.gateway.test_portal_projects import shared_project
from tests.mail import Worker
from tests.running_stack import csrf
from tests.staff import StaffApi

PDF = b"%PDF-1.7\n" + b"%" * 3000


def file_links(page: str) -> list[str]:
    return re.findall(r'href="(/portal/project-files/[^"]+)"', page)


def form_key(page: str) -> str:
    [key] = re.findall(r'name="form_key" value="([^"]+)"', page)
    return key


def test_a_shared_projects_files_download_as_attachments_and_each_download_is_a_view(
        staff: StaffApi, portal: Any, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    made = shared_project(staff, customer_id, "view")
    pid, grant = made["project"]["id"], made["grant"]
    added = staff.upload(f"/projects/{pid}/files", "file", ("Plans rev B.pdf", PDF, "application/pdf")).json
    page = portal.get(f"/portal/projects/{pid}")
    assert "Plans rev B.pdf" in page.text
    [link] = file_links(page.text)
    listed = portal.get("/portal/documents")
    assert listed.status_code == 200 and "Plans rev B.pdf" in listed.text and "Loft conversion" in listed.text
    assert "1 document" in portal.get("/portal/projects").text

    got = portal.get(link)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "Plans" in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "no-store"
    views = staff.get(f"/projects/{pid}/files/{added['id']}/views").json["views"]
    assert len(views) == 1 and views[0]["customer_id"] == customer_id

    stranger = portal_app.test_client()  # no session: a mail scanner, a link preview
    assert stranger.get(link).status_code == 404
    assert portal.get(link.replace("/portal/project-files/", "/portal/project-files/x")).status_code == 404
    assert len(staff.get(f"/projects/{pid}/files/{added['id']}/views").json["views"]) == 1  # none counted

    assert staff.post(f"/share-grants/{grant['id']}/stop").status_code == 200
    assert portal.get(link).status_code == 404  # sharing stopped: the link is dead at once
    assert "Plans rev B.pdf" not in portal.get("/portal/documents").text
    assert staff.patch(f"/share-grants/{grant['id']}", {"level": "view"}).status_code == 409
    assert staff.post("/share-grants", {"resource": {"type": "project", "id": pid}}).status_code == 201
    assert portal.get(link).status_code == 200
    assert staff.delete(f"/projects/{pid}/files/{added['id']}").status_code == 200
    assert portal.get(link).status_code == 404  # the file is gone: so is its link


def test_comments_post_once_read_as_plain_text_and_hide(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id, "comment")["project"]["id"]
    staff.created(f"/projects/{pid}/comments", {"body": "Plans: https://example.org/plan.pdf.",
                                                "author_name": "Priya Shah"})
    page = portal.get(f"/portal/projects/{pid}")
    assert '<a href="https://example.org/plan.pdf" rel="nofollow noopener noreferrer ugc">' in page.text
    form = {"csrf_token": csrf(page.text), "form_key": form_key(page.text),
            "body": "<b>Bold</b> question\nsecond line"}
    for _ in range(2):  # a double click
        sent = portal.post(f"/portal/projects/{pid}/comments", data=form)
        assert sent.status_code == 303
        assert sent.headers["Location"].endswith(f"/portal/projects/{pid}#comments")
    thread = staff.every(f"/projects/{pid}/comments", "comments")
    assert [c["author"]["kind"] for c in thread] == ["contact", "staff"]  # stored once
    text = portal.get(f"/portal/projects/{pid}").text
    assert "&lt;b&gt;Bold&lt;/b&gt; question<br>\nsecond line" in text and "<b>Bold</b>" not in text
    assert text.index("Priya Shah") < text.index("&lt;b&gt;Bold")  # newest last

    for body, words in (("", "Your comment"), ("x" * 2001, "x" * 2001)):
        page = portal.get(f"/portal/projects/{pid}")
        refused = portal.post(f"/portal/projects/{pid}/comments", data={
            "csrf_token": csrf(page.text), "form_key": form_key(page.text), "body": body})
        assert refused.status_code == 422 and 'class="field-error"' in refused.text
        assert words in refused.text  # the words are kept in the form
    assert len(staff.every(f"/projects/{pid}/comments", "comments")) == 2

    staff_comment = thread[1]["id"]
    assert staff.post(f"/projects/{pid}/comments/{staff_comment}/hide").status_code == 200
    text = portal.get(f"/portal/projects/{pid}").text
    assert "Comment removed" in text and "example.org/plan.pdf" not in text


def test_a_view_level_share_shows_no_form_and_refuses_a_post(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = joined_customer(staff, portal, worker, mail_server)
    pid = shared_project(staff, customer_id, "view")["project"]["id"]
    page = portal.get(f"/portal/projects/{pid}")
    assert 'name="body"' not in page.text and "posting is not part of your access" in page.text
    refused = portal.post(f"/portal/projects/{pid}/comments", data={
        "csrf_token": csrf(page.text), "form_key": "form-" + "a" * 32, "body": "Let me in"})
    assert refused.status_code == 404
    assert staff.every(f"/projects/{pid}/comments", "comments") == []
