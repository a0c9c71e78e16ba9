"""The customer portal: HTML pages behind share links.

Every check happens here and in the services on every request: the token is parsed
strictly before any RPC, resolved (with its expiry, revocation, entity type and
permission) by the sharing service, and the record is read scoped to the token's
workspace. Every refusal renders the same 404 page.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, current_app, g, render_template

from gateway.web import (
    WorkspaceCache,
    configure,
    install_security_headers,
    rpc_pool,
    style_hash,
)
from porchlight import share_tokens
from porchlight.clock import parse_iso
from porchlight.errors import NotFound
from porchlight.rpc import ServiceUnavailable

bp = Blueprint("portal", __name__)


def brand(workspace: dict[str, Any]) -> dict[str, Any]:
    """The page header for a workspace; its colour rule is allowed by hash in the CSP."""
    css = ":root{--brand:" + workspace["brand_colour"] + "}"
    g.style_hashes = [style_hash(css)]
    return {"workspace": workspace, "brand_css": css}


def resolve(raw: str, entity_type: str, permission: str = "view") -> dict[str, Any]:
    """The grant a token gives, or the 404 page for anything that is not a live token
    of this entity type (malformed tokens never reach a service)."""
    if share_tokens.entity_type_of(raw) != entity_type:
        abort(404)
    return rpc_pool(current_app).call("sharing", "resolve_token", raw, entity_type, permission)


@bp.get("/portal/fsm/<token>")
def work_order(token: str) -> Any:
    grant = resolve(token, "work_order")
    pool = rpc_pool(current_app)
    with pool.proxy() as rpc:
        wo = rpc.documents.get_work_order_for_customer(grant["workspace_id"], grant["entity_id"])
    workspace = current_app.extensions["workspaces"].get(pool, grant["workspace_id"])
    return render_template("portal/work_order.html", wo=wo, **brand(workspace))


@bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


def local_time(value: str | None, timezone: str) -> str:
    if not value:
        return ""
    moment = parse_iso(value).astimezone(ZoneInfo(timezone))
    return moment.strftime("%-d %B %Y, %H:%M ") + (moment.tzname() or "")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    configure(app, test_config)
    app.extensions["workspaces"] = WorkspaceCache(ttl=float(app.config.get("WORKSPACE_CACHE_SECONDS", 30)))
    app.jinja_env.filters["local_time"] = local_time
    app.register_blueprint(bp)
    install_security_headers(app)

    # One page for every kind of "not here": same bytes whatever the reason.
    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(_exc: Exception) -> Any:
        g.style_hashes = []
        return render_template("portal/not_found.html"), 404

    @app.errorhandler(ServiceUnavailable)
    def unavailable(exc: Exception) -> Any:
        current_app.logger.warning("service unavailable: %s", exc)
        g.style_hashes = []
        return render_template("portal/unavailable.html"), 503, {"Retry-After": "10"}

    @app.errorhandler(405)
    def method_not_allowed(_exc: Exception) -> Any:
        g.style_hashes = []
        return render_template("portal/not_found.html"), 405

    return app
