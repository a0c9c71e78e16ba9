"""Who a request is signed in as: the session cookie and identity's answer for it.

The cookie holds a random id; identity keeps only its hash. ``current_account`` reads the
answer from the portal's memory (``reads.PortalReads.session``), which drops it the moment
identity announces a sign-out, a password set, a role changed or access removed, and
asks identity again; so an ended session or a removed contact is refused at its next
request on every replica, as soon as the event has arrived (milliseconds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from flask import current_app, request, session

from gateway.portal.calls import services
from gateway.portal.reads import reads
from porchlight.contracts.callers.portal import Identity
from porchlight.contracts.errors import Unauthorized
from porchlight.contracts.portal_paths import ACCOUNT_PATHS
from porchlight.runtime import request_context
from porchlight.runtime.settings import get_settings

PLAIN_COOKIE = "porchlight_session"
# On HTTPS the cookie is __Host- prefixed: Secure, no Domain, Path=/ — no subdomain or
# plain-HTTP page can set or shadow it. Plain HTTP is for localhost only.
SECURE_COOKIE = "__Host-porchlight_session"
# Where Flask-WTF keeps the form token in Flask's (signed) session cookie.
CSRF_FIELD = "csrf_token"
# The page a signed-out visitor asked for, to go on to once signed in: only a section or a
# record of the account (an emailed link), never an address from elsewhere.
RETURN_FIELD = "after_sign_in"
_SECTIONS = "|".join(re.escape(path.rsplit("/", 1)[0]) for path in ACCOUNT_PATHS.values())
RETURNABLE = re.compile(f"^(?:{_SECTIONS})(?:/[0-9a-f]{{24}})?$")


def remember_return() -> None:
    """Keep the page being asked for (in the signed session cookie) when it is one to come
    back to after signing in."""
    if request.method == "GET" and RETURNABLE.fullmatch(request.path):
        session[RETURN_FIELD] = request.path


def return_path(default: str) -> str:
    """Where a new session goes: the page remembered before signing in, once, else ``default``."""
    wanted = session.pop(RETURN_FIELD, None)
    return wanted if isinstance(wanted, str) and RETURNABLE.fullmatch(wanted) else default


def identity() -> Identity:
    """identity's calls; each from a form that carries its one-time key (``form_key``) is
    made under that key, so the same form sent twice acts once."""
    return cast(Identity, _UnderFormKey(services().identity))


class _UnderFormKey:
    def __init__(self, calls: Any) -> None:
        self._calls = calls

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self._calls, method)

        def under_key(*args: Any) -> Any:
            key = request.form.get("form_key") if request.method == "POST" else None
            with request_context.command(key):  # a key that is not sane is dropped, never sent
                return call(*args)

        return under_key


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def cookie_name() -> str:
    return SECURE_COOKIE if _secure() else PLAIN_COOKIE


def set_session(response: Any, raw: str) -> Any:
    # A new account, a new CSRF token: one planted before sign-in is worth nothing after.
    session.pop(CSRF_FIELD, None)
    max_age = int(timedelta(days=get_settings().portal_session_max_days).total_seconds())
    response.set_cookie(cookie_name(), raw, max_age=max_age, secure=_secure(), httponly=True,
                        samesite="Lax", path="/")
    return response


def clear_session(response: Any) -> Any:
    response.delete_cookie(cookie_name(), path="/", secure=_secure(), httponly=True, samesite="Lax")
    return response


def current_account() -> dict[str, Any] | None:
    """Who this request's cookie signs in, asked of identity; ``None`` if nobody."""
    raw = request.cookies.get(cookie_name())
    if not raw:
        return None
    try:
        return reads(current_app).session(raw)
    except Unauthorized:
        return None


def forget_account() -> None:
    """This request changed or ended its own session: this process asks identity again at
    the next request, without waiting for the event every process hears."""
    raw = request.cookies.get(cookie_name())
    if raw:
        reads(current_app).forget_session(raw)
