"""Public verification of signatures and signed PDFs: anyone holding a certificate id or
a PDF can check what was signed, by whom and when — and whether a PDF is the original."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from gateway.portal.calls import services
from gateway.portal.language import _
from gateway.portal.reads import reads
from gateway.web import client_ip
from porchlight.contracts.errors import NotFound, TooManyRequests
from porchlight.contracts.words import N_

bp = Blueprint("verify", __name__)
_CERTIFICATE = re.compile(r"cert_[0-9a-f]{32}")


@bp.get("/verify")
def form() -> Any:
    g.style_hashes = []
    return render_template("portal/verify.html")


# A signed report's PDF is tens of kilobytes; anything far bigger is not one of ours.
VERIFY_MAX_BYTES = 5 * 1024 * 1024
TOO_BIG = N_("That file is larger than any signed PDF we make (5 MB at most); choose the signed PDF.")
_CHUNK = 64 * 1024


@bp.post("/verify")
def check_pdf() -> Any:
    g.style_hashes = []
    # Refused before the body is read when the request says it is too big.
    if (request.content_length or 0) > VERIFY_MAX_BYTES + _CHUNK:
        return render_template("portal/verify.html", error=TOO_BIG), 413
    size, digest = _hash_upload()
    if size > VERIFY_MAX_BYTES:
        return render_template("portal/verify.html", error=TOO_BIG), 413
    if not size:
        return render_template("portal/verify.html", error=_("Choose the signed PDF to check.")), 422
    try:
        certificate = services().signatures.find_certificate_by_artifact(digest, client_ip())
    except NotFound:
        return render_template("portal/verify.html", digest=digest, matched=False), 200
    except TooManyRequests as exc:
        return (render_template("portal/verify.html", error=exc.message), 429,
                {"Retry-After": str(exc.retry_after)})
    return render_template("portal/certificate.html", cert=certificate, digest=digest, matched=True)


def _hash_upload() -> tuple[int, str]:
    """The uploaded document's size and SHA-256, hashed as it is read; reading stops past
    VERIFY_MAX_BYTES. The upload's file is closed either way."""
    upload = request.files.get("document")
    if upload is None:
        return 0, ""
    hashed, size = hashlib.sha256(), 0
    try:
        while size <= VERIFY_MAX_BYTES and (chunk := upload.stream.read(_CHUNK)):
            size += len(chunk)
            hashed.update(chunk)
    finally:
        upload.close()
    return size, hashed.hexdigest()


@bp.get("/verify/<certificate_id>")
def certificate(certificate_id: str) -> Any:
    g.style_hashes = []
    if not _CERTIFICATE.fullmatch(certificate_id):
        raise NotFound("Unknown certificate.")
    cert = reads(current_app).certificate(certificate_id)
    return render_template("portal/certificate.html", cert=cert)
