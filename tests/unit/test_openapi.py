"""The staff API's OpenAPI document covers every route of the app, and nothing else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from gateway.admin.app import create_app
from gateway.admin.openapi import (
    ID_PATTERN,
    NUMBER_PATTERN,
    PHONE_PATTERN,
    TOKEN_PATTERN,
    openapi_document,
)
from porchlight import share_tokens, validation
from services.documents import service as documents_service

SERVER = "http://localhost"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"TESTING": True})


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_document(SERVER)


def app_operations(app: Flask) -> set[tuple[str, str]]:
    """(path, method) for every rule under /api/v1, plus /healthz, in OpenAPI spelling."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in IGNORED_METHODS:
                found.add((path, method.lower()))
    return found


def doc_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_route_is_documented_and_nothing_else(app: Flask, doc: dict[str, Any]) -> None:
    in_app, in_doc = app_operations(app), doc_operations(doc)
    assert ("/api/v1/openapi.json", "get") in in_app
    assert in_app - in_doc == set(), "routes missing from gateway/admin/openapi.py"
    assert in_doc - in_app == set(), "documented operations the app does not serve"


def test_version_and_servers(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": SERVER}]


def test_every_path_parameter_is_declared(doc: dict[str, Any]) -> None:
    for path, method, op in operations(doc):
        declared = {
            p["name"]: p
            for p in [*doc["paths"][path].get("parameters", []), *op.get("parameters", [])]
            if p["in"] == "path"
        }
        in_template = set(re.findall(r"{([^}]+)}", path))
        assert set(declared) == in_template, (path, method)
        assert all(p["required"] is True for p in declared.values()), (path, method)


def resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = doc
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, pointer
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    found = refs(doc)
    assert found
    for pointer in found:
        resolve(doc, pointer)


def test_operations_are_described_and_secured(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, op in operations(doc):
        assert op["summary"] and op["description"], (path, method)
        public = path in ("/api/v1/openapi.json", "/healthz")
        assert (op.get("security") == []) is public, (path, method)
        if not public:
            assert {"401", "503"} <= set(op["responses"]), (path, method)
        if "requestBody" in op:
            assert "400" in op["responses"], (path, method)


def test_enumerations_come_from_the_code(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["WorkOrder"]["properties"]["status"]["enum"] == list(
        documents_service.STATUSES
    )
    entity = schemas["ShareTokenInput"]["properties"]["entity"]["properties"]["type"]
    assert entity["enum"] == list(share_tokens.ENTITY_TYPES)
    permissions = schemas["ShareTokenInput"]["properties"]["permissions"]["items"]
    assert permissions["enum"] == list(share_tokens.PERMISSIONS)


def test_patterns_match_the_validation_code() -> None:
    assert ID_PATTERN == validation._OBJECT_ID.pattern
    assert PHONE_PATTERN == validation._PHONE.pattern
    assert NUMBER_PATTERN == documents_service._NUMBER.pattern
    assert re.match(TOKEN_PATTERN, share_tokens.mint("work_order"))


def test_served_without_an_api_key(app: Flask, doc: dict[str, Any]) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == doc


def test_is_a_valid_openapi_document(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
