"""Reply building blocks shared by several contracts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema

from porchlight.contracts.base import Reply

Moment = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
MaybeMoment = Annotated[str | None, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})]
IdText = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="An id as returned by the API.")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="A SHA-256 digest, lowercase hex.")]
CertificateId = Annotated[str, Field(
    pattern=r"^cert_[0-9a-f]{32}$",
    description="The id of the evidence of a customer's answer or signature.")]


class ErrorDetail(Reply):
    code: str = Field(description="Stable machine-readable code.")
    message: str = Field(description="A sentence for a person.")
    fields: dict[str, str] = Field(description="Field name (or query parameter) → what is wrong.")


class ErrorBody(Reply):
    """Every error answer has this shape."""

    error: ErrorDetail


class Health(Reply):
    status: str = Field(description="Always `ok` while the process runs.")
