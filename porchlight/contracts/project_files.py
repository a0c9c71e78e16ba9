"""Project files (owned by documents): drawings, plans, photos and deliverables staff
upload to a project, which the customer's contacts download while the project is shared
with them. The type of a file is read from its content, never from its name or the type
it was sent as; the list below is every type accepted."""

from __future__ import annotations

from pydantic import Field, StrictStr

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import Id
from porchlight.contracts.paging import NextCursor, PageQuery

# content type → what people call it (for the rules and the README)
FILE_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG photo",
    "image/png": "PNG image",
    "image/webp": "WebP image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook (.xlsx)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint (.pptx)",
    "image/vnd.dwg": "AutoCAD drawing (.dwg)",
}
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILES = 500  # per project
MAX_MB = MAX_FILE_BYTES // (1024 * 1024)
UPLOAD_RULES = ("Allowed: " + ", ".join(FILE_TYPES.values()) + ". The type is read from the file's "
                f"content, not its name or the type it is sent as. At most {MAX_MB} MB per file and "
                f"{MAX_FILES} files per project; a photo is stored without its camera's metadata.")


class ProjectFileUpload(Contract):
    """One uploaded file as the admin gateway forwards it; documents decodes it, checks its
    size and reads its type from its content."""

    filename: StrictStr = Field(min_length=1, max_length=200)
    content_type: StrictStr = Field(max_length=200, description="As sent; not trusted.")
    content_b64: StrictStr = Field(max_length=(MAX_FILE_BYTES * 4) // 3 + 8)


class ProjectFile(Reply):
    """A project's file as staff see it: what it is, who put it there, who opened it."""

    id: IdText
    project_id: IdText
    name: str = Field(description="The file's name as uploaded.")
    content_type: str = Field(description="Read from the content: one of the allowed types.")
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="Bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    uploaded_at: Moment
    uploaded_by: str = Field(description="Who uploaded it, e.g. api_key:<id>.")
    views: int = Field(ge=0, description="How many times a customer's signed-in contact downloaded it.")
    last_viewed_at: MaybeMoment = Field(description="When a customer's contact last downloaded it.")


class ProjectFileList(Reply):
    files: list[ProjectFile]
    next_cursor: NextCursor


class ProjectFileQuery(PageQuery):
    """``GET /projects/<id>/files``: newest first."""


class CustomerFileQuery(PageQuery):
    """``documents.customer_documents``'s query: a page of the files the contact may see,
    of every shared project or of one."""

    project_id: Id = Field(None, description="Only this project's files.")


class FileView(Reply):
    """A customer opened the document: which contact, when."""

    id: IdText
    contact_id: IdText
    customer_id: IdText
    at: Moment


class FileViewList(Reply):
    views: list[FileView]
    next_cursor: NextCursor
