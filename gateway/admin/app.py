"""The staff-facing JSON API. A bearer API key names the workspace; every call is
scoped to it, and another workspace's ids answer 404 exactly like ids that never existed."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway.admin.openapi import openapi_document
from gateway.web import configure, install_security_headers, rpc_pool, status_for
from porchlight import share_tokens
from porchlight.errors import InvalidInput, NotFound, PorchlightError, Unauthorized
from porchlight.rpc import ServiceUnavailable

api = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, fields: dict | None = None) -> Any:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def body() -> dict[str, Any]:
    """The JSON object sent with the request; anything else is a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadBody()
    return data


class BadBody(Exception):
    pass


def rpc() -> Any:
    return rpc_pool(current_app).proxy()


@api.before_request
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


def ensure_customer(services: Any, data: dict[str, Any]) -> None:
    """A record may only point at a customer of the same workspace. (A customer_id that
    is not text is left to the service's own field validation.)"""
    customer_id = data.get("customer_id")
    if not isinstance(customer_id, str) or not customer_id:
        return
    try:
        services.identity.get_customer(g.workspace_id, customer_id)
    except NotFound:
        raise InvalidInput(
            "Some fields need attention.",
            {"customer_id": "No such customer in this workspace."},
        ) from None


# -- customers ------------------------------------------------------------------------
@api.post("/customers")
def create_customer() -> Any:
    with rpc() as services:
        return services.identity.create_customer(g.workspace_id, g.actor, body()), 201


@api.get("/customers")
def list_customers() -> Any:
    with rpc() as services:
        return {"customers": services.identity.list_customers(g.workspace_id)}


@api.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> Any:
    with rpc() as services:
        return services.identity.get_customer(g.workspace_id, customer_id)


# -- work orders ----------------------------------------------------------------------
@api.post("/work-orders")
def create_work_order() -> Any:
    data = body()
    with rpc() as services:
        ensure_customer(services, data)
        return services.documents.create_work_order(g.workspace_id, g.actor, data), 201


@api.get("/work-orders")
def list_work_orders() -> Any:
    with rpc() as services:
        return {"work_orders": services.documents.list_work_orders(
            g.workspace_id, request.args.get("status") or None
        )}


@api.get("/work-orders/<work_order_id>")
def get_work_order(work_order_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_work_order(g.workspace_id, work_order_id)


@api.patch("/work-orders/<work_order_id>")
def update_work_order(work_order_id: str) -> Any:
    data = body()
    with rpc() as services:
        services.documents.get_work_order(g.workspace_id, work_order_id)
        ensure_customer(services, data)
        return services.documents.update_work_order(g.workspace_id, g.actor, work_order_id, data)


# -- share tokens ---------------------------------------------------------------------
def minted(result: dict[str, Any]) -> dict[str, Any]:
    share = result["share_token"]
    return {
        "token": result["token"],
        "url": share_tokens.portal_url(
            current_app.config["PORTAL_BASE_URL"], share["entity"]["type"], result["token"]
        ),
        "share_token": share,
    }


@api.post("/share-tokens")
def mint_share_token() -> Any:
    data = body()
    entity = data.get("entity")
    if not isinstance(entity, dict):
        raise InvalidInput(
            "Some fields need attention.",
            {"entity": 'Must be an object like {"type": "work_order", "id": "..."}.'},
        )
    unknown = set(data) - {"entity", "permissions", "expires_at"}
    if unknown:
        raise InvalidInput("Some fields need attention.", {k: "Unknown field." for k in unknown})
    payload = {
        "entity_type": entity.get("type"),
        "entity_id": entity.get("id"),
        "permissions": data.get("permissions", ["view"]),
        "expires_at": data.get("expires_at"),
    }
    with rpc() as services:
        if payload["entity_type"] in share_tokens.ENTITY_TYPES and isinstance(payload["entity_id"], str):
            services.documents.entity_exists(g.workspace_id, payload["entity_type"], payload["entity_id"])
        try:
            result = services.sharing.mint_token(g.workspace_id, g.actor, payload)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {
                {"entity_type": "entity.type", "entity_id": "entity.id"}.get(k, k): v
                for k, v in exc.fields.items()
            }) from None
    return minted(result), 201


@api.get("/share-tokens")
def list_share_tokens() -> Any:
    entity_type = request.args.get("entity_type", "")
    entity_id = request.args.get("entity_id", "")
    problems = {}
    if entity_type not in share_tokens.ENTITY_TYPES:
        problems["entity_type"] = "Must be one of: " + ", ".join(share_tokens.ENTITY_TYPES) + "."
    if not entity_id:
        problems["entity_id"] = "This field is required."
    if problems:
        raise InvalidInput("Some query parameters need attention.", problems)
    with rpc() as services:
        services.documents.entity_exists(g.workspace_id, entity_type, entity_id)
        return {"share_tokens": services.sharing.list_tokens(g.workspace_id, entity_type, entity_id)}


@api.post("/share-tokens/<token_id>/revoke")
def revoke_share_token(token_id: str) -> Any:
    with rpc() as services:
        return services.sharing.revoke_token(g.workspace_id, g.actor, token_id)


@api.post("/share-tokens/<token_id>/rotate")
def rotate_share_token(token_id: str) -> Any:
    with rpc() as services:
        return minted(services.sharing.rotate_token(g.workspace_id, g.actor, token_id)), 201


# -- estimates ------------------------------------------------------------------------
def workspace_defaults(services: Any) -> dict[str, str]:
    """The workspace's currency and time zone, which estimates are priced and dated in."""
    workspace = services.identity.get_workspace(g.workspace_id)
    return {"currency": workspace["currency"], "timezone": workspace["timezone"]}


def mint_link(services: Any, entity_type: str, entity_id: str, permissions: list[str]) -> dict[str, Any]:
    """A new link for the customer that replaces (revokes) the earlier ones we sent them."""
    return minted(services.sharing.replace_token(g.workspace_id, g.actor, {
        "entity_type": entity_type, "entity_id": entity_id, "permissions": permissions,
    }))


@api.post("/estimates")
def create_estimate() -> Any:
    data = body()
    with rpc() as services:
        ensure_customer(services, data)
        return services.documents.create_estimate(
            g.workspace_id, g.actor, data, workspace_defaults(services)), 201


@api.get("/estimates")
def list_estimates() -> Any:
    with rpc() as services:
        status = request.args.get("status") or None
        return {"estimates": services.documents.list_estimates(g.workspace_id, status)}


@api.get("/estimates/<estimate_id>")
def get_estimate(estimate_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_estimate(g.workspace_id, estimate_id)


@api.patch("/estimates/<estimate_id>")
def update_estimate(estimate_id: str) -> Any:
    data = body()
    with rpc() as services:
        services.documents.get_estimate(g.workspace_id, estimate_id)
        ensure_customer(services, data)
        return services.documents.update_estimate(
            g.workspace_id, g.actor, estimate_id, data, workspace_defaults(services))


@api.post("/estimates/<estimate_id>/send")
def send_estimate(estimate_id: str) -> Any:
    """Mark the estimate sent and mint a link the customer can view and answer with.
    Each call mints a fresh link and revokes the one sent before."""
    with rpc() as services:
        estimate = services.documents.send_estimate(g.workspace_id, g.actor, estimate_id)
        link = mint_link(services, "estimate", estimate_id, ["view", "respond"])
    return {"estimate": estimate, **link}, 201


@api.post("/estimates/<estimate_id>/convert")
def convert_estimate(estimate_id: str) -> Any:
    with rpc() as services:
        work_order = services.documents.convert_estimate(g.workspace_id, g.actor, estimate_id)
        return {"work_order": work_order,
                "estimate": services.documents.get_estimate(g.workspace_id, estimate_id)}


# -- service reports ------------------------------------------------------------------
@api.post("/service-reports")
def create_service_report() -> Any:
    with rpc() as services:
        return services.documents.create_service_report(g.workspace_id, g.actor, body()), 201


@api.get("/service-reports")
def list_service_reports() -> Any:
    with rpc() as services:
        return {"service_reports": services.documents.list_service_reports(
            g.workspace_id, request.args.get("work_order_id") or None)}


@api.get("/service-reports/<report_id>")
def get_service_report(report_id: str) -> Any:
    with rpc() as services:
        return services.documents.get_service_report(g.workspace_id, report_id)


@api.patch("/service-reports/<report_id>")
def update_service_report(report_id: str) -> Any:
    data = body()
    with rpc() as services:
        return services.documents.update_service_report(g.workspace_id, g.actor, report_id, data)


@api.post("/service-reports/<report_id>/attachments")
def add_attachment(report_id: str) -> Any:
    """Upload one photo or PDF as multipart/form-data (field ``file``)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Some fields need attention.",
                           {"file": "Send the file as multipart/form-data in the field 'file'."})
    content = upload.read()
    data = {
        "filename": (upload.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file",
        "content_type": upload.mimetype,
        "content_b64": base64.b64encode(content).decode("ascii"),
    }
    with rpc() as services:
        return services.documents.add_attachment(g.workspace_id, g.actor, report_id, data), 201


@api.post("/service-reports/<report_id>/complete")
def complete_service_report(report_id: str) -> Any:
    """The appointment is done: the report awaits the customer's signature, and a link
    they can view and sign with is minted."""
    with rpc() as services:
        report = services.documents.complete_service_report(g.workspace_id, g.actor, report_id)
        link = mint_link(services, "service_report", report_id, ["view", "sign"])
    return {"service_report": report, **link}, 201


@api.get("/service-reports/<report_id>/pdf")
def service_report_pdf(report_id: str) -> Any:
    with rpc() as services:
        pdf = services.documents.get_signed_pdf(g.workspace_id, report_id)
    return Response(base64.b64decode(pdf["content_b64"]), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{pdf["filename"]}"',
        "X-Content-SHA256": pdf["sha256"],
    })


# -- evidence -------------------------------------------------------------------------
@api.get("/evidence/<certificate_id>")
def get_evidence(certificate_id: str) -> Any:
    """Everything recorded when a customer answered or signed: for disputes."""
    with rpc() as services:
        return services.signatures.get_evidence(g.workspace_id, certificate_id)


@api.get("/openapi.json")
def openapi() -> Any:
    return openapi_document(request.host_url.rstrip("/"))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # An attachment may be 5 MB; multipart framing adds a little.
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    configure(app, test_config)
    app.register_blueprint(api)
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
        return error(exc.code or 500, code, exc.description or exc.name)

    return app
