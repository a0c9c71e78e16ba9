"""The signed service report PDF: what it says, how the signature is drawn, and that the
same signature always gives the same bytes."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from porchlight.contracts import signature_path
from porchlight.runtime import i18n
from tests import catalogs
from workers import pdf as report_pdf
from workers.pdf import render_signed_report

CERTIFICATE_ID = "66d1f0c2a9b4e3d2c1b0a987"
SNAPSHOT_SHA256 = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"
PHOTO_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SIGNATURE = "M20 30 L60 90 L120 40 L180 120 M250 100 L330 60 L400 130 L460 20"


def inputs(**evidence_changes: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    # The snapshot the customer signed: the report as frozen when it was completed.
    report = {
        "number": "SR-0012", "work_order_number": "WO-0042",
        "work_order_title": "Annual boiler service", "location": "12 Orchard Lane, Bristol",
        "narrative": "Replaced the pressure-relief valve.\nKäse – café: flushed the system.\n\n"
                     + "Checked every radiator for cold spots and bled the air out. " * 8,
        "completed_at": "2025-03-01T13:30:00.000Z",
        "attachments": [
            {"id": "a1", "filename": "valve-before.jpg", "content_type": "image/jpeg", "size": 1200,
             "sha256": PHOTO_SHA256, "is_image": True},
            {"id": "a2", "filename": "pressure-test.pdf", "content_type": "application/pdf", "size": 800,
             "sha256": "0" * 64, "is_image": False},
        ],
    }
    evidence = {
        "certificate_id": CERTIFICATE_ID, "kind": "signature", "signer_name": "Zoë Brennan",
        "signed_at": "2025-03-01T14:03:07.123Z", "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "snapshot_sha256": SNAPSHOT_SHA256,
        "signature_path": SIGNATURE, "signature_svg": "<svg/>",
        **evidence_changes,
    }
    workspace = {"name": "Brightwater Plumbing", "timezone": "Europe/London"}
    return report, evidence, workspace


def render(**evidence_changes: Any) -> bytes:
    return render_signed_report(*inputs(**evidence_changes), verify_url="https://portal.test/verify")


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_states_the_report_and_the_signature_evidence() -> None:
    content = render()
    assert content.startswith(b"%PDF-")
    text = text_of(content)
    for expected in (
        "Brightwater Plumbing", "SR-0012", "WO-0042", "Annual boiler service",
        "Replaced the pressure-relief valve.", "Käse – café", "valve-before.jpg",
        "pressure-test.pdf", PHOTO_SHA256, "12 Orchard Lane, Bristol", "2025-03-01T13:30:00.000Z",
        "Zoë Brennan", CERTIFICATE_ID, SNAPSHOT_SHA256, "203.0.113.7",
        "2025-03-01T14:03:07.123Z", "https://portal.test/verify",
    ):
        assert expected in text, expected
    # The workspace's local time next to UTC: London is on GMT on 1 March.
    assert "2025-03-01 14:03:07 GMT (Europe/London)" in text


def test_the_signature_is_drawn_as_vector_lines_not_an_image() -> None:
    reader = PdfReader(io.BytesIO(render()))
    page = reader.pages[0]
    stream = page.get_contents().get_data().decode("latin-1")
    strokes = signature_path.parse(SIGNATURE)
    segments = sum(len(stroke) - 1 for stroke in strokes)
    assert len(strokes) == 2
    assert len(re.findall(r"^[\d.-]+ [\d.-]+ m$", stream, re.M)) >= len(strokes)
    assert len(re.findall(r"^[\d.-]+ [\d.-]+ l$", stream, re.M)) >= segments
    assert len(page.images) == 0
    assert "/XObject" not in page["/Resources"]


def test_a_rerender_gives_the_same_bytes_and_other_evidence_other_bytes() -> None:
    first = render()
    assert render() == first
    assert render(signer_name="Zoe Brennan") != first
    trailer_id = PdfReader(io.BytesIO(first)).trailer["/ID"]
    assert trailer_id[0] == trailer_id[1]


def test_the_creation_date_is_the_signing_time() -> None:
    assert PdfReader(io.BytesIO(render())).metadata["/CreationDate"] == "D:20250301140307Z"


def test_text_the_font_cannot_draw_becomes_a_question_mark() -> None:
    report, evidence, workspace = inputs()
    report["narrative"] = "All done \U0001f527 thanks"
    text = text_of(render_signed_report(report, evidence, workspace))
    assert "All done ? thanks" in text


def test_without_the_unicode_font_a_core_font_prints_latin_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_pdf, "FONT_FILES", {"": Path("/nonexistent/a.ttf"), "B": Path("/n/b.ttf")})
    report, evidence, workspace = inputs()
    report["narrative"] = "Käse – café"
    text = text_of(render_signed_report(report, evidence, workspace))
    assert "Käse ? café" in text
    assert "Zoë Brennan" in text
    assert "/FontFile2" not in render_signed_report(report, evidence, workspace).decode("latin-1")


def test_a_long_report_flows_onto_more_pages_and_keeps_the_signature_block_whole() -> None:
    report, evidence, workspace = inputs()
    report["narrative"] = "\n".join(f"Step {i}: checked and logged." for i in range(120))
    reader = PdfReader(io.BytesIO(render_signed_report(report, evidence, workspace)))
    assert len(reader.pages) >= 3
    last = reader.pages[-1].extract_text()
    assert "Signature" in last and "Signed by" in last and SNAPSHOT_SHA256 in last
    assert "Step 119" in text_of(render_signed_report(report, evidence, workspace))


FRENCH = {
    "Service report %(number)s": "Rapport d'intervention %(number)s",
    "Work order %(number)s": "Bon de travail %(number)s",
    "Location: %(location)s": "Adresse : %(location)s",
    "Completed: %(moment)s (%(utc)s)": "Terminé : %(moment)s (%(utc)s)",
    "Work carried out": "Travaux réalisés",
    "Attachments": "Pièces jointes",
    "Signature": "Signature",
    "Signed by": "Signé par",
    "Signed at (UTC)": "Signé le (UTC)",
    "Local time": "Heure locale",
    "IP address": "Adresse IP",
    "Device": "Appareil",
    "Certificate": "Certificat",
    "Document SHA-256": "SHA-256 du document",
    "page %(page)s of %(pages)s": "page %(page)s sur %(pages)s",
    "Verify this signature at %(address)s with certificate %(certificate)s. The document SHA-256 is "
    "the fingerprint of exactly what the customer was shown when signing.":
        "Vérifiez cette signature sur %(address)s avec le certificat %(certificate)s. Le SHA-256 du "
        "document est l'empreinte exacte de ce que le client a vu en signant.",
}


def test_a_french_pdf_has_french_words_and_dates_and_the_same_evidence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    catalogs.install(monkeypatch, "fr", FRENCH)
    report, evidence, workspace = inputs()
    text = text_of(render_signed_report(report, evidence, workspace, verify_url="https://portal.test/verify",
                                        language="fr"))
    for french in ("Rapport d'intervention SR-0012", "Bon de travail WO-0042: Annual boiler service",
                   "Adresse : 12 Orchard Lane", "Travaux réalisés", "Pièces jointes",
                   "Signé par Zoë Brennan", "Signé le (UTC) 2025-03-01T14:03:07.123Z", "Appareil Mozilla/5.0",
                   f"Certificat {CERTIFICATE_ID}", "SHA-256 du document",
                   "Vérifiez cette signature sur https://portal.test/verify", "page 1 sur 1"):
        assert french in text, french
    # The day as French writes it, then the exact moment; the evidence's local time as it was.
    assert "Terminé : 1 mars 2025" in text and "(2025-03-01T13:30:00.000Z)" in text
    assert "Heure locale 2025-03-01 14:03:07 GMT (Europe/London)" in text
    for english in ("Service report", "Work carried out", "Attachments", "Signed by", "Device", "page 1 of"):
        assert english not in text, english


def test_an_english_pdf_writes_the_day_as_the_workspaces_locale_does() -> None:
    report, evidence, workspace = inputs()
    text = text_of(render_signed_report(report, evidence, workspace))
    assert "Completed: 1 March 2025, 13:30 GMT (2025-03-01T13:30:00.000Z)" in text
    us = text_of(render_signed_report(report, evidence, {**workspace, "locale": "en-US"}, language="en"))
    assert "Completed: March 1, 2025" in us
    # A language Porchlight is not written in reads as English.
    assert "Work carried out" in text_of(render_signed_report(report, evidence, workspace, language="nl"))


def test_the_shipped_french_catalog_writes_the_pdf_in_french() -> None:
    report, evidence, workspace = inputs()
    text = text_of(render_signed_report(report, evidence, workspace, verify_url="https://portal.test/verify",
                                        language="fr"))
    french = i18n.translator("fr")
    for english in ("Work carried out", "Signature", "Signed by", "Device"):
        assert french(english) in text, english
    assert french("Work carried out") != "Work carried out" and "Work carried out" not in text
    assert "1 mars 2025" in text
