"""Pages behind share links: work orders, estimates (accept / decline) and service
reports (sign). GETs only read, from the process's read model (``gateway.portal.reads``);
every answer is a POST with a CSRF token, decided synchronously by the owning service.

A page and an answer work from a *grant* — which record, in which workspace, with which
permissions — whoever vouched for it: a share link here, or a signed-in contact's session
(``gateway.portal.accounts``, the grant made by documents). ``estimate_page``,
``answer_estimate``, ``report_page`` and ``sign_report`` are that one path for both."""

from __future__ import annotations

import base64
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from gateway.portal.calls import documents, services
from gateway.portal.reads import reads
from gateway.portal.session import current_account
from gateway.web import client_ip, content_disposition, style_hash
from porchlight.contracts import share_tokens
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, StaleRevision
from porchlight.contracts.words import N_

bp = Blueprint("links", __name__)
_ID = re.compile(r"[0-9a-f]{24}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def brand(workspace: dict[str, Any]) -> dict[str, Any]:
    """The page header for a workspace; its colour rule is allowed by hash in the CSP."""
    css = ":root{--brand:" + workspace["brand_colour"] + "}"
    g.style_hashes = [style_hash(css)]
    g.workspace = workspace
    return {"workspace": workspace, "brand_css": css}


def resolve(raw: str, entity_type: str, permission: str) -> dict[str, Any]:
    """The grant a token gives for an answer; anything but a live token with the
    permission is the 404 page."""
    return reader(reads(current_app).resolve(raw, entity_type, permission))


def reader(grant: dict[str, Any]) -> dict[str, Any]:
    """A link's page is read by its record's customer: it is written in their language
    unless the visitor chose another (``gateway.portal.language``)."""
    if grant.get("customer_id") and "customer_language" not in g:
        g.customer_language = reads(current_app).customer_language(grant["workspace_id"],
                                                                    grant["customer_id"])
        g.pop("language", None)
    return grant


def workspace_of(grant: dict[str, Any]) -> dict[str, Any]:
    reader(grant)
    return reads(current_app).workspace(grant["workspace_id"])


def answered(kind: str, grant: dict[str, Any]) -> None:
    """This process saw the answer land: its next page shows it without waiting for the
    event (other processes hear the event)."""
    reads(current_app).model.changed((kind, grant["entity_id"]))


def customer_context() -> dict[str, str]:
    # Evidence, not input: keep what the browser sent, minus characters that cannot be
    # stored as text, rather than refusing the customer's answer over a header.
    raw = request.user_agent.string or ""
    user_agent = "".join(ch for ch in raw if ch.isprintable())[:512]
    return {"ip": client_ip(), "user_agent": user_agent}


# -- work orders ----------------------------------------------------------------------
@bp.get("/portal/fsm/<token>")
def work_order(token: str) -> Any:
    portal = reads(current_app)
    grant = portal.grant(token, "work_order")
    return render_template("portal/work_order.html", wo=portal.work_order(grant),
                           seen=seen_ticket(token, grant),
                           **brand(workspace_of(grant)))


# A page opened in a background tab may be brought forward hours later.
SEEN_SECONDS = 24 * 3600


def signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def seen_ticket(token: str, grant: dict[str, Any]) -> str:
    """What a link page's script posts once the page is shown (``seen``): signed, naming
    the link by its id and its token's SHA-256 — the page never holds the token itself."""
    return signer("portal-seen").dumps(
        [grant["workspace_id"], grant["share_token_id"], share_tokens.digest(token)])


@bp.post("/portal/seen")
def seen() -> Any:
    """A link's page is in front of a person: its script posts the page's ticket here once
    the page is visible, and that is the view counted — mail scanners and link previews
    fetch the page but run no script and see nothing. A ticket that is not one, is older
    than a day, or names a link that no longer works counts nothing (404). The signed
    ticket stands in for a CSRF token (only the page holds it, and a post from another
    site is refused by its Origin and Sec-Fetch-Site), so a link page sets no cookie."""
    try:
        workspace_id, share_token_id, digest = signer("portal-seen").loads(
            request.form.get("ticket", ""), max_age=SEEN_SECONDS)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("Unknown link.") from None
    reads(current_app).seen(workspace_id, share_token_id, digest)
    return "", 204


# -- estimates ------------------------------------------------------------------------
def _include_from(values: list[str]) -> list[str]:
    return [v for v in values if isinstance(v, str) and len(v) <= 8][:100]


def estimate_page(grant: dict[str, Any], include: list[str] | None, *, status: int = 200,
                  error: str | None = None, errors: dict | None = None, form: dict | None = None,
                  **extra: Any) -> Any:
    portal = reads(current_app)
    try:
        estimate = portal.estimate(grant, include)
    except InvalidInput:  # a hand-edited ?include= naming no optional line
        estimate = portal.estimate(grant, None)
    return render_template(
        "portal/estimate.html", est=estimate, error=error, errors=errors or {},
        form=form or {}, can_respond="respond" in grant["permissions"],
        **brand(workspace_of(grant)), **extra,
    ), status


@bp.get("/portal/fsm/estimate/<token>")
def estimate(token: str) -> Any:
    grant = reads(current_app).grant(token, "estimate")
    return estimate_page(grant, chosen_options(), seen=seen_ticket(token, grant))


def chosen_options() -> list[str] | None:
    return _include_from(request.args.getlist("include")) if "include" in request.args else None


@bp.post("/portal/fsm/estimate/<token>")
def respond_to_estimate(token: str) -> Any:
    return answer_estimate(resolve(token, "estimate", "respond"),
                           url_for("links.estimate", token=token))


def answer_estimate(grant: dict[str, Any], back: str, **extra: Any) -> Any:
    """The customer's answer from the posted form, decided by documents; then back to
    the page (``back``), which shows the outcome."""
    response = request.form.get("response", "")
    include = _include_from(request.form.getlist("include"))
    revision_text = request.form.get("revision", "")
    data = {
        "response": response,
        "revision": int(revision_text) if revision_text.isdigit() and len(revision_text) < 7 else 0,
        "signer_name": request.form.get("signer_name", ""),
        "reason": request.form.get("reason", ""),
        "include_optional": include if response == "accept" else [],
        **customer_context(),
    }
    try:
        documents().respond_to_estimate(grant["capability"], grant["entity_id"], data)
    except StaleRevision as exc:
        answered("estimate", grant)  # the page this process holds is the old revision
        return estimate_page(grant, include, status=409, error=exc.message, **extra)
    except Conflict:
        answered("estimate", grant)  # already answered or expired: the page shows what stands
    except InvalidInput as exc:  # said in the page's language, once the page knows its workspace
        return estimate_page(grant, include, status=422, error=N_("Please check the form."),
                             errors=exc.fields, form=request.form, **extra)
    else:
        answered("estimate", grant)
    return redirect(back, code=303)


# -- service reports ------------------------------------------------------------------
def _file_links(grant: dict[str, Any], attachments: list[dict[str, Any]]) -> dict[str, str]:
    """Short-lived links for the report's files: signed, expiring, naming no share token
    or session — only the id of the link or of the contact that showed them, which must
    still hold when a file is fetched. A link's carries the link's capability, for
    documents; a contact's session gives a fresh one when the file is fetched."""
    files = signer("portal-file")
    by_link = grant.get("share_token_id") is not None
    return {
        a["id"]: url_for("links.file", signed=files.dumps(
            [grant["workspace_id"], grant["entity_id"], a["id"], grant.get("share_token_id"),
             grant.get("contact_id"), grant["capability"] if by_link else None]))
        for a in attachments
    }


def report_page(grant: dict[str, Any], *, status: int = 200, errors: dict | None = None,
                form: dict | None = None, **extra: Any) -> Any:
    report = reads(current_app).service_report(grant)
    return render_template(
        "portal/service_report.html", report=report, errors=errors or {},
        form=form or {}, files=_file_links(grant, report["attachments"]),
        can_sign="sign" in grant["permissions"], **brand(workspace_of(grant)), **extra,
    ), status


@bp.get("/portal/fsm/service-report/<token>")
def service_report(token: str) -> Any:
    grant = reads(current_app).grant(token, "service_report")
    return report_page(grant, seen=seen_ticket(token, grant))


@bp.post("/portal/fsm/service-report/<token>")
def sign_service_report(token: str) -> Any:
    return sign_report(resolve(token, "service_report", "sign"),
                       url_for("links.service_report", token=token))


def sign_report(grant: dict[str, Any], back: str, **extra: Any) -> Any:
    """The customer's signature from the posted form, decided by documents."""
    data = {
        "signer_name": request.form.get("signer_name", ""),
        "signature_path": request.form.get("signature_path", ""),
        **customer_context(),
    }
    try:
        documents().sign_service_report(grant["capability"], grant["entity_id"], data)
    except Conflict:
        answered("service_report", grant)  # already signed: the page shows by whom and when
    except InvalidInput as exc:
        return report_page(grant, status=422, errors=exc.fields,
                           form={"signer_name": data["signer_name"]}, **extra)
    else:
        answered("service_report", grant)
    return redirect(back, code=303)


@bp.get("/logos/<workspace_id>/<sha256>")
def logo(workspace_id: str, sha256: str) -> Any:
    """A workspace's logo, from the portal's own address (no other host sees who views a
    business's pages); its address names its content, so it may be kept for good."""
    if not (_ID.fullmatch(workspace_id) and _SHA256.fullmatch(sha256)):
        raise NotFound("No such logo.")  # nothing asked of anyone for a made-up address
    stored = reads(current_app).logo(workspace_id)
    if stored["sha256"] != sha256:
        raise NotFound("No such logo.")
    return Response(base64.b64decode(stored["content_b64"]), mimetype=stored["content_type"], headers={
        "Cache-Control": "public, max-age=31536000, immutable"})


@bp.get("/portal/files/<signed>")
def file(signed: str) -> Any:
    try:
        workspace_id, report_id, file_id, share_token_id, contact_id, capability = signer(
            "portal-file").loads(signed, max_age=int(current_app.config["FILE_LINK_SECONDS"]))
    except (BadSignature, ValueError, TypeError):
        raise NotFound("Unknown link.") from None
    # A file link dies with the share link that showed it, or with the session of the
    # contact it was shown to.
    if share_token_id is not None:
        if not services().sharing.check_token(workspace_id, share_token_id):
            raise NotFound("Unknown link.")
    else:
        account = current_account()
        if account is None or account["contact"]["id"] != contact_id:
            raise NotFound("Unknown link.")
        capability = account["capability"]
    stored = documents().open_report_file(capability, report_id, file_id)
    inline = stored["content_type"].startswith("image/")
    disposition = "inline" if inline else "attachment"
    return Response(base64.b64decode(stored["content_b64"]), mimetype=stored["content_type"], headers={
        "Content-Disposition": content_disposition(disposition, stored["filename"]),
    })
