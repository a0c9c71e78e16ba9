"""The signed service report as a PDF: the report, then the signature and its evidence.

The drawn signature is redrawn as vector lines from the stored, normalized path — never
a raster image — so it stays sharp at any zoom and can be compared with the certificate's
SVG. The output depends only on the inputs: the creation date is the signing time and the
file identifier comes from the certificate id, so rendering again gives the same bytes
(and the same SHA-256) as the copy attached to the certificate.

Its words are in the language asked for (``porchlight.runtime.i18n``; English by default),
its completion date as that language writes it, in the workspace's locale when that is of
the same language (``porchlight.runtime.formatting``). The evidence stays exact whatever
the language: the signing moment in UTC, and the local time with its zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from porchlight.contracts import signature_path
from porchlight.contracts.clock import isoformat
from porchlight.contracts.languages import SOURCE_LANGUAGE
from porchlight.runtime import formatting, i18n
from porchlight.runtime.settings import get_settings

# Debian's fonts-dejavu-core: a Unicode font, so names like "Zoë Łukasiewicz" print as
# typed. Without it the PDF falls back to a core font and "?" for what latin-1 lacks.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}

PAD_WIDTH_MM = 120.0  # the 480 x 160 signature pad, drawn at a quarter of a millimetre per unit
PAD_HEIGHT_MM = PAD_WIDTH_MM * signature_path.HEIGHT / signature_path.WIDTH
LABEL_WIDTH_MM = 40.0
LINE_MM = 5.0
# The signature box plus its evidence lines; they are kept together on one page.
SIGNATURE_BLOCK_MM = PAD_HEIGHT_MM + 80.0


class _SignedReportPDF(FPDF):
    def __init__(self, file_id: str, footer_text: str, words: Callable[..., str]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._file_id = file_id
        self._footer_text = footer_text
        self.words = words  # ``_`` in the PDF's language (``i18n.translator``)
        # The characters the body font can draw; None: the core font's latin-1.
        self.charset: frozenset[int] | None = self._add_unicode_font()
        self.body_font = "Helvetica" if self.charset is None else "DejaVu"

    def _add_unicode_font(self) -> frozenset[int] | None:
        regular, bold = FONT_FILES[""], FONT_FILES["B"]
        if not regular.is_file():
            return None
        self.add_font("DejaVu", "", str(regular))
        self.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
        return frozenset(self.fonts["dejavu"].cmap).intersection(self.fonts["dejavuB"].cmap)

    def file_id(self) -> str:
        return self._file_id

    def clean(self, value: Any) -> str:
        """Printable text: newlines normalized, and every character the font cannot draw
        (an emoji; with the core font anything beyond latin-1) shown as "?" — a report
        with a stray symbol still renders, and the gap is visible rather than silent."""
        text = "" if value is None else str(value)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
        if self.charset is None:
            return text.encode("latin-1", "replace").decode("latin-1")
        return "".join(c if c == "\n" or ord(c) in self.charset else "?" for c in text)

    def footer(self) -> None:
        _ = self.words
        self.set_y(-15)
        self.set_font(self.body_font, "", 8)
        self.set_text_color(110)
        # "{nb}" becomes the number of pages when the PDF is written.
        page = _("page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, self.clean(f"{self._footer_text}  ·  {page}"), align="C")


def _file_id(certificate_id: str) -> str:
    # Both halves equal, as the PDF format asks of a file written once.
    digest = hashlib.sha256(f"porchlight signed report {certificate_id}".encode()).hexdigest()
    return f"<{digest[:32].upper()}><{digest[:32].upper()}>"


def _signed_at(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _local_time(pdf: _SignedReportPDF, when: datetime, timezone: str | None) -> str:
    """The signing moment on the workspace's clock, exact in every language: the time and
    the zone's abbreviation, then the zone's name."""
    _ = pdf.words
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        return _("(no workspace time zone)")
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} ({timezone})"


def _heading(pdf: _SignedReportPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(pdf.body_font, "B", 11)
    _paragraph(pdf, text, height=7)
    pdf.set_font(pdf.body_font, "", 10)


def _paragraph(pdf: _SignedReportPDF, text: Any, *, height: float = LINE_MM) -> None:
    pdf.multi_cell(0, height, pdf.clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _row(pdf: _SignedReportPDF, label: str, value: Any) -> None:
    _ = pdf.words
    pdf.set_font(pdf.body_font, "B", 9)
    pdf.cell(LABEL_WIDTH_MM, LINE_MM, pdf.clean(label))
    pdf.set_font(pdf.body_font, "", 9)
    _paragraph(pdf, value if value not in (None, "") else _("not recorded"))


def _draw_signature(pdf: _SignedReportPDF, path: str | None) -> None:
    """The signature pad as a thin frame, each stroke a polyline scaled into it."""
    x0, y0 = pdf.l_margin, pdf.get_y()
    scale = PAD_WIDTH_MM / signature_path.WIDTH
    with pdf.local_context(draw_color=(170, 170, 170), line_width=0.2):
        pdf.rect(x0, y0, PAD_WIDTH_MM, PAD_HEIGHT_MM)
    if path:
        with pdf.local_context(draw_color=(17, 17, 17), line_width=0.5,
                               stroke_cap_style="ROUND", stroke_join_style="ROUND"):
            for stroke in signature_path.parse(path):
                points = [(x0 + x * scale, y0 + y * scale) for x, y in stroke]
                if len(points) == 1:
                    points.append(points[0])  # a dot: with round caps a zero-length line is one
                pdf.polyline(points)
    pdf.set_y(y0 + PAD_HEIGHT_MM + 2)


def render_signed_report(
    signed: dict[str, Any],
    evidence: dict[str, Any],
    workspace: dict[str, Any],
    *,
    verify_url: str | None = None,
    language: str | None = None,
) -> bytes:
    """The PDF of a signed service report. ``signed`` is the snapshot the customer signed
    (the evidence's ``snapshot``: the report as frozen when it was completed); the
    signature block comes from the rest of the evidence — the record the certificate is
    made of. Nothing is taken from the work order as it reads today. Written in
    ``language`` when Porchlight is written in it, else in English."""
    verify_url = verify_url or f"{get_settings().portal_base_url}/verify"
    certificate_id = evidence["certificate_id"]
    when = _signed_at(evidence["signed_at"])
    number = signed.get("number") or ""
    language = language if i18n.shipped(language) else SOURCE_LANGUAGE
    _ = i18n.translator(language)
    locale = formatting.locale_for(language, workspace.get("locale"))
    title = _("Service report %(number)s", number=number)

    pdf = _SignedReportPDF(_file_id(certificate_id), title, _)
    pdf.set_creation_date(when)
    pdf.set_lang(language)
    pdf.set_title(pdf.clean(title))
    pdf.set_author(pdf.clean(workspace.get("name") or ""))
    pdf.set_subject(pdf.clean(_("Signed service report, certificate %(certificate)s",
                                certificate=certificate_id)))
    pdf.set_creator("Porchlight")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()

    pdf.set_font(pdf.body_font, "B", 18)
    _paragraph(pdf, workspace.get("name") or "", height=9)
    pdf.set_font(pdf.body_font, "B", 13)
    _paragraph(pdf, title, height=8)
    pdf.set_font(pdf.body_font, "", 10)
    work_order = ": ".join(
        part for part in (signed.get("work_order_number"), signed.get("work_order_title")) if part
    )
    _paragraph(pdf, _("Work order %(number)s", number=work_order) if work_order else _("No work order"))
    if signed.get("location"):
        _paragraph(pdf, _("Location: %(location)s", location=signed["location"]))
    if signed.get("completed_at"):
        # As the reader writes a moment, in the workspace's time zone, then exactly, in UTC.
        completed = formatting.moment(signed["completed_at"], workspace.get("timezone") or "UTC", locale)
        _paragraph(pdf, _("Completed: %(moment)s (%(utc)s)", moment=completed, utc=signed["completed_at"]))
    with pdf.local_context(draw_color=(200, 200, 200), line_width=0.2):
        pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(3)

    _heading(pdf, _("Work carried out"))
    _paragraph(pdf, signed.get("narrative") or _("No notes."))

    _heading(pdf, _("Attachments"))
    for attachment in signed.get("attachments") or [{"filename": _("None")}]:
        _paragraph(pdf, attachment.get("filename") or _("(unnamed file)"))
        if attachment.get("sha256"):  # which file was signed, not only its name
            pdf.set_font(pdf.body_font, "", 8)
            _paragraph(pdf, f"SHA-256 {attachment['sha256']}")
            pdf.set_font(pdf.body_font, "", 10)

    if pdf.get_y() + SIGNATURE_BLOCK_MM > pdf.page_break_trigger:
        pdf.add_page()  # the signature and its evidence stay together
    _heading(pdf, _("Signature"))
    _draw_signature(pdf, evidence.get("signature_path"))
    _row(pdf, _("Signed by"), evidence.get("signer_name"))
    _row(pdf, _("Signed at (UTC)"), isoformat(when))
    _row(pdf, _("Local time"), _local_time(pdf, when, workspace.get("timezone")))
    _row(pdf, _("IP address"), evidence.get("ip"))
    _row(pdf, _("Device"), evidence.get("user_agent"))
    _row(pdf, _("Certificate"), certificate_id)
    _row(pdf, _("Document SHA-256"), evidence.get("snapshot_sha256"))
    pdf.ln(3)
    pdf.set_font(pdf.body_font, "", 9)
    _paragraph(pdf, _("Verify this signature at %(address)s with certificate %(certificate)s. The document "
                      "SHA-256 is the fingerprint of exactly what the customer was shown when signing.",
                      address=verify_url, certificate=certificate_id))
    return bytes(pdf.output())
