"""Service reports in the documents service: attachments, completion, signing, the PDF.
The signatures neighbour is a fake; the task queue is nameko's mock, inspected."""

import base64
import hashlib
import io

import pytest
from pypdf import PdfReader

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.contracts.service_reports import MAX_ATTACHMENTS, MAX_FILE_BYTES
from porchlight.contracts.snapshots import digest
from services.documents.files.models import StoredFile
from services.documents.service_reports.models import ServiceReport
from services.documents.service_reports.rules import freeze
from tests import images
from tests.grants import link
from tests.unit.conftest import dispatched
from workers.tasks import render_and_store

WS = "a" * 24
PNG = images.png(metadata=False)
JPEG = images.jpeg(metadata=False)
PDF = b"%PDF-1.7\n" + b"x" * 64
PATH = "M10 20 L30 40 L50 45"


def report(documents, **fields):
    wo = documents.create_work_order(WS, "staff", {"title": "Boiler service", "location": "12 Orchard Lane"})
    return documents.create_service_report(WS, "staff", {
        "work_order_id": wo["id"], "narrative": "Replaced the pump.", **fields})


def attach(documents, rep, content=PNG, content_type="image/png", filename="pump.png"):
    return documents.add_attachment(WS, "staff", rep["id"], {
        "filename": filename, "content_type": content_type,
        "content_b64": base64.b64encode(content).decode()})


def sign(documents, rep, **fields):
    return documents.sign_service_report(link(WS, "service_report", rep["id"]), rep["id"], {
        "signer_name": "Alex Morgan", "signature_path": PATH, "ip": "198.51.100.4",
        "user_agent": "phone", **fields})


def test_report_needs_a_work_order_of_the_same_workspace(documents):
    assert report(documents)["number"] == "SR-0001"
    with pytest.raises(InvalidInput) as info:
        documents.create_service_report(WS, "staff", {"work_order_id": "f" * 24})
    assert "work_order_id" in info.value.fields
    wo = documents.create_work_order("b" * 24, "staff", {"title": "Theirs"})
    with pytest.raises(InvalidInput):
        documents.create_service_report(WS, "staff", {"work_order_id": wo["id"]})


def test_attachments_are_checked_by_content(documents):
    rep = report(documents)
    assert [a["filename"] for a in attach(documents, rep)["attachments"]] == ["pump.png"]
    attach(documents, rep, JPEG, "image/jpeg", "valve.jpg")
    attach(documents, rep, PDF, "application/pdf", "manual.pdf")
    bad = [
        (PNG, "image/jpeg", "file"),  # declared type disagrees with the bytes
        (b"<svg onload=alert(1)>", "image/png", "file"),
        (b"GIF89a", "image/gif", "content_type"),  # not an allowed type
        (b"x" * (MAX_FILE_BYTES + 1), "image/png", "file"),
    ]
    for content, content_type, field in bad:
        with pytest.raises(InvalidInput) as info:
            attach(documents, rep, content, content_type)
        assert field in info.value.fields
    with pytest.raises(InvalidInput) as info:
        documents.add_attachment(WS, "staff", rep["id"], {
            "filename": "x.png", "content_type": "image/png", "content_b64": "%%%"})
    assert "content_b64" in info.value.fields
    assert StoredFile.objects.count() == 3
    assert len(documents.get_service_report(WS, rep["id"])["attachments"]) == 3


def test_attachment_count_is_capped_and_nothing_half_written(documents):
    rep = report(documents)
    for _ in range(MAX_ATTACHMENTS):
        attach(documents, rep)
    with pytest.raises(Conflict):
        attach(documents, rep)
    assert StoredFile.objects.count() == MAX_ATTACHMENTS


def test_complete_then_sign(documents):
    rep = report(documents)
    attach(documents, rep)
    with pytest.raises(NotFound):  # a draft is not shown to customers
        documents.get_service_report_for_customer(link(WS, "service_report", rep["id"]), rep["id"])
    with pytest.raises(Conflict):
        sign(documents, rep)
    done = documents.complete_service_report(WS, "staff", rep["id"])["service_report"]
    assert done["status"] == "awaiting_signature" and done["completed_at"]
    again = documents.complete_service_report(WS, "staff", rep["id"])["service_report"]
    assert again["completed_at"] == done["completed_at"]
    shown = documents.get_service_report_for_customer(link(WS, "service_report", rep["id"]), rep["id"])
    signed = sign(documents, rep)
    assert signed["status"] == "signed" and signed["signed"]["signer_name"] == "Alex Morgan"
    staff_view = documents.get_service_report(WS, rep["id"])
    assert staff_view["signed_ip"] == "198.51.100.4" and staff_view["signed_user_agent"] == "phone"
    assert staff_view["certificate_id"] == "cert_" + "1" * 32 and staff_view["pdf"]["ready"] is False
    [evidence] = documents.evidence
    assert evidence["kind"] == "signature" and evidence["signature_path"] == PATH
    expected = {k: v for k, v in shown.items() if k not in ("status", "status_label")}
    assert evidence["snapshot"] == expected  # exactly what the customer was shown
    documents.tasks.enqueue.assert_called_once_with("porchlight.render_signed_pdf", WS, rep["id"])
    assert "service_report_signed" in dispatched(documents)


def test_signing_twice_changes_nothing(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    first = sign(documents, rep)
    with pytest.raises(Conflict):
        sign(documents, rep, signer_name="Someone Else")
    assert documents.get_service_report(WS, rep["id"])["signed_by"] == "Alex Morgan"
    assert len(documents.evidence) == 1 and documents.tasks.enqueue.call_count == 1
    assert first["signed"]["signed_at"] == documents.get_service_report(WS, rep["id"])["signed_at"]


def test_refused_evidence_leaves_the_report_unsigned(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    documents.signatures.record_evidence.side_effect = InvalidInput(
        "Some fields need attention.", {"snapshot": "Too large."})
    with pytest.raises(InvalidInput):
        sign(documents, rep)
    stored = ServiceReport.objects.get(id=rep["id"])
    assert stored.status == "awaiting_signature" and stored.signed_by is None and stored.signed_ip is None
    documents.tasks.enqueue.assert_not_called()


@pytest.mark.parametrize("fields, name", [
    ({"signer_name": ""}, "signer_name"), ({"signature_path": ""}, "signature_path"),
    ({"signature_path": "M999 999 L1000 1000"}, "signature_path"),  # refused before anything changes
    ({"signature_path": "<svg onload=alert(1)>"}, "signature_path"), ({"ip": "not-an-ip"}, "ip"),
    ({"signature_path": None}, "signature_path"), ({"ip": ""}, "ip"), ({"extra": 1}, "extra"),
])
def test_sign_validation(documents, fields, name):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    with pytest.raises(InvalidInput) as info:
        sign(documents, rep, **fields)
    assert name in info.value.fields
    assert ServiceReport.objects.get(id=rep["id"]).status == "awaiting_signature"


def test_narrative_and_attachments_freeze_once_complete(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    with pytest.raises(Conflict):
        documents.update_service_report(WS, "staff", rep["id"], {"narrative": "Changed"})
    with pytest.raises(Conflict):
        attach(documents, rep)
    assert StoredFile.objects.count() == 0


def test_signed_pdf_is_kept_once(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    with pytest.raises(Conflict) as unsigned:
        documents.get_signed_pdf(WS, rep["id"])
    assert "not been signed" in unsigned.value.message
    sign(documents, rep)
    with pytest.raises(Conflict) as info:
        documents.get_signed_pdf(WS, rep["id"])
    assert "not ready" in info.value.message
    pdf = b"%PDF-1.4 signed"
    body = {"content_b64": base64.b64encode(pdf).decode(), "sha256": hashlib.sha256(pdf).hexdigest()}
    first = documents.store_signed_pdf(WS, rep["id"], body)
    other = b"%PDF-1.4 second render"
    again = documents.store_signed_pdf(WS, rep["id"], {
        "content_b64": base64.b64encode(other).decode(), "sha256": hashlib.sha256(other).hexdigest()})
    assert again == first
    fetched = documents.get_signed_pdf(WS, rep["id"])
    assert base64.b64decode(fetched["content_b64"]) == pdf
    unsigned = report(documents)
    with pytest.raises(Conflict):
        documents.store_signed_pdf(WS, unsigned["id"], body)
    documents.complete_service_report(WS, "staff", unsigned["id"])
    sign(documents, unsigned)
    for bad in ({"content_b64": "x", "sha256": "y"},
                {"content_b64": base64.b64encode(b"not a pdf").decode(), "sha256": body["sha256"]},
                {"content_b64": body["content_b64"], "sha256": "0" * 64}):
        with pytest.raises(InvalidInput):
            documents.store_signed_pdf(WS, unsigned["id"], bad)
    assert StoredFile.objects.count() == 1


def test_files_are_only_served_for_their_report(documents):
    rep = report(documents)
    file_id = attach(documents, rep)["attachments"][0]["id"]
    other = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    documents.complete_service_report(WS, "staff", other["id"])
    opened = documents.open_report_file(link(WS, "service_report", rep["id"]), rep["id"], file_id)
    assert opened["id"] == file_id and base64.b64decode(opened["content_b64"]) == PNG
    with pytest.raises(NotFound):  # the same file through another report
        documents.open_report_file(link(WS, "service_report", other["id"]), other["id"], file_id)
    with pytest.raises(NotFound):  # a capability for another workspace
        documents.open_report_file(link("b" * 24, "service_report", rep["id"]), rep["id"], file_id)


def test_signed_reports_without_a_pdf_are_listed_for_the_sweep(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    assert documents.list_reports_missing_pdf(0) == []
    sign(documents, rep)
    assert documents.list_reports_missing_pdf(3600) == []  # signed just now: give it time
    assert documents.list_reports_missing_pdf(0) == [{"workspace_id": WS, "id": rep["id"]}]
    pdf = b"%PDF-1.4 x"
    documents.store_signed_pdf(WS, rep["id"], {"content_b64": base64.b64encode(pdf).decode(),
                                               "sha256": hashlib.sha256(pdf).hexdigest()})
    assert documents.list_reports_missing_pdf(0) == []


def test_a_signature_recorded_after_a_timeout_stands(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    late = {"certificate_id": "cert_" + "9" * 32, "kind": "signature", "revision": 1,
            "signer_name": "Alex Morgan", "ip": "198.51.100.4", "user_agent": "phone",
            "signed_at": "2026-01-01T10:00:00.000Z", "snapshot_sha256": "ab" * 32}
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.return_value = [late]
    signed = sign(documents, rep, signer_name="Alex M.")
    assert signed["signed"] == {"signer_name": "Alex Morgan", "signed_at": "2026-01-01T10:00:00.000Z",
                                "certificate_id": late["certificate_id"]}
    stored = documents.get_service_report(WS, rep["id"])
    assert stored["signed_ip"] == "198.51.100.4" and stored["snapshot_sha256"] == "ab" * 32


class Neighbours:
    """The worker's RPC as the PDF task uses it: documents is the unit under test, the
    signatures neighbour answers with what documents asked it to record."""

    def __init__(self, documents):
        self.documents = documents

    def call(self, service, method, *args):
        if service == "documents":
            return getattr(self.documents, method)(*args)
        if (service, method) == ("signatures", "get_evidence"):
            request = self.documents.evidence[-1]
            return {**request, "certificate_id": args[1], "signed_at": "2026-01-01T10:00:00.000Z",
                    "snapshot_sha256": digest(request["snapshot"])}
        if (service, method) == ("signatures", "attach_artifact"):
            return {"certificate_id": args[1], **args[2]}
        assert (service, method) == ("identity", "get_workspace")
        return {"name": "Brightwater Plumbing", "timezone": "Europe/London"}


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_what_the_customer_signs_is_frozen_when_the_report_is_completed(documents):
    rep = report(documents)
    attach(documents, rep)
    documents.complete_service_report(WS, "staff", rep["id"])
    shown = documents.get_service_report_for_customer(link(WS, "service_report", rep["id"]), rep["id"])
    # The office renames the job and corrects the address afterwards.
    documents.update_work_order(WS, "staff", rep["work_order_id"], {
        "title": "Boiler replacement", "location": "99 Elm Street"})

    view = documents.get_service_report_for_customer(link(WS, "service_report", rep["id"]), rep["id"])
    assert view == shown
    assert view["work_order_title"] == "Boiler service" and view["location"] == "12 Orchard Lane"
    assert view["attachments"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert documents.get_service_report(WS, rep["id"])["work_order_title"] == "Boiler service"

    signed = sign(documents, rep)
    [evidence] = documents.evidence
    assert evidence["snapshot"]["work_order_title"] == "Boiler service"
    assert evidence["snapshot"]["location"] == "12 Orchard Lane"
    assert evidence["snapshot"]["attachments"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert evidence["snapshot"] == {k: v for k, v in shown.items() if k not in ("status", "status_label")}
    assert signed["work_order_title"] == "Boiler service"

    stored = render_and_store(Neighbours(documents), WS, rep["id"])
    text = pdf_text(base64.b64decode(documents.get_signed_pdf(WS, rep["id"])["content_b64"]))
    assert stored["sha256"] == documents.get_service_report(WS, rep["id"])["pdf"]["sha256"]
    assert "Boiler service" in text and "12 Orchard Lane" in text
    assert "Boiler replacement" not in text and "99 Elm Street" not in text
    assert hashlib.sha256(PNG).hexdigest() in text


def test_until_it_is_completed_a_report_follows_its_work_order(documents):
    rep = report(documents)
    documents.update_work_order(WS, "staff", rep["work_order_id"], {"title": "Boiler replacement"})
    assert documents.get_service_report(WS, rep["id"])["work_order_title"] == "Boiler replacement"
    done = documents.complete_service_report(WS, "staff", rep["id"])["service_report"]
    assert done["work_order_title"] == "Boiler replacement"
    listed = documents.list_service_reports(WS, {})["service_reports"]
    documents.update_work_order(WS, "staff", rep["work_order_id"], {"title": "Changed again"})
    assert documents.list_service_reports(WS, {})["service_reports"] == listed


def test_completion_freezes_only_the_draft_it_read(documents):
    rep = report(documents)
    reports = documents.repo.service_reports
    read = reports.get(WS, rep["id"])
    documents.update_service_report(WS, "staff", rep["id"], {"narrative": "Also bled the radiators."})
    work_order = documents.repo.work_orders.find(WS, rep["work_order_id"])
    assert reports.complete(WS, "staff", read, freeze(read, work_order, utcnow())) is None
    stored = ServiceReport.objects.get(id=rep["id"])
    assert stored.status == "draft" and stored.frozen is None
    done = documents.complete_service_report(WS, "staff", rep["id"])["service_report"]
    shown = documents.get_service_report_for_customer(link(WS, "service_report", done["id"]), done["id"])
    assert shown["narrative"] == "Also bled the radiators."


def test_a_late_signature_is_adopted_only_as_a_signature(documents):
    rep = report(documents)
    documents.complete_service_report(WS, "staff", rep["id"])
    documents.signatures.record_evidence.side_effect = Conflict("already answered")
    documents.signatures.list_evidence.return_value = [{
        "certificate_id": "cert_" + "9" * 32, "kind": "acceptance", "revision": 1,
        "signer_name": "Alex Morgan", "ip": "198.51.100.4", "signed_at": "2026-01-01T10:00:00.000Z",
        "snapshot_sha256": "ab" * 32}]
    with pytest.raises(Conflict):
        sign(documents, rep)
    stored = ServiceReport.objects.get(id=rep["id"])
    assert stored.status == "awaiting_signature" and stored.signed_by is None
    assert "service_report_signed" not in dispatched(documents)
    assert dispatched(documents)[-1] == "service_report_signature_undone"
    assert documents.dispatch.call_args.args[1]["service_report_id"] == rep["id"]
