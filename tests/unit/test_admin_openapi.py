"""The admin API's OpenAPI document as generated from the operations: complete, valid,
and served without a key. (Whether the API keeps what it promises is schemathesis's job:
tests/e2e/test_api_contract.py.)"""

from __future__ import annotations

import inspect
import re
import typing

import pytest
from flask import Blueprint
from openapi_spec_validator import validate

from gateway.admin.app import create_app
from gateway.admin.operations import PAGED, Api
from porchlight.contracts.paging import PageQuery

# The modules that serve the API's areas: every route of the API but its document is one of theirs.
AREAS = {f"gateway.admin.{name}" for name in (
    "workspace", "customers", "contacts", "work_orders", "share_links", "estimates", "service_reports",
    "projects", "share_grants", "evidence", "notifications", "information_requests")}


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})


@pytest.fixture(scope="module")
def doc(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(app, doc):
    """Each route of the API but the document itself: its view, and the operation that
    the document describes."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield app.view_functions[rule.endpoint], doc["paths"][path][method.lower()]


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
    assert set(fields["properties"]) == {"name", "currency", "timezone", "locale", "brand_colour",
                                         "notification_addresses", "sender_name", "reply_to"}
    assert not fields.get("required")  # a partial update
    addresses = fields["properties"]["notification_addresses"]
    assert addresses["maxItems"] == 10 and addresses["items"]["maxLength"] == 254


def test_every_route_of_the_api_is_served_by_an_area(app, doc):
    modules = {view.__module__ for view, _ in operations(app, doc)}
    assert modules == AREAS  # each area serves a route, and no route is served elsewhere
    assert [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == "api.openapi"] == [
        "/api/v1/openapi.json"]


def test_each_operation_is_summed_up_and_described_by_its_views_docstring(app, doc):
    seen = set()
    for view, op in operations(app, doc):
        summary, _, rest = inspect.cleandoc(view.__doc__ or "").partition("\n")
        told = " ".join(rest.split())
        assert summary and told, view.__name__
        assert op["summary"] == summary, view.__name__
        # What the gateway adds: how a list pages, and what an uploaded file must be.
        described = op["description"].removesuffix(" " + PAGED)
        upload = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if upload is not None:
            rules = upload["schema"]["properties"]["file"]["description"]
            assert " " + rules + " " in described, view.__name__
            described = described.replace(" " + rules, "", 1)
        assert described == told, view.__name__
        seen.add(op["operationId"])
    assert seen == {op["operationId"] for path, item in doc["paths"].items() for op in item.values()
                    if path.startswith("/api/v1/") and "operationId" in op} - {"getOpenApiDocument"}


def test_every_list_and_nothing_else_says_how_it_pages(app, doc):
    lists = set()
    for view, op in operations(app, doc):
        query = typing.get_type_hints(inspect.unwrap(view)).get("query")
        if query is not None and issubclass(query, PageQuery):
            lists.add(op["operationId"])
            assert op["description"].endswith(" " + PAGED), op["operationId"]
            assert op["description"].count(PAGED) == 1, op["operationId"]
        else:
            assert PAGED not in op["description"], op["operationId"]
    assert {"listCustomers", "listContacts", "listWorkOrders", "listEstimates", "listServiceReports",
            "listShareTokens", "listInbox", "listEmails", "listProjects", "listTimeEntries"} <= lists


def test_an_operation_needs_a_docstring_with_a_summary_and_a_description():
    api = Api(Blueprint("undescribed", __name__))

    def summed_up_only() -> None:
        """Do something"""

    def undocumented() -> None:
        pass

    for view in (summed_up_only, undocumented):
        with pytest.raises(TypeError, match="docstring"):
            api.operation("GET", "/" + view.__name__, view.__name__, tag="meta")(view)
    assert api.operations == [] and not api.blueprint.deferred_functions
