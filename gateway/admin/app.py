"""The staff-facing JSON API. A bearer API key names the workspace; every call is
scoped to it, and another workspace's ids answer 404 exactly like ids that never existed.

This gateway only translates HTTP to RPC and back: it checks each request against its
contract (``porchlight.contracts``), and every rule about the data — does the customer
exist, may this link be minted, which currency applies — is the owning service's.

Each area of the API is a module of its own (``workspace``, ``customers``, ``contacts``,
``work_orders``, ``share_links``, ``estimates``, ``service_reports``, ``projects``,
``information_requests``, ``share_grants``,
``evidence``, ``notifications``) with its own blueprint, nested here under ``/api/v1``. This module
authenticates every call, serves the OpenAPI document and answers errors in one shape.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway.admin import (
    contacts,
    customers,
    estimates,
    evidence,
    information_requests,
    notifications,
    projects,
    service_reports,
    share_grants,
    share_links,
    work_orders,
    workspace,
)
from gateway.admin.common import rpc
from gateway.admin.openapi import document
from gateway.admin.operations import Api, BadBody, IdConverter
from gateway.web import configure, install_security_headers, status_for
from porchlight.client import ServiceUnavailable
from porchlight.contracts.common import Health
from porchlight.contracts.errors import InvalidInput, PorchlightError, TooManyRequests, Unauthorized

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
api = Api(blueprint)
# The areas, in the order the OpenAPI document describes them.
AREAS = (workspace, customers, contacts, work_orders, share_links, estimates, service_reports, projects,
         information_requests,
         share_grants,
         evidence, notifications)
for area in AREAS:
    api.nest(area.api)


def error(status: int, code: str, message: str, fields: dict | None = None) -> Any:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


@blueprint.before_request
def authenticate() -> Any:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your staff API key as 'Authorization: Bearer <key>'.")
    with rpc() as services:
        who = services.identity.authenticate_api_key(key.strip())
    g.workspace_id = who["workspace_id"]
    g.actor = f"api_key:{who['api_key_id']}"
    return None


INFO = {
    "title": "Porchlight staff API",
    "description": "Manage one workspace — its branding, customers, work orders, estimates, "
    "service reports, projects and share links — and read the evidence of customers' answers. The "
    "API key names the workspace; records of other workspaces answer 404. Errors are JSON "
    "`{\"error\": {\"code\", \"message\", \"fields\"}}`.",
}
TAGS = [
    {"name": "workspace", "description": "Your business as customers see it on the portal."},
    {"name": "customers", "description": "The people and companies you work for."},
    {"name": "contacts", "description": "The customers' people who sign in to the portal."},
    {"name": "work orders", "description": "Jobs, with the status customers follow."},
    {"name": "estimates", "description": "Priced offers customers accept or decline."},
    {"name": "service reports", "description": "What was done, with photos, signed by the customer."},
    {"name": "projects", "description": "Weeks of work for a customer, with the hours logged and the tasks."},
    {"name": "information requests", "description": "What a project asks its customer for, item by item, "
                                                    "and the answers."},
    {"name": "share grants", "description": "What a customer sees of a project, at which level, and the "
                                            "audit of every change."},
    {"name": "evidence", "description": "The record behind every answer and signature."},
    {"name": "share links", "description": "Links that open a record in the portal."},
    {"name": "inbox", "description": "Customers' answers, signatures and comments for staff to look at."},
    {"name": "emails", "description": "What Porchlight emailed customers and the office, and how it went."},
    {"name": "meta", "description": "About the API itself."},
]
BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "plk_...",
          "description": "A staff API key (plk_...) sent as `Authorization: Bearer <key>`."}
_TEXT = {"schema": {"type": "string"}}
META_PATHS = {
    "/api/v1/openapi.json": {"get": {
        "operationId": "getOpenApiDocument", "tags": ["meta"], "summary": "This description",
        "description": "The OpenAPI document of this API. Needs no API key.", "security": [],
        "responses": {"200": {"description": "An OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/healthz": {"get": {
        "operationId": "healthCheck", "tags": ["meta"], "summary": "Liveness check",
        "description": "Answers while the gateway process runs; it does not call the services.",
        "security": [],
        "responses": {"200": {"description": "The gateway is up.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    # Probes for the orchestrator (gateway/ops.py): plain text, the same on every process.
    "/livez": {"get": {
        "operationId": "liveness", "tags": ["meta"], "summary": "Liveness probe",
        "description": "Answers while the gateway process serves requests.", "security": [],
        "responses": {"200": {"description": "`ok`", "content": {"text/plain": _TEXT}}}}},
    "/readyz": {"get": {
        "operationId": "readiness", "tags": ["meta"], "summary": "Readiness probe",
        "description": "Whether the gateway is connected to the message broker, so it can reach the "
                       "services.", "security": [],
        "responses": {
            "200": {"description": "`ok`", "content": {"text/plain": _TEXT}},
            "503": {"description": "One line per failed check.", "content": {"text/plain": _TEXT}}}}},
}


@blueprint.get("/openapi.json")
def openapi() -> Any:
    return document(api, request.host_url.rstrip("/"), info=INFO, tags=TAGS, security_scheme=BEARER,
                    extra_paths=META_PATHS, extra_models=(Health,))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # An attachment may be 5 MB; multipart framing adds a little.
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    configure(app, test_config)
    app.url_map.converters["id"] = IdConverter  # before the rules that use it are bound
    app.register_blueprint(blueprint)
    install_security_headers(app)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.errorhandler(PorchlightError)
    def service_error(exc: PorchlightError) -> Any:
        fields = exc.fields if isinstance(exc, InvalidInput) else None
        response = error(status_for(exc), exc.code, exc.message, fields)
        if isinstance(exc, Unauthorized):
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="porchlight"'
        if response[1] == 503:
            response[0].headers["Retry-After"] = "10"
        if isinstance(exc, TooManyRequests):
            response[0].headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(BadBody)
    def bad_body(_exc: Exception) -> Any:
        return error(400, "bad_request", "The request body must be a JSON object "
                     "(send Content-Type: application/json).")

    @app.errorhandler(ServiceUnavailable)
    def unavailable(exc: Exception) -> Any:
        current_app.logger.warning("service unavailable: %s", exc)
        response = error(503, "unavailable", "A Porchlight service is not answering; try again shortly.")
        response[0].headers["Retry-After"] = "10"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        response, status = error(exc.code or 500, code, exc.description or exc.name)
        # Keep what the exception says about itself: a 405 names the methods it allows.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    return app
