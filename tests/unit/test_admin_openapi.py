"""The admin API's OpenAPI document as generated from the operations: complete, valid,
and served without a key. (Whether the API keeps what it promises is schemathesis's job:
tests/e2e/test_api_contract.py.)"""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from gateway.admin.app import create_app


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})


@pytest.fixture(scope="module")
def doc(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_is_a_valid_openapi_31_document(doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_route_of_the_app_is_described(app, doc):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes.update((path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"})
    described = {(path, method) for path, item in doc["paths"].items() for method in item
                 if method != "parameters"}
    assert routes == described


def test_every_operation_answers_401_and_503_unless_public(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            public = op.get("security") == []
            assert public or {"401", "503"} <= set(op["responses"]), (method, path)


def test_business_rules_are_written_where_json_schema_cannot_say_them(doc):
    create_estimate = doc["paths"]["/api/v1/estimates"]["post"]["description"]
    assert "today or later" in create_estimate and "customer" in create_estimate
    assert "Identity requires an email" in doc["paths"]["/api/v1/customers"]["post"]["description"]


def test_a_405_names_the_allowed_methods(app):
    response = app.test_client().delete("/api/v1/customers")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.json["error"]["code"] == "method_not_allowed"


def test_the_workspace_can_be_read_and_changed(doc):
    item = doc["paths"]["/api/v1/workspace"]
    assert item["get"]["operationId"] == "getWorkspace"
    patch = item["patch"]
    assert patch["operationId"] == "updateWorkspace"
    assert {"401", "404", "422"} <= set(patch["responses"])
    assert patch["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Workspace"}
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    fields = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(fields["properties"]) == {"name", "currency", "timezone", "brand_colour",
                                         "notification_addresses", "sender_name", "reply_to"}
    assert not fields.get("required")  # a partial update
    addresses = fields["properties"]["notification_addresses"]
    assert addresses["maxItems"] == 10 and addresses["items"]["maxLength"] == 254
