"""The staff API's OpenAPI 3.1 document, written from its declared operations
(``gateway.admin.operations``): each operation's path, parameters, body, answers and
errors, with the schemas of its contract models.

What there is to assemble is small: pydantic writes every schema; this module writes the
paths, and the error answers every operation shares.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.admin.operations import JSON, KEY_RULE, Api, Operation, Schema
from porchlight.contracts.common import ErrorBody
from porchlight.runtime import request_context

REF = "#/components/schemas/{model}"

ERRORS: dict[int, str] = {
    400: "The request body is not a JSON object (send Content-Type: application/json).",
    401: "The Authorization header is missing, or the API key is unknown or revoked.",
    404: "No such record in this workspace; another workspace's ids answer the same way.",
    409: "The request is valid but the record's state forbids it.",
    413: "The request body is larger than the gateway accepts.",
    422: "Some fields need attention; `fields` names each one with a message.",
    429: "A limit was reached; the message says which, and `Retry-After` when to try again.",
    503: "A Porchlight service is not answering; retry after the `Retry-After` delay.",
}
ERROR_HEADERS: dict[int, Schema] = {
    401: {"WWW-Authenticate": {"description": 'Always `Bearer realm="porchlight"`.',
                               "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds until the limit lets the request through.",
                          "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying.",
                          "schema": {"type": "integer"}}},
}
ID_SCHEMA: Schema = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
IDEMPOTENCY_PARAMETER: Schema = {
    "name": request_context.COMMAND_HTTP_HEADER, "in": "header", "required": False,
    "description": "Makes the request safe to retry: the same key with the same request within "
                   "24 hours has one effect and answers what the first answered (its status and "
                   "body). The same key with a different request is 422; while the first is still "
                   "running, 409. An answer holding a secret shown once (a link's token, a "
                   f"temporary password) is not kept: its retry is 409. {KEY_RULE}",
    "schema": {"type": "string", "pattern": f"^[A-Za-z0-9._:-]{{1,{request_context.MAX_LENGTH}}}$"},
}
PATH_PARAMETERS: dict[str, tuple[str, Schema]] = {
    "customer_id": ("The customer's id.", ID_SCHEMA),
    "work_order_id": ("The work order's id.", ID_SCHEMA),
    "token_id": ("The share link's id (not the token itself).", ID_SCHEMA),
    "estimate_id": ("The estimate's id.", ID_SCHEMA),
    "report_id": ("The service report's id.", ID_SCHEMA),
    "item_id": ("The item's id: an inbox item's, or an item of an information request.", ID_SCHEMA),
    "email_id": ("The email's id (from the outbox).", ID_SCHEMA),
    "contact_id": ("The portal contact's id.", ID_SCHEMA),
    "project_id": ("The project's id.", ID_SCHEMA),
    "grant_id": ("The share's id.", ID_SCHEMA),
    "file_id": ("The file's id.", ID_SCHEMA),
    "comment_id": ("The comment's id.", ID_SCHEMA),
    "entry_id": ("The time entry's id.", ID_SCHEMA),
    "task_id": ("The task's id.", ID_SCHEMA),
    "request_id": ("The information request's id.", ID_SCHEMA),
    "certificate_id": ("The certificate id, as printed on signed PDFs.",
                       {"type": "string", "pattern": "^cert_[0-9a-f]{32}$"}),
}



def document(api: Api, server_url: str, *, info: Schema, tags: list[Schema], security_scheme: Schema,
             extra_paths: dict[str, Schema], extra_models: tuple[type[BaseModel], ...] = ()) -> Schema:
    """The document of every operation ``api`` serves, in the order they were declared,
    then ``extra_paths`` (routes declared elsewhere)."""
    routes = list(api.routes())
    models = {ErrorBody, *extra_models}
    for _, op in routes:
        models.update(m for m in (op.body, op.reply) if m is not None)
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template=REF)
    schemas = {name: tidy(schema) for name, schema in defs.get("$defs", {}).items()}
    paths: dict[str, Schema] = {}
    for rule, op in routes:
        entry = paths.setdefault(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule), {})
        params = [_path_parameter(name) for name in _path_names(op.rule)]
        if params:
            entry["parameters"] = params
        entry[op.method.lower()] = _describe(op)
    paths.update(extra_paths)
    return {
        "openapi": "3.1.0",
        "info": {**info, "version": _package_version()},
        "servers": [{"url": server_url}],
        "tags": tags,
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": security_scheme},
            "schemas": schemas,
            "responses": {str(status): _error_response(status) for status in ERRORS},
        },
    }


def _describe(op: Operation) -> Schema:
    described: Schema = {"operationId": op.operation_id, "tags": [op.tag], "summary": op.summary,
                         "description": op.description}
    if op.query is not None:
        described["parameters"] = _query_parameters(op.query)
    if op.retryable:
        described["parameters"] = [*described.get("parameters", []), IDEMPOTENCY_PARAMETER]
    if op.body is not None:
        described["requestBody"] = {"required": not op.optional_body,
                                    "content": {JSON: {"schema": _ref(op.body)}}}
    elif op.upload is not None:
        described["requestBody"] = {"required": not op.optional_body, "content": _upload(op.upload)}
    if op.public:
        described["security"] = []
    schema = op.reply_schema if op.reply_schema is not None else _ref(op.reply)
    ok: Schema = {"description": op.summary + ".", "content": {op.media: {"schema": schema}}}
    if op.reply_headers:
        ok["headers"] = op.reply_headers
    if op.links:
        ok["links"] = {target: {"operationId": target, "parameters": {
            name: f"$response.body#{pointer}" for name, pointer in params.items()}}
            for target, params in op.links.items()}
    described["responses"] = {str(op.status): ok}
    for status in op.statuses:
        response = {"$ref": f"#/components/responses/{status}"}
        if status in op.notes:
            response = {**_error_response(status), "description": op.notes[status]}
        described["responses"][str(status)] = response
    return described


def _upload(rules: str) -> Schema:
    """A file sent as multipart/form-data in the field ``file``."""
    return {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": rules}}},
    }}


def _ref(model: type[BaseModel] | None) -> Schema:
    assert model is not None
    return {"$ref": REF.format(model=model.__name__)}


def _path_names(rule: str) -> list[str]:
    return [part[1:-1].split(":")[-1] for part in rule.split("/") if part.startswith("<")]


def _path_parameter(name: str) -> Schema:
    description, schema = PATH_PARAMETERS[name]
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _query_parameters(model: type[BaseModel]) -> list[Schema]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = tidy(prop)
        param: Schema = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append(param)
    return params


def _error_response(status: int) -> Schema:
    example = {"error": {"code": "invalid" if status == 422 else "error", "message": ERRORS[status],
                         "fields": {"title": "This field is required."} if status == 422 else {}}}
    response: Schema = {"description": ERRORS[status],
                        "content": {JSON: {"schema": _ref(ErrorBody), "example": example}}}
    if status in ERROR_HEADERS:
        response["headers"] = ERROR_HEADERS[status]
    return response


def _allows_null(schema: Schema) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", []))


def tidy(schema: Any) -> Any:
    """Drop pydantic's generated titles, and ``default: null`` on fields that cannot be
    null (a PATCH field that is simply left out)."""
    if isinstance(schema, list):
        return [tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties":
            cleaned[key] = {name: tidy(prop) for name, prop in value.items()}
        else:
            cleaned[key] = tidy(value)
    if "default" in cleaned and cleaned["default"] is None and not _allows_null(cleaned):
        del cleaned["default"]
    return cleaned


def _package_version() -> str:
    try:
        return version("porchlight")
    except PackageNotFoundError:
        return "0.0.0"
