"""The language a portal page is written in, and the switcher that changes it.

Who decides, first to last: a signed-in contact's own choice (saved on their profile, so
their emails follow it) → the language chosen with the switcher in this browser (a
cookie; a visitor's choice, or a contact's before they signed in) → a signed-in
contact's customer's ``preferred_language``; on a shared link's page, its record's
customer's → the browser's ``Accept-Language`` → the language of the workspace's
locale → English. A choice someone made beats what was said for them.

Numbers and dates are then written in the workspace's locale when it is of that language
(en-US for an English reader of a US business), else as the language's own country
writes them (``porchlight.runtime.formatting.locale_for``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request

from porchlight.contracts import share_tokens
from porchlight.contracts.languages import LANGUAGES, SOURCE_LANGUAGE
from porchlight.runtime import formatting, i18n

bp = Blueprint("language", __name__)
COOKIE = "porchlight_language"
REMEMBERED_FOR = 365 * 24 * 3600


def current() -> str:
    """This request's language, decided once (after the page knows its account and
    workspace: ``g.account``, ``g.workspace``)."""
    if "language" not in g:
        g.language = _choose()
    return str(g.language)


def _choose() -> str:
    account = g.get("account")
    # A choice someone made beats what was said for them; a link's page is read by its
    # record's customer.
    for said in ((account or {}).get("contact", {}).get("language"), request.cookies.get(COOKIE),
                 (account or {}).get("customer", {}).get("preferred_language"), g.get("customer_language")):
        if i18n.shipped(said):
            return str(said)
    asked = browser_language(request.accept_languages)
    if asked:
        return asked
    workspace = g.get("workspace") or (account or {}).get("workspace") or {}
    return i18n.language_for(None, workspace.get("locale"))


def browser_language(accepted: Iterable[tuple[str, float]]) -> str | None:
    """The first language the browser asks for, by its weight, that Porchlight is written
    in — by its first subtag, so "de-CH" is German, ahead of a "fr" it weighs less."""
    for tag, weight in sorted(accepted, key=lambda pair: -pair[1]):
        language = tag.split("-", 1)[0].split("_", 1)[0].lower()
        if weight > 0 and i18n.shipped(language):
            return language
    return None


def _(message: str, **values: Any) -> str:
    """``message`` in this request's language (``make catalogs`` finds each ``_("…")``)."""
    return i18n.translator(current())(message, **values)


def translate(text: str | None) -> str:
    """A message a service sent (in English), in this request's language."""
    return i18n.translate(current(), text)


def reader_locale(context: Any) -> str:
    """The locale a page's numbers and dates are written in: its language, in the
    workspace's locale when that is of the same language."""
    workspace = context.get("workspace") or {}
    return formatting.locale_for(context.get("language") or SOURCE_LANGUAGE, workspace.get("locale"))


def install(app: Flask) -> None:
    """Every page knows its language (``language``, and ``languages`` for the switcher)
    and writes its words in it."""
    i18n.install(app.jinja_env, lambda context: context.get("language"))

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"language": current(), "languages": LANGUAGES}

    # A page whose address is a secret (a share link, a sign-in link) never writes it
    # down, so its switcher cannot name where to come back to: it asks for the same
    # address again with ?language= (``chosen_here``).
    app.jinja_env.tests["secret_address"] = lambda path: share_tokens.redact(str(path)) != str(path)
    app.before_request(chosen_here)


def back(target: str | None) -> str:
    """Where the switcher sends the visitor back: a path of this portal, nothing else."""
    parts = urlsplit(target or "")
    # "/\\host" is "//host" to a browser: another site.
    if (parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//")
            or "\\" in parts.path):
        return "/portal/sign-in"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def chosen_here() -> Any:
    """The switcher of a page that does not write its own address (a share or sign-in
    link, the one not-found page) asks for that address again with ``?language=``, the
    browser filling the address in: the choice is remembered as ``choose`` remembers it,
    then the page is shown again at its own address. Only the portal's own page may
    choose (``Sec-Fetch-Site`` same-origin, or none for a typed address, as a POST must
    be); a link from elsewhere carrying ``?language=`` changes nothing."""
    if request.method != "GET" or "language" not in request.args:
        return None
    language = request.args.get("language", "")
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "language"]
    response = redirect(back(quote(request.path) + (f"?{urlencode(kept)}" if kept else "")), code=303)
    if i18n.shipped(language) and request.headers.get("Sec-Fetch-Site", "none") in ("same-origin", "none"):
        remember(response, language)
    return response


@bp.post("/portal/language")
def choose() -> Any:
    """A visitor's choice of language, remembered in a cookie for a year. It changes
    nothing but how pages read, so it needs no form token: the same-origin check every
    POST passes keeps other sites from making it (``app.install_same_origin_posts``). A
    signed-in contact's choice is saved on their profile instead
    (``accounts.change_language``)."""
    language = request.form.get("language", "")
    if not i18n.shipped(language):
        return not_shipped()
    return remember(redirect(back(request.form.get("next")), code=303), language)


def remember(response: Response, language: str) -> Response:
    """The visitor's language, kept in a cookie for a year (a signed-in contact's is kept
    on their profile too, and theirs wins)."""
    response.set_cookie(COOKIE, language, max_age=REMEMBERED_FOR, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def not_shipped() -> Any:
    """The answer to a language the portal is not written in (only a hand-made form
    sends one): 422, naming those it is."""
    g.setdefault("style_hashes", [])
    return render_template("portal/message.html", title=_("That language is not available"),
                           message=_("The portal is written in %(languages)s.",
                                     languages=", ".join(LANGUAGES.values()))), 422
