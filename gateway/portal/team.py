"""The owners' team page: who of their company can sign in, adding and inviting a
teammate, changing a role, removing access.

Identity decides everything — who is acting (from the session cookie it is given, never
a contact id from the page), that they are an owner, that the teammate is of their
company, and that the company keeps an owner. This module turns its answers into pages:
a member who finds the address gets the 403 page saying only owners manage the team.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from gateway.portal.accounts import limited, page, signed_in
from gateway.portal.language import _
from gateway.portal.session import clear_session, cookie_name, forget_account, identity
from porchlight.contracts.errors import Conflict, InvalidInput, TooManyRequests
from porchlight.contracts.words import N_

bp = Blueprint("team", __name__)

# What the page says after each change (translated where shown).
DONE = {
    "added": N_("Invitation sent. It works for 3 days."),
    "invited": N_("A new invitation is on its way; the earlier one no longer works."),
    "role": N_("Role changed."),
    "removed": N_("Access removed. They were signed out everywhere."),
}


def _team(method: str, *args: Any) -> Any:
    return getattr(identity(), method)(request.cookies.get(cookie_name()), *args)


def _context(*, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
             cursor: str | None = None) -> dict[str, Any]:
    """The page's context: the team from its first page, or from ``cursor`` ("Show more",
    people by name, 25 a page)."""
    team = _team("list_team", {"cursor": cursor} if cursor else {})  # a member: Forbidden, the 403 page
    return {"contacts": team["contacts"], "next_cursor": team["next_cursor"], "paged": bool(cursor),
            "form": form or {}, "errors": errors or {}, "done": DONE.get(request.args.get("done", ""))}


def _team_page(status: int = 200, *, error: str | None = None, **context: Any) -> Any:
    return page("portal/team.html", status, error=error, **_context(**context))


def _limited(exc: TooManyRequests, **context: Any) -> Any:
    return limited(exc, "portal/team.html", **_context(**context))


@bp.get("/portal/team")
@signed_in
def team() -> Any:
    try:
        return _team_page(cursor=request.args.get("cursor") or None)
    except InvalidInput:  # a cursor that is not this list's: the first page, said so
        return _team_page(422, error=_("That page of your team does not exist; here it is from the start."))


@bp.post("/portal/team")
@signed_in
def add_member() -> Any:
    form = {key: request.form.get(key, "").strip() for key in ("name", "email", "role")}
    try:
        _team("add_team_member", {**form, "role": form["role"] or "member"})
    except InvalidInput as exc:
        return _team_page(422, form=form, errors=exc.fields, error=exc.message)
    except Conflict as exc:
        return _team_page(409, form=form, errors={"email": exc.message}, error=exc.message)
    except TooManyRequests as exc:
        return _limited(exc, form=form)
    return redirect(url_for("team.team", done="added"), code=303)


def _act(method: str, contact_id: str, *args: Any, done: str) -> Any:
    """One change to a teammate; the team page again, saying what happened or why not."""
    try:
        _team(method, contact_id, *args)
    except Conflict as exc:
        return _team_page(409, error=exc.message)
    except InvalidInput as exc:
        return _team_page(422, error=exc.message)
    except TooManyRequests as exc:
        return _limited(exc)
    if contact_id == g.account["contact"]["id"]:
        forget_account()  # their own role or access changed: asked of identity again
    if done == "removed" and contact_id == g.account["contact"]["id"]:
        # They removed themselves: their sessions have ended, this one with them.
        return clear_session(redirect(url_for("accounts.sign_in"), code=303))
    return redirect(url_for("team.team", done=done), code=303)


@bp.post("/portal/team/<contact_id>/invite")
@signed_in
def invite(contact_id: str) -> Any:
    return _act("invite_team_member", contact_id, done="invited")


@bp.post("/portal/team/<contact_id>/role")
@signed_in
def change_role(contact_id: str) -> Any:
    return _act("change_team_role", contact_id, {"role": request.form.get("role", "")}, done="role")


@bp.post("/portal/team/<contact_id>/remove")
@signed_in
def remove(contact_id: str) -> Any:
    return _act("remove_team_member", contact_id, done="removed")
