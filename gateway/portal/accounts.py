"""The signed-in portal: signing in by emailed link or code, signing out, and the pages a
contact sees — the dashboard and their customer's records.

The gateway keeps no account state. The session cookie holds a random id; identity keeps
its hash, and every signed-in request asks identity who it is (``resolve_session``), so a
removed contact or an ended session is refused on its very next request, by every
replica. A link's GET only shows a button (mail scanners open links); the POST signs in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from gateway.portal.links import brand
from gateway.web import amqp_client, client_ip
from porchlight.errors import InvalidInput, NotFound, TooManyRequests, Unauthorized
from porchlight.settings import get_settings

bp = Blueprint("accounts", __name__)

PLAIN_COOKIE = "porchlight_session"
# On HTTPS the cookie is __Host- prefixed: Secure, no Domain, Path=/ — no subdomain or
# plain-HTTP page can set or shadow it. Plain HTTP is for localhost only.
SECURE_COOKIE = "__Host-porchlight_session"


def identity(method: str, *args: Any) -> Any:
    return amqp_client(current_app).call("identity", method, *args)


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def cookie_name() -> str:
    return SECURE_COOKIE if _secure() else PLAIN_COOKIE


def _set_session(response: Any, raw: str) -> Any:
    max_age = int(timedelta(days=get_settings().portal_session_max_days).total_seconds())
    response.set_cookie(cookie_name(), raw, max_age=max_age, secure=_secure(), httponly=True,
                        samesite="Lax", path="/")
    return response


def _clear_session(response: Any) -> Any:
    response.delete_cookie(cookie_name(), path="/", secure=_secure(), httponly=True, samesite="Lax")
    return response


def current_account() -> dict[str, Any] | None:
    """Who this request's cookie signs in, asked of identity; ``None`` if nobody."""
    raw = request.cookies.get(cookie_name())
    if not raw:
        return None
    try:
        return identity("resolve_session", raw)
    except Unauthorized:
        return None


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The page needs a signed-in contact (``g.account``); otherwise the sign-in page,
    and a cookie that no longer works is removed."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.account = current_account()
        if g.account is None:
            response = redirect(url_for("accounts.sign_in"), code=303)
            return _clear_session(response) if request.cookies.get(cookie_name()) else response
        return view(*args, **kwargs)

    return wrapper


def _page(template: str, status: int = 200, **context: Any) -> Any:
    account = g.get("account")
    branding = brand(account["workspace"]) if account else {"workspace": None}
    if not account:
        g.style_hashes = []
    return render_template(template, account=account, **branding, **context), status


def _limited(exc: TooManyRequests, template: str, **context: Any) -> Any:
    page, status = _page(template, 429, error=exc.message, **context)
    return page, status, {"Retry-After": str(exc.retry_after)}


# -- signing in -----------------------------------------------------------------------
@bp.get("/portal/sign-in")
def sign_in() -> Any:
    if current_account() is not None:
        return redirect(url_for("accounts.dashboard"), code=303)
    return _page("portal/sign_in.html", form={})


@bp.post("/portal/sign-in")
def send_sign_in() -> Any:
    address = request.form.get("email", "").strip()
    try:
        identity("request_sign_in", {"email": address}, client_ip())
    except InvalidInput as exc:
        return _page("portal/sign_in.html", 422, errors=exc.fields, form={"email": address})
    except TooManyRequests as exc:
        return _limited(exc, "portal/sign_in.html", form={"email": address})
    # The same page whether or not the address has access.
    return _page("portal/sign_in_code.html", email=address, errors={})


@bp.post("/portal/sign-in/code")
def sign_in_with_code() -> Any:
    address = request.form.get("email", "").strip()
    code = "".join(request.form.get("code", "").split())
    try:
        signed = identity("sign_in_with_code", {"email": address, "code": code}, client_ip())
    except InvalidInput as exc:
        return _page("portal/sign_in_code.html", 422, email=address, errors=exc.fields)
    except Unauthorized as exc:
        return _page("portal/sign_in_code.html", 401, email=address, errors={"code": exc.message})
    except TooManyRequests as exc:
        return _limited(exc, "portal/sign_in_code.html", email=address, errors={})
    return _set_session(redirect(url_for("accounts.dashboard"), code=303), signed["session"])


@bp.get("/portal/sign-in/<token>")
def sign_in_link(token: str) -> Any:
    """The emailed link shows a button and changes nothing: scanners and previews open
    links; only the person's click (a POST) signs in."""
    try:
        link = identity("check_sign_in_link", token)
    except Unauthorized as exc:
        return _page("portal/sign_in.html", 410, error=exc.message, form={})
    return _page("portal/sign_in_link.html", link=link)


@bp.post("/portal/sign-in/<token>")
def use_sign_in_link(token: str) -> Any:
    try:
        signed = identity("sign_in_with_link", token, client_ip())
    except Unauthorized as exc:
        return _page("portal/sign_in.html", 410, error=exc.message, form={})
    except TooManyRequests as exc:
        return _limited(exc, "portal/sign_in.html", form={})
    return _set_session(redirect(url_for("accounts.dashboard"), code=303), signed["session"])


@bp.post("/portal/sign-out")
def sign_out() -> Any:
    raw = request.cookies.get(cookie_name())
    if raw:
        identity("sign_out", raw, request.form.get("everywhere") == "yes")
    return _clear_session(redirect(url_for("accounts.sign_in"), code=303))


# -- the signed-in pages ----------------------------------------------------------------
def _records() -> dict[str, Any]:
    account = g.account
    return amqp_client(current_app).call("documents", "customer_records", account["workspace_id"],
                                         account["customer"]["id"], account["contact"]["role"])


@bp.get("/portal")
@signed_in
def dashboard() -> Any:
    records = _records()
    cards = [
        ("Estimates awaiting your answer", [e for e in records.get("estimates", []) if e["awaiting"]]),
        ("Service reports to sign", [r for r in records["service_reports"] if r["awaiting"]]),
        ("Open work orders", [w for w in records["work_orders"] if w["open"]]),
    ]
    if "estimates" not in records:  # a member: estimates carry money, so they are not shown
        cards = cards[1:]
    return _page("portal/dashboard.html", records=records, cards=cards)


@bp.get("/portal/work-orders/<work_order_id>")
@signed_in
def work_order(work_order_id: str) -> Any:
    account = g.account
    try:
        wo = amqp_client(current_app).call("documents", "customer_work_order", account["workspace_id"],
                                           account["customer"]["id"], work_order_id)
    except NotFound:
        return _page("portal/not_found.html", 404)
    return _page("portal/work_order.html", wo=wo)
