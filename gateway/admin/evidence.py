"""Evidence: everything recorded when a customer answered an estimate or signed a report,
for disputes. Signatures owns it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc
from gateway.admin.operations import Api
from porchlight.contracts.evidence import Evidence

api = Api(Blueprint("evidence", __name__))


@api.operation("GET", "/evidence/<certificate_id>", "getEvidence", tag="evidence", reply=Evidence,
               errors=(404,))
def get_evidence(certificate_id: str) -> Any:
    """Get the evidence of an answer

    Everything recorded when a customer accepted or declined an estimate or signed a report, IP
    address and device included: for disputes.
    """
    with rpc() as services:
        return services.signatures.get_evidence(g.workspace_id, certificate_id)
