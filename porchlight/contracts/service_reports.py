"""Service reports (owned by documents): what was done at an appointment, signed by the
customer in the portal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictStr

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import CertificateId, IdText, MaybeMoment, Moment, Sha256
from porchlight.contracts.fields import DocumentNumber, Id, optional, optional_text, text
from porchlight.contracts.notifications import CustomerEmail
from porchlight.contracts.paging import NextCursor, PageQuery, UpdatedSince
from porchlight.contracts.share_links import MintedShareToken

STATUSES = ("draft", "awaiting_signature", "signed")
Status = Literal["draft", "awaiting_signature", "signed"]
STATUS_RULES = ("Where the report stands: a draft is edited and collects files; completing it "
                "makes it wait for the customer's signature; then it is signed and its PDF rendered.")
FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
FileType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 20
UPLOAD_RULES = (f"Allowed types: {', '.join(FILE_TYPES)}; the type is read from the file's content, "
                f"not its name. At most {MAX_FILE_BYTES // (1024 * 1024)} MB per file and "
                f"{MAX_ATTACHMENTS} files per report, added while the report is a draft.")
Narrative = optional_text(20_000, multiline=True, description="What was done; may span lines.")


class ServiceReportInput(Contract):
    """A new draft report. Documents also checks that the work order is one of the workspace's."""

    number: optional(DocumentNumber) = None
    work_order_id: Id = Field(description="A work order of the same workspace.")
    narrative: Narrative = None


class ServiceReportPatch(Contract):
    """Only a draft report can be edited; null or "" clears the narrative."""

    narrative: Narrative = None


class ServiceReportQuery(PageQuery):
    """``documents.list_service_reports``'s query, and the admin API's query string."""

    work_order_id: Id = Field(None, description="Only this work order's reports.")
    status: Status = Field(None, description="Only reports in this state.")
    updated_since: UpdatedSince = None


class Attachment(Reply):
    id: IdText
    filename: str
    content_type: FileType
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="Bytes.")


class StoredFile(Reply):
    """A stored file itself (an attachment, the signed PDF), base64-encoded, with its
    fingerprint."""

    id: IdText
    filename: str
    content_type: str
    size: int = Field(ge=1)
    sha256: Sha256
    content_b64: str


class SignedPdf(Reply):
    """The signed PDF, rendered in the background after the customer signs."""

    ready: bool
    file_id: str | None
    sha256: Sha256 | None


class ServiceReport(Reply):
    """What was done at an appointment, with photos, for the customer to sign."""

    id: IdText
    workspace_id: IdText
    number: str = Field(description="Human number, e.g. SR-0001.")
    work_order_id: IdText
    work_order_number: str | None
    work_order_title: str | None
    narrative: str | None
    status: Status = Field(description=STATUS_RULES)
    attachments: list[Attachment] = Field(max_length=MAX_ATTACHMENTS)
    completed_at: MaybeMoment
    signed_by: str | None
    signed_at: MaybeMoment
    signed_ip: str | None
    signed_user_agent: str | None
    certificate_id: CertificateId | None
    snapshot_sha256: Sha256 | None
    pdf: SignedPdf
    created_at: Moment


class ServiceReportList(Reply):
    service_reports: list[ServiceReport]
    next_cursor: NextCursor


class CompletedServiceReport(MintedShareToken):
    """The report awaiting signature and a new link the customer can view and sign with."""

    service_report: ServiceReport
    customer_email: CustomerEmail = Field(description="Whether the customer was emailed the link.")


class AttachmentUpload(Contract):
    """One uploaded file as the admin gateway forwards it. Documents decodes it, checks its
    size and that its content is of the declared type."""

    filename: text(200, description="The file's name, without folders.")
    content_type: FileType
    content_b64: StrictStr = Field(min_length=1, description="The file's bytes, base64.")
