"""A project's files through the admin API against the running services: upload as
multipart, list, see no views yet, remove; a large file (over the report attachments'
bound) accepted whole; a refused type or a body over the bound stores nothing."""

from __future__ import annotations

import hashlib

from porchlight.contracts.project_files import MAX_FILE_BYTES
from tests.staff import StaffApi

PDF = b"%PDF-1.7\n" + b"%" * 2000


def test_upload_list_and_remove_a_projects_file(staff: StaffApi) -> None:
    customer_id = staff.created("/customers", {"name": "Dana Fields", "email": "dana@example.org"})["id"]
    pid = staff.created("/projects", {"name": "Loft conversion", "customer_id": customer_id})["id"]
    big = b"%PDF-1.7\n" + bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MB, in pieces
    added = staff.upload(f"/projects/{pid}/files", "file", ("drawings.pdf", big, "application/pdf"))
    assert added.status_code == 201, added.text
    assert (added.json["name"], added.json["size"]) == ("drawings.pdf", len(big))
    assert added.json["sha256"] == hashlib.sha256(big).hexdigest()
    small = staff.upload(f"/projects/{pid}/files", "file", ("notes.pdf", PDF, "text/plain"))
    assert small.status_code == 201 and small.json["content_type"] == "application/pdf"
    listed = staff.every(f"/projects/{pid}/files", "files")
    assert [f["name"] for f in listed] == ["notes.pdf", "drawings.pdf"]
    views = staff.get(f"/projects/{pid}/files/{added.json['id']}/views")
    assert views.status_code == 200 and views.json["views"] == []
    assert staff.delete(f"/projects/{pid}/files/{added.json['id']}").status_code == 200
    assert staff.delete(f"/projects/{pid}/files/{added.json['id']}").status_code == 404
    assert [f["name"] for f in staff.every(f"/projects/{pid}/files", "files")] == ["notes.pdf"]


def test_refused_uploads_store_nothing(staff: StaffApi) -> None:
    customer_id = staff.created("/customers", {"name": "Dana Fields", "email": "dana@example.org"})["id"]
    pid = staff.created("/projects", {"name": "Loft conversion", "customer_id": customer_id})["id"]
    page = staff.upload(f"/projects/{pid}/files", "file", ("page.pdf", b"<html>hi</html>", "application/pdf"))
    assert page.status_code == 422 and "not accepted" in page.json["error"]["fields"]["file"]
    huge = staff.upload(f"/projects/{pid}/files", "file",
                        ("huge.pdf", b"%PDF-" + b"0" * (MAX_FILE_BYTES + 512 * 1024), "application/pdf"))
    assert huge.status_code == 413
    missing = staff.post(f"/projects/{pid}/files", {})
    assert missing.status_code == 422 and "multipart/form-data" in missing.json["error"]["fields"]["file"]
    unknown = staff.upload(f"/projects/{'0' * 24}/files", "file", ("a.pdf", PDF, "application/pdf"))
    assert unknown.status_code == 404
    assert staff.every(f"/projects/{pid}/files", "files") == []
