"""The customer portal: HTML pages behind share links, and public signature verification.

Every check happens on every request: the token is parsed strictly before anything else;
its grant (entity type, permission, expiry) comes from the process's read model, kept
current by sharing's events, or from sharing itself; expiry is compared with the clock;
records are read scoped to the token's workspace. Answers are decided by the owning
service. Every refusal renders the same 404 page.
"""

from __future__ import annotations

import functools
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from gateway.portal import language
from gateway.portal.language import _
from gateway.portal.plain_text import plain_text
from gateway.web import configure, install_security_headers
from porchlight.client import ServiceUnavailable
from porchlight.contracts.errors import Forbidden, NotFound, TooManyRequests, Unavailable
from porchlight.contracts.words import N_
from porchlight.runtime import formatting, request_context

log = logging.getLogger(__name__)

# CommonMark without raw HTML or images: staff write notes, customers read them, and
# nothing a note contains can run in the customer's browser or call a third party.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


@functools.lru_cache(maxsize=1024)
def render_markdown(text: str | None) -> Markup:
    """Notes as HTML; a page served from memory renders the same notes again and again,
    so the last thousand renderings are kept (a third of the estimate page's CPU)."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes all HTML


FILTERS = formatting.jinja_filters(language.reader_locale)


CROSS_SITE = N_("This form must be sent from the portal's own page.")


def install_same_origin_posts(app: Flask) -> None:
    """Every POST must come from the portal's own pages, checked on what the browser says
    and a page cannot forge: ``Sec-Fetch-Site`` (same-origin, or none for a typed address)
    and ``Origin`` (this host, or the configured portal address; ``null`` says nothing). A
    client that sends neither (curl, the tests' client) is left to the CSRF token, which
    every form carries."""
    configured = urlsplit(str(app.config.get("PORTAL_BASE_URL", ""))).netloc.lower()

    @app.before_request
    def _same_origin() -> Any:
        if request.method != "POST":
            return None
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return _refuse_cross_site(f"Sec-Fetch-Site {site}")
        # "null" is what a browser sends under our own Referrer-Policy: no-referrer; it says
        # nothing either way, so Sec-Fetch-Site and the token decide.
        origin = request.headers.get("Origin")
        if origin is not None and origin != "null":
            host = urlsplit(origin).netloc.lower()
            if host not in (request.host.lower(), configured):
                return _refuse_cross_site(f"Origin {host}")
        return None


def _refuse_cross_site(what: str) -> Any:
    log.warning("a POST to %s from another site was refused (%s)", request.path, what)
    g.style_hashes = []
    return render_template("portal/cross_site.html", message=CROSS_SITE), 403


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="porchlight_portal",
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session cookie
        WTF_CSRF_SSL_STRICT=False,  # Referer is never sent (no-referrer): origin is checked by SameSite
    )
    configure(app, test_config)
    key = str(app.config.get("SECRET_KEY") or "")
    if key and (key.startswith("CHANGE-ME") or len(key) < 32) and not app.config.get("TESTING"):
        raise RuntimeError("PORCHLIGHT_SECRET_KEY is a placeholder or shorter than 32 characters; "
                           "set it to a long random value (it signs CSRF cookies and file links).")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("PORCHLIGHT_SECRET_KEY is not set: using a random key; forms posted to "
                    "another gateway process will be refused. Set it in production.")
    https = app.config["PORTAL_BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = https
    if https:  # the cookie with the form token: no subdomain or plain-HTTP page can plant one
        app.config["SESSION_COOKIE_NAME"] = "__Host-porchlight_portal"
    app.jinja_env.filters.update(markdown=render_markdown, plain_text=plain_text, **FILTERS)
    # Each form that asks for a command carries a one-time key: sent twice, it acts once.
    app.jinja_env.globals["form_key"] = request_context.new_form_key
    csrf = CSRFProtect(app)
    # The page's report that it is shown carries a signed ticket that only the page holds —
    # a per-page secret, as a form's token is — and changes nothing but a count: a session
    # cookie for a token would cost every link page a cookie (gateway.portal.links.seen).
    csrf.exempt("gateway.portal.links.seen")
    # A visitor's choice of language changes how pages read, nothing else
    # (gateway.portal.language.choose).
    csrf.exempt("gateway.portal.language.choose")
    # An answer to an information request may carry 25 MB of files, more than the bound above:
    # its view raises the bound for itself, then checks the form's token
    # (gateway.portal.information_requests.answer_item).
    csrf.exempt("gateway.portal.information_requests.answer_item")
    language.install(app)

    from gateway.portal.accounts import bp as accounts
    from gateway.portal.accounts import page
    from gateway.portal.information_requests import bp as information_requests
    from gateway.portal.links import bp as links
    from gateway.portal.projects import bp as projects
    from gateway.portal.sections import bp as sections
    from gateway.portal.team import bp as team
    from gateway.portal.verify import bp as verify

    app.register_blueprint(links)
    app.register_blueprint(verify)
    app.register_blueprint(accounts)
    app.register_blueprint(team)
    app.register_blueprint(sections)
    app.register_blueprint(projects)
    app.register_blueprint(information_requests)
    app.register_blueprint(language.bp)
    install_security_headers(app, hsts=https)
    install_same_origin_posts(app)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    # One page for every kind of "not here": same bytes whatever the reason.
    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(_exc: Exception) -> Any:
        g.style_hashes = []
        return render_template("portal/not_found.html"), 404

    @app.errorhandler(ServiceUnavailable)
    @app.errorhandler(Unavailable)
    def unavailable(exc: Exception) -> Any:
        current_app.logger.warning("service unavailable: %s", exc)
        g.style_hashes = []
        # An answer sent when a service went silent may have landed all the same.
        return (render_template("portal/unavailable.html", answering=request.method == "POST"), 503,
                {"Retry-After": "10"})

    @app.errorhandler(TooManyRequests)
    def too_many(exc: TooManyRequests) -> Any:
        g.style_hashes = []
        return (render_template("portal/message.html", title=_("Please wait a moment"), message=exc.message),
                429, {"Retry-After": str(exc.retry_after)})

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> Any:
        return page("portal/message.html", 403, title=_("Not for your role"), message=exc.message)

    @app.errorhandler(405)
    def method_not_allowed(exc: HTTPException) -> Any:
        g.style_hashes = []
        allowed = dict(exc.get_headers()).get("Allow", "")
        return render_template("portal/not_found.html"), 405, {"Allow": allowed}

    @app.errorhandler(CSRFError)
    def csrf_failed(_exc: Exception) -> Any:
        g.style_hashes = []
        return render_template("portal/expired_form.html"), 400

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Any:
        g.style_hashes = []
        return render_template("portal/message.html", title=_("That file is too large"),
                               message=_("Files up to 12 MB can be checked here.")), 413

    return app
