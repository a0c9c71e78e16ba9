"""The staff API described as an OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json``.

Enumerations (statuses, languages, entity types, permissions) come from the modules that
enforce them, so the description cannot drift from the code. Lengths and patterns mirror
``porchlight.validation`` and the services' forms; ``tests/unit/test_openapi.py`` checks
that every route of the app is described here and that every ``$ref`` resolves.
"""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from porchlight import share_tokens
from services.documents.work_orders import STATUSES, TRANSITIONS
from services.identity.models import LANGUAGES
from services.identity.repository import API_KEY_PREFIX

Schema = dict[str, Any]

ID_PATTERN = r"^[0-9a-f]{24}$"
PHONE_PATTERN = r"^\+?[0-9 ()./-]{5,30}$"
NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$"
TOKEN_PATTERN = "^(" + "|".join(share_tokens.PREFIXES.values()) + ")_[0-9a-f]{40}$"

# status -> (component name, error code, when it happens); the examples are built from it.
ERRORS: dict[str, tuple[str, str, str]] = {
    "400": ("BadBody", "bad_request",
            "The request body is not a JSON object (send Content-Type: application/json)."),
    "401": ("Unauthorized", "unauthorized",
            "The Authorization header is missing, or the API key is unknown or revoked."),
    "404": ("NotFound", "not_found",
            "No such record in this workspace. Another workspace's ids answer the same way."),
    "409": ("Conflict", "conflict", "The request is valid but the record's state forbids it."),
    "422": ("ValidationFailed", "invalid",
            "Some fields need attention; `fields` names each one with a message."),
    "503": ("Unavailable", "unavailable",
            "A Porchlight service is not answering; retry after the `Retry-After` delay."),
}
ERROR_HEADERS: dict[str, dict[str, Schema]] = {
    "401": {"WWW-Authenticate": {"description": 'Always `Bearer realm="porchlight"`.',
                                 "schema": {"type": "string"}}},
    "503": {"Retry-After": {"description": "Seconds to wait before retrying.",
                            "schema": {"type": "integer"}}},
}


# -- schema helpers ----------------------------------------------------------------------
def ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def text(max_length: int, description: str, **extra: Any) -> Schema:
    return {"type": "string", "maxLength": max_length, "description": description, **extra}


def enum(values: tuple[str, ...] | list[str], description: str, **extra: Any) -> Schema:
    return {"type": "string", "enum": list(values), "description": description, **extra}


def timestamp(description: str, *, null: bool = False) -> Schema:
    schema = {"type": "string", "format": "date-time", "description": description}
    return nullable(schema) if null else schema


def obj(
    properties: dict[str, Schema], required: tuple[str, ...] = (), *, closed: bool = False,
    description: str | None = None,
) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def record(properties: dict[str, Schema], description: str) -> Schema:
    """A response object: every listed field is always present (possibly null)."""
    return obj(properties, tuple(properties), description=description)


def listing(key: str, item: str) -> Schema:
    return obj({key: {"type": "array", "items": ref(item)}}, (key,))


def _choices(table: dict[str, Any], order: tuple[str, ...]) -> str:
    return "; ".join(
        f"{name} → {', '.join(x for x in order if x in table[name]) or 'none (final)'}"
        for name in table
    )


# -- components ---------------------------------------------------------------------------
ID: Schema = {"type": "string", "pattern": ID_PATTERN, "description": "An id from the API."}
WORKSPACE_ID: Schema = {**ID, "description": "The workspace the record belongs to (the API key's)."}
STATUS = enum(STATUSES, "Where the job stands.")
MOVES = "Allowed moves: " + _choices(TRANSITIONS, STATUSES) + "."
ENTITY_TYPE = enum(share_tokens.ENTITY_TYPES, "Kind of record the link opens.")


def work_order_fields(*, patch: bool) -> dict[str, Schema]:
    """The editable fields; in a patch an optional field sent as null or "" is cleared."""
    return {
        "title": text(200, "Short name of the job.", minLength=1),
        "status": {**STATUS, "description": MOVES} if patch else {**STATUS, "default": "new"},
        "description": nullable(text(10_000, "What is to be done; may span lines.")),
        "location": nullable(text(500, "Where the work happens; may span lines.")),
        "customer_id": nullable({**ID, "description": "A customer of the same workspace."}),
        "internal_notes": nullable(text(10_000, "Staff-only notes, never shown to customers.")),
    }


def schemas() -> dict[str, Schema]:
    permissions = {
        "type": "array", "minItems": 1,
        "items": enum(share_tokens.PERMISSIONS, "What the link lets its holder do."),
        "description": "Allowed per entity type: "
        + _choices(share_tokens.ALLOWED_PERMISSIONS, share_tokens.PERMISSIONS) + ".",
    }
    return {
        "Customer": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "name": {"type": "string"},
            "email": nullable({"type": "string", "format": "email"}),
            "phone": nullable({"type": "string"}),
            "preferred_language": enum(LANGUAGES, "Language for messages to the customer."),
            "created_at": timestamp("When the customer was added."),
        }, "A customer of the workspace."),
        "CustomerInput": obj({
            "name": text(160, "Full name or company name.", minLength=1),
            "email": nullable(text(254, "Email address; the domain is lower-cased.",
                                   format="email")),
            "phone": nullable(text(30, "Digits, spaces, +, -, ( and ); at least 5 digits.",
                                   pattern=PHONE_PATTERN)),
            "preferred_language": enum(LANGUAGES, "Language for messages.", default="en"),
        }, ("name",), closed=True,
            description="Text is trimmed. Give an email address or a phone number (or both)."),
        "WorkOrder": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "number": {"type": "string", "description": "Human number, e.g. WO-0001."},
            "title": {"type": "string"},
            "status": STATUS,
            "status_label": {"type": "string", "description": "The status in customer words."},
            "description": nullable({"type": "string"}),
            "location": nullable({"type": "string"}),
            "customer_id": nullable(ID),
            "internal_notes": nullable({"type": "string"}),
            "completed_at": timestamp("When the job was completed.", null=True),
            "created_at": timestamp("When the work order was created."),
            "updated_at": timestamp("When the work order last changed."),
        }, "A job for a customer, as staff see it (internal notes included)."),
        "WorkOrderInput": obj({
            "number": text(32, "Your own number; by default the next WO-nnnn is taken.",
                           pattern=NUMBER_PATTERN),
            **work_order_fields(patch=False),
        }, ("title",), closed=True, description="Text is trimmed."),
        "WorkOrderPatch": obj(
            work_order_fields(patch=True), closed=True,
            description="Only the fields sent change. `title` and `status` cannot be cleared.",
        ),
        "ShareToken": record({
            "id": ID,
            "workspace_id": WORKSPACE_ID,
            "entity": obj({"type": ENTITY_TYPE, "id": ID}, ("type", "id")),
            "last4": {"type": "string", "description": "Last characters of the token."},
            "permissions": permissions,
            "created_at": timestamp("When the link was minted."),
            "created_by": {"type": "string", "description": "Who minted it, e.g. api_key:<id>."},
            "expires_at": timestamp("When the link stops working; null: never.", null=True),
            "revoked_at": timestamp("When the link was revoked.", null=True),
            "rotated_from": nullable({**ID, "description": "The token this one replaced."}),
            "last_accessed_at": timestamp("When the link was last opened.", null=True),
            "access_count": {"type": "integer", "minimum": 0},
        }, "A share link's record. The token itself is never shown again after minting."),
        "ShareTokenInput": obj({
            "entity": obj({"type": ENTITY_TYPE, "id": ID}, ("type", "id")),
            "permissions": {**permissions, "default": ["view"]},
            "expires_at": nullable(text(40, "ISO 8601 with a UTC offset, in the future.",
                                        format="date-time")),
        }, ("entity",), closed=True),
        "MintedShareToken": record({
            "token": {"type": "string", "pattern": TOKEN_PATTERN,
                      "description": "The secret token; shown only in this response."},
            "url": {"type": "string", "format": "uri",
                    "description": "The portal address to send to the customer."},
            "share_token": ref("ShareToken"),
        }, "A freshly minted link."),
        "Error": record({"error": record({
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "message": {"type": "string", "description": "A sentence for a human."},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field name (or query parameter) → what is wrong."},
        }, "What went wrong.")}, "Every error answer has this shape."),
    }


def error_responses() -> dict[str, Schema]:
    responses = {}
    for status, (name, code, description) in ERRORS.items():
        example = {"error": {"code": code, "message": description, "fields": {}}}
        if status == "422":
            example["error"]["fields"] = {"title": "This field is required."}
        response: Schema = {"description": description, "content": {
            "application/json": {"schema": ref("Error"), "example": example}}}
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        responses[name] = response
    return responses


# -- operations ---------------------------------------------------------------------------
def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def path_param(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": ID}


def query_param(name: str, schema: Schema, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def operation(
    operation_id: str, tag: str, summary: str, description: str, ok: tuple[str, str, Schema],
    *, errors: tuple[str, ...] = (), body: str | None = None, params: tuple[Schema, ...] = (),
    public: bool = False,
) -> Schema:
    """One operation; authenticated ones can always answer 401 and 503."""
    status, ok_description, schema = ok
    op: Schema = {"operationId": operation_id, "tags": [tag], "summary": summary,
                  "description": description}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": True, "content": json_content(ref(body))}
        errors = ("400", *errors)
    if public:
        op["security"] = []
    else:
        errors = (*errors, "401", "503")
    op["responses"] = {status: {"description": ok_description, "content": json_content(schema)}}
    op["responses"].update({s: ref(ERRORS[s][0], "responses") for s in sorted(errors)})
    return op


def paths() -> dict[str, Schema]:
    customer = [path_param("customer_id", "The customer's id.")]
    work_order = [path_param("work_order_id", "The work order's id.")]
    token = [path_param("token_id", "The share token's id (not the token itself).")]
    entity_query = (
        query_param("entity_type", ENTITY_TYPE, required=True),
        query_param("entity_id", ID, required=True),
    )
    return {
        "/api/v1/customers": {
            "post": operation(
                "createCustomer", "customers", "Add a customer",
                "Creates a customer in the workspace. It needs an email address or a phone.",
                ("201", "The new customer.", ref("Customer")),
                body="CustomerInput", errors=("422",)),
            "get": operation(
                "listCustomers", "customers", "List customers",
                "The workspace's customers sorted by name, at most 100.",
                ("200", "The customers.", listing("customers", "Customer"))),
        },
        "/api/v1/customers/{customer_id}": {
            "parameters": customer,
            "get": operation(
                "getCustomer", "customers", "Get a customer", "One customer of the workspace.",
                ("200", "The customer.", ref("Customer")), errors=("404",)),
        },
        "/api/v1/work-orders": {
            "post": operation(
                "createWorkOrder", "work orders", "Create a work order",
                "Creates a work order, numbered automatically unless `number` is given. "
                "A number already used in the workspace is a conflict.",
                ("201", "The new work order.", ref("WorkOrder")),
                body="WorkOrderInput", errors=("409", "422")),
            "get": operation(
                "listWorkOrders", "work orders", "List work orders",
                "The workspace's work orders, newest first, at most 100.",
                ("200", "The work orders.", listing("work_orders", "WorkOrder")),
                params=(query_param("status", STATUS),), errors=("422",)),
        },
        "/api/v1/work-orders/{work_order_id}": {
            "parameters": work_order,
            "get": operation(
                "getWorkOrder", "work orders", "Get a work order",
                "One work order, internal notes included.",
                ("200", "The work order.", ref("WorkOrder")), errors=("404",)),
            "patch": operation(
                "updateWorkOrder", "work orders", "Change a work order",
                "Changes only the fields sent. A status change must be an allowed move; "
                "completed and cancelled work orders are final (409).",
                ("200", "The updated work order.", ref("WorkOrder")),
                body="WorkOrderPatch", errors=("404", "409", "422")),
        },
        "/api/v1/share-tokens": {
            "post": operation(
                "mintShareToken", "share tokens", "Mint a share link",
                "Creates a link that opens one record in the customer portal. The token is "
                "returned only here. Links can be minted for work orders only, for now; "
                "other entity types answer 404.",
                ("201", "The token, its portal address and its record.", ref("MintedShareToken")),
                body="ShareTokenInput", errors=("404", "422")),
            "get": operation(
                "listShareTokens", "share tokens", "List a record's share links",
                "Every link minted for one record, newest first, revoked ones included.",
                ("200", "The links.", listing("share_tokens", "ShareToken")),
                params=entity_query, errors=("404", "422")),
        },
        "/api/v1/share-tokens/{token_id}/revoke": {
            "parameters": token,
            "post": operation(
                "revokeShareToken", "share tokens", "Revoke a share link",
                "Stops the link from working. Revoking a revoked link changes nothing.",
                ("200", "The revoked link.", ref("ShareToken")), errors=("404",)),
        },
        "/api/v1/share-tokens/{token_id}/rotate": {
            "parameters": token,
            "post": operation(
                "rotateShareToken", "share tokens", "Replace a share link",
                "Revokes a live link and mints a new one with the same record, permissions "
                "and expiry. A revoked or expired link cannot be rotated (409).",
                ("201", "The replacement link.", ref("MintedShareToken")),
                errors=("404", "409")),
        },
        "/api/v1/openapi.json": {
            "get": operation(
                "getOpenApiDocument", "meta", "This description",
                "The OpenAPI document of this API. Needs no API key.",
                ("200", "An OpenAPI 3.1 document.", {"type": "object"}), public=True),
        },
        "/healthz": {
            "get": operation(
                "healthCheck", "meta", "Liveness check",
                "Answers while the gateway process runs; it does not call the services.",
                ("200", "The gateway is up.", obj({"status": {"const": "ok"}}, ("status",))),
                public=True),
        },
    }


def _package_version() -> str:
    try:
        return version("porchlight")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_document(server_url: str) -> dict[str, Any]:
    """A fresh document each call; the shared fragments are copied so callers may mutate it."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "Porchlight staff API",
            "version": _package_version(),
            "description": "Manage customers, work orders and share links of one workspace. "
            "The API key names the workspace; records of other workspaces answer 404.",
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "customers", "description": "The people and companies you work for."},
            {"name": "work orders", "description": "Jobs, with the status customers follow."},
            {"name": "share tokens", "description": "Links that open a record in the portal."},
            {"name": "meta", "description": "About the API itself."},
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": f"{API_KEY_PREFIX}...",
                "description": f"A staff API key ({API_KEY_PREFIX}...) sent as "
                "`Authorization: Bearer <key>`.",
            }},
            "schemas": schemas(),
            "responses": error_responses(),
        },
    })
