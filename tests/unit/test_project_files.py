"""A project's files in documents: the type read from the content (each accepted kind, and
the refusals), the 25 MB bound, a large file kept in pieces and read back whole, removal
taking its bytes and views with it, a final or unknown project storing nothing; and the
customer's side — only a signed-in contact whose customer the project is shared with
opens a file, each opening recorded as a view, and nothing of another workspace's."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from typing import Any

import pytest

from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.contracts.project_files import MAX_FILE_BYTES
from services.documents.files.models import CHUNK_BYTES, FileChunk, StoredFile
from services.documents.project_files.models import FileView, ProjectFile
from services.documents.project_files.rules import sniff
from tests import grants
from tests.images import CAMERA, jpeg
from tests.unit.conftest import CUSTOMER, dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
PDF = b"%PDF-1.7\n" + b"0" * 100


def office(main_part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<x/>")
    return out.getvalue()


def upload(content: bytes, filename: str = "plan.pdf",
           content_type: str = "application/octet-stream") -> dict:
    return {"filename": filename, "content_type": content_type,
            "content_b64": base64.b64encode(content).decode("ascii")}


def project(documents: Any, **fields: Any) -> dict[str, Any]:
    return documents.create_project(WS, "staff", {"name": "Loft", "customer_id": CUSTOMER, **fields})


def add(documents: Any, project_id: str, content: bytes = PDF, **fields: Any) -> dict[str, Any]:
    return documents.add_project_file(WS, "staff", project_id, upload(content, **fields))


def shared(documents: Any, level: str | None = "view", project_ids: tuple[str, ...] = ()) -> None:
    documents.sharing.share_level.return_value = {"level": level}
    documents.sharing.customer_shares.return_value = {
        "shares": [{"resource_id": pid, "level": level} for pid in project_ids] if level else []}


@pytest.mark.parametrize("content, expected", [
    (PDF, "application/pdf"),
    (jpeg(), "image/jpeg"),
    (office("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (office("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (office("ppt/presentation.xml"),
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (b"AC1032" + b"\x00" * 64, "image/vnd.dwg"),
    (b"AC9999" + b"\x00" * 64, None),  # not a DWG version
    (b"PK\x03\x04 not a zip at all", None),
    (office("content.xml")[:0] + b"PK\x03\x04", None),
    (b"MZ\x90\x00 a program", None),
    (b"Plain words", None),
])
def test_the_type_is_read_from_the_content(content, expected):
    assert sniff(content) == expected


def test_a_zip_that_is_not_an_office_document_is_refused(documents):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")  # no [Content_Types].xml
    pid = project(documents)["id"]
    with pytest.raises(InvalidInput) as refused:
        add(documents, pid, out.getvalue(), filename="plan.docx")
    assert "not accepted" in refused.value.fields["file"]
    assert ProjectFile.objects.count() == StoredFile.objects.count() == 0


def test_a_file_is_added_listed_and_its_type_is_its_contents_not_its_name(documents):
    pid = project(documents)["id"]
    added = add(documents, pid, PDF, filename="drawing.jpg", content_type="image/jpeg")
    assert (added["name"], added["content_type"]) == ("drawing.jpg", "application/pdf")
    assert added["size"] == len(PDF)
    assert added["sha256"] == hashlib.sha256(PDF).hexdigest() and added["views"] == 0
    assert added["uploaded_by"] == "staff"
    second = add(documents, pid, office("word/document.xml"), filename="spec.docx")
    listed = documents.list_project_files(WS, pid, {})
    assert [f["id"] for f in listed["files"]] == [second["id"], added["id"]]  # newest first
    assert documents.list_project_files(WS, pid, {"limit": "1"})["next_cursor"] == second["id"]
    assert dispatched(documents)[-2:] == ["project_activity", "project_activity"]


def test_a_photo_loses_its_camera_metadata(documents):
    pid = project(documents)["id"]
    photo = jpeg()
    added = add(documents, pid, photo, filename="site.jpg")
    assert added["content_type"] == "image/jpeg" and added["size"] < len(photo)
    shared(documents)
    capability = grants.session(WS, CUSTOMER)
    opened = documents.open_project_file(capability, pid, added["id"])
    content = base64.b64decode(documents.project_file_piece(capability, pid, added["id"], 0)["content_b64"])
    assert opened["pieces"] == 1 and b"Elm Street" not in content and CAMERA not in content


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"%PDF-" + b"0" * MAX_FILE_BYTES, "at most 25 MB"),
    (b"<html>hello</html>", "not accepted"),
])
def test_refused_files_store_nothing(documents, content, message):
    pid = project(documents)["id"]
    with pytest.raises(InvalidInput) as refused:
        add(documents, pid, content)
    assert message in refused.value.fields["file"]
    assert ProjectFile.objects.count() == StoredFile.objects.count() == FileChunk.objects.count() == 0


def test_a_final_or_unknown_project_stores_nothing(documents):
    active = project(documents, status="active")["id"]
    done = documents.update_project(WS, "staff", active, {"status": "completed"})
    with pytest.raises(Conflict):
        add(documents, done["id"])
    with pytest.raises(NotFound):
        add(documents, "d" * 24)
    with pytest.raises(NotFound):
        documents.add_project_file(OTHER_WS, "staff", done["id"], upload(PDF))
    assert ProjectFile.objects.count() == StoredFile.objects.count() == FileChunk.objects.count() == 0


def test_a_large_file_is_kept_in_pieces_and_read_back_whole(documents):
    pid = project(documents)["id"]
    content = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK_BYTES * 2 // 256 + 3)  # a little over 2 pieces
    added = add(documents, pid, content)
    assert FileChunk.objects.count() == 3 and StoredFile.objects.get().content is None
    shared(documents)
    capability = grants.session(WS, CUSTOMER)
    opened = documents.open_project_file(capability, pid, added["id"])
    assert opened["pieces"] == 3 and opened["size"] == len(content)
    pieces = [documents.project_file_piece(capability, pid, added["id"], n) for n in range(3)]
    whole = b"".join(base64.b64decode(piece["content_b64"]) for piece in pieces)
    assert whole == content
    for n in (3, -1, "0", True):
        with pytest.raises(NotFound):
            documents.project_file_piece(capability, pid, added["id"], n)


def test_removing_a_file_takes_its_bytes_and_views_and_its_links_die(documents):
    pid = project(documents)["id"]
    added = add(documents, pid, b"%PDF-1.7\n" + b"1" * (CHUNK_BYTES + 10))
    shared(documents)
    capability = grants.session(WS, CUSTOMER)
    documents.open_project_file(capability, pid, added["id"])
    assert documents.remove_project_file(WS, "staff", pid, added["id"])["id"] == added["id"]
    assert ProjectFile.objects.count() == StoredFile.objects.count() == FileChunk.objects.count() == 0
    assert FileView.objects.count() == 0
    with pytest.raises(NotFound):
        documents.remove_project_file(WS, "staff", pid, added["id"])
    with pytest.raises(NotFound):
        documents.project_file_piece(capability, pid, added["id"], 0)


def test_each_opening_by_a_signed_in_contact_is_a_view(documents):
    pid = project(documents)["id"]
    added = add(documents, pid)
    shared(documents, "view", (pid,))
    for contact in ("1" * 24, "2" * 24):
        member = grants.session(WS, CUSTOMER, "member", contact_id=contact)
        documents.open_project_file(member, pid, added["id"])
    listed = documents.list_project_files(WS, pid, {})["files"][0]
    assert listed["views"] == 2 and listed["last_viewed_at"]
    views = documents.list_file_views(WS, pid, added["id"], {})["views"]
    assert [v["contact_id"] for v in views] == ["2" * 24, "1" * 24]
    assert {v["customer_id"] for v in views} == {CUSTOMER}
    assert "project_file_viewed" in dispatched(documents)
    # a piece is no view: a download in pieces counts once
    documents.project_file_piece(grants.session(WS, CUSTOMER), pid, added["id"], 0)
    assert documents.list_project_files(WS, pid, {})["files"][0]["views"] == 2


def test_only_a_contact_whose_customer_sees_the_project_opens_its_files(documents):
    pid = project(documents)["id"]
    added = add(documents, pid)
    capability = grants.session(WS, CUSTOMER)
    for level in (None,):  # not shared, or sharing stopped
        shared(documents, level)
        with pytest.raises(NotFound):
            documents.open_project_file(capability, pid, added["id"])
    shared(documents, "view", (pid,))
    for refused in (grants.link(WS, "work_order", pid), grants.session(OTHER_WS, CUSTOMER), "forged"):
        with pytest.raises(NotFound):
            documents.open_project_file(refused, pid, added["id"])
    other = project(documents)["id"]
    with pytest.raises(NotFound):  # a file of another project, named through a shared one
        documents.open_project_file(capability, other, added["id"])
    assert FileView.objects.count() == 0


def test_the_documents_page_lists_the_files_of_every_shared_project(documents):
    first, second, hidden = (project(documents, name=name)["id"] for name in ("Loft", "Garden", "Garage"))
    a, b = add(documents, first), add(documents, second)
    unshared = add(documents, hidden)
    shared(documents, "comment", (first, second))
    listed = documents.customer_documents(grants.session(WS, CUSTOMER, "member"), {})
    assert [(i["id"], i["project_name"]) for i in listed["items"]] == [(b["id"], "Garden"), (a["id"], "Loft")]
    assert "uploaded_by" not in listed["items"][0] and "views" not in listed["items"][0]
    page = documents.customer_documents(grants.session(WS, CUSTOMER), {"limit": "1"})
    assert page["next_cursor"] == b["id"]
    with pytest.raises(InvalidInput):  # a cursor of a file the customer does not see
        documents.customer_documents(grants.session(WS, CUSTOMER), {"cursor": unshared["id"]})
