"""Evidence (owned by signatures): the record behind every answer and signature."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictStr

from porchlight.contracts.answers import IpAddress, Revision, SignerName, UserAgent
from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import CertificateId, IdText, Moment, Sha256
from porchlight.contracts.fields import Id, Timestamp, optional, optional_text, patterned, text

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
    share_token_id: str | None = Field(description="The link the answer came through, if by link.")
    contact_id: str | None = Field(description="The signed-in contact who answered, if signed in.")
    session_id: str | None = Field(description="Their portal session, if signed in.")
    signed_at: Moment


class EvidenceInput(Contract):
    """What documents asks signatures to record, before it tells the customer their answer
    stands. Signatures also checks what depends on the kind (only a signature carries a
    drawn path, only a decline a reason), that the snapshot is canonical JSON of bounded
    size, and that the deadline has not passed (then nothing is stored)."""

    kind: Kind
    entity_type: EntityType
    entity_id: Id
    entity_number: text(32, description="The record's number, e.g. EST-0001.")
    revision: Revision
    signer_name: SignerName
    signature_path: optional(StrictStr) = None
    reason: optional_text(1000, multiline=True) = None
    snapshot: dict[str, Any] = Field(min_length=1, description="Exactly what the customer was shown.")
    ip: IpAddress
    user_agent: UserAgent = None
    # Who vouched for the answer, from the grant documents verified: a link, or a signed-in
    # contact and their session.
    share_token_id: optional(Id) = None
    contact_id: optional(Id) = None
    session_id: optional(Id) = None
    deadline: Timestamp = Field(description="When documents stops waiting; later, nothing is stored.")


class ArtifactInput(Contract):
    """A document made from the evidence, by its SHA-256 (any case)."""

    kind: Literal["signed_pdf"]
    sha256: Annotated[StrictStr, Field(pattern=patterned(
        r"^[0-9a-fA-F]{64}$", "Must be a SHA-256 digest: 64 hexadecimal characters.")),
        AfterValidator(str.lower)]


class Artifact(Reply):
    """A document made from the evidence, attached to its certificate by its SHA-256."""

    certificate_id: CertificateId
    kind: Literal["signed_pdf"]
    sha256: Sha256
    created_at: Moment


class CertificateArtifact(Reply):
    kind: Literal["signed_pdf"]
    sha256: Sha256
    created_at: Moment


class Certificate(Reply):
    """The public view of the evidence, for the verify pages: what was answered or signed,
    by whom, when, and the fingerprints to check a document against — never the IP
    address, the device, the workspace or the signed content (its prices)."""

    certificate_id: CertificateId
    kind: Kind
    entity_type: EntityType
    entity_number: str
    revision: int = Field(ge=1)
    signer_name: str
    signed_at: Moment
    snapshot_sha256: Sha256 = Field(description="The SHA-256 of what was signed; the content "
                                    "itself stays with staff.")
    signature_svg: str | None
    artifacts: list[CertificateArtifact]
