"""Evidence (owned by signatures): the record behind every answer and signature."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from porchlight.contracts.base import Reply
from porchlight.contracts.common import CertificateId, IdText, Moment, Sha256

KINDS = ("acceptance", "decline", "signature")
Kind = Literal["acceptance", "decline", "signature"]
ENTITY_TYPES = ("estimate", "service_report")
EntityType = Literal["estimate", "service_report"]


class Evidence(Reply):
    """Everything recorded when a customer answered an estimate or signed a report. It is
    never changed; staff see the IP address and device, public certificates do not."""

    certificate_id: CertificateId
    workspace_id: IdText
    kind: Kind
    entity_type: EntityType
    entity_id: IdText
    entity_number: str
    revision: int = Field(ge=1, description="The revision the customer was shown.")
    signer_name: str
    signature_path: str | None = Field(description="The drawn signature as stored (signatures only).")
    signature_svg: str | None
    reason: str | None = Field(description="Why the customer declined.")
    snapshot: dict[str, Any] = Field(description="Exactly what the customer was shown.")
    snapshot_sha256: Sha256
    ip: str
    user_agent: str | None
    signed_at: Moment
