"""What the portal sends on a customer's behalf: an answer to an estimate, a signature on
a service report. The gateway adds where the answer came from (IP address, browser);
documents checks the rest against the record (open, this revision, its optional lines)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from porchlight.contracts import signature_path
from porchlight.contracts.base import Contract
from porchlight.contracts.fields import optional_text, refuse, text
from porchlight.contracts.words import N_


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise refuse("Must be an IPv4 or IPv6 address.") from None


def _drawn(value: str) -> str:
    if not value.strip():
        raise refuse(N_("Please sign in the box."))
    try:
        signature_path.parse(value)
    except signature_path.SignaturePathError as exc:
        raise refuse(str(exc)) from None
    return value


IpAddress = Annotated[StrictStr, Field(max_length=45), AfterValidator(_ip)]
UserAgent = optional_text(512, description="The browser, as it named itself.")
SignerName = text(120, description="The name the customer typed.")
Revision = Annotated[StrictInt, Field(ge=1, le=10_000, description="The revision the customer was shown.")]
# Checked here, before anything changes, and again by signatures, which stores it.
SignaturePath = Annotated[StrictStr, AfterValidator(_drawn)]


class EstimateAnswer(Contract):
    """Accept (with the customer's typed name) or decline (with an optional reason)."""

    response: Literal["accept", "decline"]
    revision: Revision
    signer_name: optional_text(120, description="Required to accept.") = None
    reason: optional_text(1000, multiline=True, description="Why the customer declined.") = None
    include_optional: list[Annotated[StrictStr, Field(max_length=8)]] = Field([], max_length=100)
    ip: IpAddress
    user_agent: UserAgent = None


class ReportSignature(Contract):
    signer_name: SignerName
    signature_path: SignaturePath
    ip: IpAddress
    user_agent: UserAgent = None
