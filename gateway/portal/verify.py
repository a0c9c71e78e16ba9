"""Public verification of signatures and signed PDFs: anyone holding a certificate id or
a PDF can check what was signed, by whom and when — and whether a PDF is the original."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from gateway.portal.reads import reads
from gateway.web import amqp_client
from porchlight.contracts.errors import NotFound

bp = Blueprint("verify", __name__)
_CERTIFICATE = re.compile(r"cert_[0-9a-f]{32}")


@bp.get("/verify")
def form() -> Any:
    g.style_hashes = []
    return render_template("portal/verify.html")


@bp.post("/verify")
def check_pdf() -> Any:
    g.style_hashes = []
    upload = request.files.get("document")
    content = upload.read() if upload else b""
    if not content:
        return render_template("portal/verify.html", error="Choose the signed PDF to check."), 422
    digest = hashlib.sha256(content).hexdigest()
    try:
        certificate = amqp_client(current_app).call("signatures", "find_certificate_by_artifact", digest)
    except NotFound:
        return render_template("portal/verify.html", digest=digest, matched=False), 200
    return render_template("portal/certificate.html", cert=certificate, digest=digest, matched=True)


@bp.get("/verify/<certificate_id>")
def certificate(certificate_id: str) -> Any:
    g.style_hashes = []
    if not _CERTIFICATE.fullmatch(certificate_id):
        raise NotFound("Unknown certificate.")
    cert = reads(current_app).certificate(certificate_id)
    return render_template("portal/certificate.html", cert=cert)
