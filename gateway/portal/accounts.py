"""The signed-in portal: signing in by emailed link or code, signing out, and the pages a
contact sees — the dashboard and their customer's records.

The gateway keeps no account state of its own. The session cookie holds a random id;
identity keeps its hash and says who it signs in (``resolve_session``), an answer the
read model keeps until identity announces a change to it (``session.current_account``). A
link's GET only shows a button (mail scanners open links); the POST signs in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from gateway.portal import language, links
from gateway.portal.calls import documents
from gateway.portal.language import _
from gateway.portal.reads import reads
from gateway.portal.session import (
    clear_session,
    cookie_name,
    current_account,
    forget_account,
    identity,
    remember_return,
    return_path,
    set_session,
)
from gateway.web import client_ip
from porchlight.contracts.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from porchlight.contracts.words import N_
from porchlight.runtime import i18n

bp = Blueprint("accounts", __name__)

def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The page needs a signed-in contact (``g.account``); otherwise the sign-in page,
    and a cookie that no longer works is removed."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.account = current_account()
        if g.account is None:
            remember_return()
            response = redirect(url_for("accounts.sign_in"), code=303)
            return clear_session(response) if request.cookies.get(cookie_name()) else response
        # A temporary password is good for one thing: choosing their own.
        if g.account["must_change_password"] and request.endpoint != "accounts.choose_password":
            return redirect(url_for("accounts.choose_password"), code=303)
        return view(*args, **kwargs)

    return wrapper


def page(template: str, status: int = 200, **context: Any) -> Any:
    account = g.get("account")
    branding = links.brand(account["workspace"]) if account else {"workspace": None}
    if not account:
        g.style_hashes = []
    return render_template(template, account=account, **branding, **context), status


def limited(exc: TooManyRequests, template: str, **context: Any) -> Any:
    body, status = page(template, 429, error=exc.message, **context)
    return body, status, {"Retry-After": str(exc.retry_after)}


# -- signing in -----------------------------------------------------------------------
@bp.get("/portal/sign-in")
def sign_in() -> Any:
    if current_account() is not None:
        return redirect(url_for("accounts.dashboard"), code=303)
    return page("portal/sign_in.html", form={})


@bp.post("/portal/sign-in")
def send_sign_in() -> Any:
    address = request.form.get("email", "").strip()
    try:
        identity().request_sign_in({"email": address}, client_ip())
    except InvalidInput as exc:
        return page("portal/sign_in.html", 422, errors=exc.fields, form={"email": address})
    except TooManyRequests as exc:
        return limited(exc, "portal/sign_in.html", form={"email": address})
    # The same page whether or not the address has access.
    return page("portal/sign_in_code.html", email=address, errors={})


@bp.post("/portal/sign-in/code")
def sign_in_with_code() -> Any:
    address = request.form.get("email", "").strip()
    code = "".join(request.form.get("code", "").split())
    try:
        signed = identity().sign_in_with_code({"email": address, "code": code}, client_ip())
    except InvalidInput as exc:
        return page("portal/sign_in_code.html", 422, email=address, errors=exc.fields)
    except Unauthorized as exc:
        return page("portal/sign_in_code.html", 401, email=address, errors={"code": exc.message})
    except TooManyRequests as exc:
        return limited(exc, "portal/sign_in_code.html", email=address, errors={})
    return set_session(redirect(return_path(url_for("accounts.dashboard")), code=303), signed["session"])


@bp.get("/portal/sign-in/<token>")
def sign_in_link(token: str) -> Any:
    """The emailed link shows a button and changes nothing: scanners and previews open
    links; only the person's click (a POST) signs in."""
    try:
        link = identity().check_sign_in_link(token)
    except Unauthorized as exc:
        return page("portal/sign_in.html", 410, error=exc.message, form={})
    return page("portal/sign_in_link.html", link=link)


@bp.post("/portal/sign-in/<token>")
def use_sign_in_link(token: str) -> Any:
    try:
        signed = identity().sign_in_with_link(token, client_ip())
    except Unauthorized as exc:
        return page("portal/sign_in.html", 410, error=exc.message, form={})
    except TooManyRequests as exc:
        return limited(exc, "portal/sign_in.html", form={})
    return set_session(redirect(return_path(url_for("accounts.dashboard")), code=303), signed["session"])


@bp.post("/portal/sign-in/password")
def sign_in_with_password() -> Any:
    address = request.form.get("email", "").strip()
    try:
        signed = identity().sign_in_with_password(
                          {"email": address, "password": request.form.get("password", "")}, client_ip())
    except InvalidInput as exc:
        return page("portal/sign_in.html", 422, errors=exc.fields, form={"email": address})
    except Unauthorized as exc:
        return page("portal/sign_in.html", 401, error=exc.message, form={"email": address})
    except TooManyRequests as exc:
        return limited(exc, "portal/sign_in.html", form={"email": address})
    if signed["must_change_password"]:  # their own password first; the page asked for after
        return set_session(redirect(url_for("accounts.choose_password"), code=303), signed["session"])
    return set_session(redirect(return_path(url_for("accounts.dashboard")), code=303), signed["session"])


@bp.get("/portal/forgot-password")
def forgot_password() -> Any:
    return page("portal/forgot_password.html", form={}, errors={})


@bp.post("/portal/forgot-password")
def send_password_reset() -> Any:
    address = request.form.get("email", "").strip()
    try:
        identity().request_password_reset({"email": address}, client_ip())
    except InvalidInput as exc:
        return page("portal/forgot_password.html", 422, errors=exc.fields, form={"email": address})
    except TooManyRequests as exc:
        return limited(exc, "portal/forgot_password.html", form={"email": address}, errors={})
    return page("portal/message.html", title=_("Check your email"),
                message=_("If %(address)s has an account, we have emailed it a link to choose a new "
                          "password. The link works once, for 15 minutes.", address=address))


@bp.get("/portal/reset-password/<token>")
def reset_password(token: str) -> Any:
    try:
        link = identity().check_reset_link(token)
    except Unauthorized as exc:
        return page("portal/forgot_password.html", 410, error=exc.message, form={}, errors={})
    return page("portal/choose_password.html", link=link, errors={}, ask_current=False)


@bp.post("/portal/reset-password/<token>")
def use_reset_link(token: str) -> Any:
    new, problems = _new_password()
    if problems:
        return page("portal/choose_password.html", 422, errors=problems, ask_current=False, link=None)
    try:
        signed = identity().reset_password(token, {"new_password": new}, client_ip())
    except InvalidInput as exc:
        return page("portal/choose_password.html", 422, errors=_password_fields(exc),
                     ask_current=False, link=None)
    except Unauthorized as exc:
        return page("portal/forgot_password.html", 410, error=exc.message, form={}, errors={})
    except TooManyRequests as exc:  # identity is busy hashing; the link still works
        return limited(exc, "portal/choose_password.html", errors={}, ask_current=False, link=None)
    return set_session(redirect(return_path(url_for("accounts.dashboard")), code=303), signed["session"])


def _new_password() -> tuple[str, dict[str, str]]:
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return new, {"confirm_password": _("The two passwords are not the same.")}
    return new, {}


def _password_fields(exc: InvalidInput) -> dict[str, str]:
    # identity names the field it checked ``password``; on the form it is the new one.
    fields = exc.fields
    if "password" in fields:
        fields["new_password"] = fields.pop("password")
    return fields


@bp.route("/portal/choose-password", methods=["GET", "POST"])
@signed_in
def choose_password() -> Any:
    """Where a contact signed in with a temporary password must go first."""
    if request.method == "GET":
        return page("portal/choose_password.html", errors={}, ask_current=False, link=None)
    return _change_password("portal/choose_password.html", ask_current=False,
                            done=lambda: return_path(url_for("accounts.dashboard")))


def _change_password(template: str, *, ask_current: bool, done: Callable[[], str]) -> Any:
    """Change the signed-in contact's password, then go where ``done()`` says."""
    new, problems = _new_password()
    if problems:
        return page(template, 422, errors=problems, ask_current=ask_current, link=None)
    try:
        identity().change_password(request.cookies.get(cookie_name()),
                 {"current_password": request.form.get("current_password") or None, "new_password": new,
                  "code": request.form.get("code", "").strip() or None})
    except InvalidInput as exc:
        return page(template, 422, errors=_password_fields(exc), ask_current=ask_current, link=None)
    except TooManyRequests as exc:  # identity is busy hashing; nothing was changed
        return limited(exc, template, errors={}, ask_current=ask_current, link=None)
    forget_account()
    return redirect(done(), code=303)


@bp.get("/portal/profile")
@signed_in
def profile() -> Any:
    return page("portal/profile.html", errors={}, changed=request.args.get("changed"))


@bp.post("/portal/profile/phone")
@signed_in
def change_phone() -> Any:
    try:
        identity().change_phone(request.cookies.get(cookie_name()), {"phone": request.form.get("phone")})
    except InvalidInput as exc:
        return page("portal/profile.html", 422, errors=exc.fields, changed=None)
    forget_account()
    return redirect(url_for("accounts.profile", changed="phone"), code=303)


@bp.post("/portal/profile/password-code")
@signed_in
def email_password_code() -> Any:
    """A contact without a password asks for the emailed code that setting one needs."""
    try:
        identity().email_password_code(request.cookies.get(cookie_name()))
    except Conflict:  # they have one already (set on another device meanwhile)
        return redirect(url_for("accounts.profile"), code=303)
    return redirect(url_for("accounts.profile", changed="code"), code=303)


@bp.post("/portal/profile/password")
@signed_in
def change_password() -> Any:
    return _change_password("portal/profile.html", ask_current=True,
                            done=lambda: url_for("accounts.profile", changed="password"))


@bp.post("/portal/profile/language")
@signed_in
def change_language() -> Any:
    """A signed-in contact's choice of language, from the switcher at the foot of every
    page: saved on their profile (identity), so their emails follow it, and remembered
    in this browser for after they sign out."""
    chosen = request.form.get("language", "")
    if not i18n.shipped(chosen):
        return language.not_shipped()
    identity().change_language(request.cookies.get(cookie_name()), {"language": chosen})
    forget_account()
    return language.remember(redirect(language.back(request.form.get("next")), code=303), chosen)


@bp.post("/portal/sign-out")
def sign_out() -> Any:
    raw = request.cookies.get(cookie_name())
    if raw:
        identity().sign_out(raw, request.form.get("everywhere") == "yes")
        forget_account()
    return clear_session(redirect(url_for("accounts.sign_in"), code=303))


# -- the signed-in pages ----------------------------------------------------------------
def _records() -> dict[str, Any]:
    return reads(current_app).customer_records(g.account)


# The lists the overview shows, each cut to its first few lines with a link to the section:
# its heading, what an empty list says, the link to all of it (translated where shown).
DASHBOARD_SECTIONS = (("estimates", N_("Estimates"), N_("No estimates yet."), N_("All estimates")),
                      ("service_reports", N_("Service reports"), N_("No service reports yet."),
                       N_("All service reports")),
                      ("work_orders", N_("Work orders"), N_("No work orders yet."), N_("All work orders")))
DASHBOARD_LINES = 5
# The active projects the overview shows, the most recently active first.
DASHBOARD_PROJECTS = 3


@bp.get("/portal")
@signed_in
def dashboard() -> Any:
    records = _records()
    # Each card: what it counts (the page says it in a sentence agreeing with the count),
    # how many, and the list it opens.
    cards = [
        ("estimates", sum(1 for e in records.get("estimates", []) if e["awaiting"]),
         url_for("sections.section", section="estimates", status="sent")),
        ("service_reports", sum(1 for r in records["service_reports"] if r["awaiting"]),
         url_for("sections.section", section="service-reports", status="awaiting_signature")),
        ("work_orders", sum(1 for w in records["work_orders"] if w["open"]),
         url_for("sections.section", section="work-orders")),
    ]
    if "estimates" not in records:  # a member: estimates carry money, so they are not shown
        cards = cards[1:]
    shown = [s for s in DASHBOARD_SECTIONS if s[0] in records]
    # Projects are seen through a share, by every contact (hours are not money).
    active = reads(current_app).customer_projects(
        g.account, {"status": "active", "limit": str(DASHBOARD_PROJECTS)})
    # What the customer is asked for, in the projects shared with them.
    open_requests = reads(current_app).customer_information_requests(
        g.account, {"tab": "open", "limit": "1"})["counts"]["open"]
    return page("portal/dashboard.html", records=records, cards=cards, sections=shown,
                dashboard_lines=DASHBOARD_LINES, active_projects=active, open_requests=open_requests)


def _grant(entity_type: str, record_id: str) -> dict[str, Any]:
    """What the signed-in contact may do with one of their customer's records, decided by
    documents from the session's capability (a member gets no estimate at all); another
    customer's record is the 404 page. The record is then read and answered on the same
    capability."""
    account = g.account
    grant = documents().customer_record_grant(account["capability"], entity_type, record_id)
    return {**grant, "contact_id": account["contact"]["id"], "capability": account["capability"]}


@bp.get("/portal/work-orders/<work_order_id>")
@signed_in
def work_order(work_order_id: str) -> Any:
    grant = _grant("work_order", work_order_id)
    return page("portal/work_order.html", wo=reads(current_app).work_order(grant))


@bp.get("/portal/estimates/<estimate_id>")
@signed_in
def estimate(estimate_id: str) -> Any:
    return links.estimate_page(_grant("estimate", estimate_id), links.chosen_options(), account=g.account)


@bp.post("/portal/estimates/<estimate_id>")
@signed_in
def answer_estimate(estimate_id: str) -> Any:
    """The same answer as by link — the same evidence, races and outcomes."""
    return links.answer_estimate(_grant("estimate", estimate_id),
                                 url_for("accounts.estimate", estimate_id=estimate_id), account=g.account)


@bp.get("/portal/service-reports/<report_id>")
@signed_in
def service_report(report_id: str) -> Any:
    return links.report_page(_grant("service_report", report_id), account=g.account)


@bp.post("/portal/service-reports/<report_id>")
@signed_in
def sign_service_report(report_id: str) -> Any:
    return links.sign_report(_grant("service_report", report_id),
                             url_for("accounts.service_report", report_id=report_id), account=g.account)
