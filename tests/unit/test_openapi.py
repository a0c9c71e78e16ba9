"""The staff API's OpenAPI document covers every route of the app, and nothing else."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from gateway.admin.app import create_app
from gateway.admin.openapi import (
    CERTIFICATE_PATTERN,
    CURRENCY_PATTERN,
    DECIMAL_PATTERN,
    ID_PATTERN,
    NUMBER_PATTERN,
    PHONE_PATTERN,
    TOKEN_PATTERN,
    openapi_document,
)
from porchlight import share_tokens, validation
from services.documents import estimates, money, service_reports, work_orders
from services.documents.estimates.models import Estimate, EstimateOutcome, LineItem
from services.documents.estimates.wire import estimate_to_wire
from services.documents.numbering.rules import NUMBER
from services.documents.service_reports.models import Attachment, ServiceReport
from services.documents.service_reports.wire import service_report_to_wire
from services.documents.work_orders.models import WorkOrder
from services.documents.work_orders.wire import work_order_to_wire
from services.signatures import models as signature_models
from services.signatures import repository as signatures_repository
from services.signatures.service import evidence_to_wire

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
        if "application/json" in op.get("requestBody", {}).get("content", {}):
            assert "400" in op["responses"], (path, method)


def test_enumerations_come_from_the_code(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["WorkOrder"]["properties"]["status"]["enum"] == list(
        work_orders.STATUSES
    )
    entity = schemas["ShareTokenInput"]["properties"]["entity"]["properties"]["type"]
    assert entity["enum"] == list(share_tokens.ENTITY_TYPES)
    permissions = schemas["ShareTokenInput"]["properties"]["permissions"]["items"]
    assert permissions["enum"] == list(share_tokens.PERMISSIONS)
    assert schemas["Estimate"]["properties"]["status"]["enum"] == list(estimates.STATUSES)
    assert schemas["ServiceReport"]["properties"]["status"]["enum"] == list(service_reports.STATUSES)
    attachment = schemas["ServiceReport"]["properties"]["attachments"]["items"]
    assert attachment["properties"]["content_type"]["enum"] == list(service_reports.ALLOWED_TYPES)
    assert schemas["Evidence"]["properties"]["kind"]["enum"] == list(signature_models.KINDS)
    assert schemas["Evidence"]["properties"]["entity_type"]["enum"] == list(signature_models.ENTITY_TYPES)
    line = schemas["EstimateInput"]["properties"]["line_items"]
    assert line["maxItems"] == estimates.MAX_LINES


def test_patterns_match_the_validation_code() -> None:
    assert ID_PATTERN == validation._OBJECT_ID.pattern
    assert PHONE_PATTERN == validation._PHONE.pattern
    assert NUMBER_PATTERN == NUMBER.pattern
    assert re.match(TOKEN_PATTERN, share_tokens.mint("work_order"))
    assert CURRENCY_PATTERN == validation._CURRENCY.pattern
    assert DECIMAL_PATTERN == "^" + money._PLAIN_DECIMAL.pattern + "$"
    assert CERTIFICATE_PATTERN == "^" + signatures_repository._CERTIFICATE_ID.pattern + "$"
    assert re.match(CERTIFICATE_PATTERN, signatures_repository.new_certificate_id())


# Where the record's state can refuse the call (409), and where fields are checked (422).
STATEFUL = [
    ("/api/v1/estimates/{estimate_id}", "patch"),
    ("/api/v1/estimates/{estimate_id}/send", "post"),
    ("/api/v1/estimates/{estimate_id}/convert", "post"),
    ("/api/v1/service-reports/{report_id}", "patch"),
    ("/api/v1/service-reports/{report_id}/attachments", "post"),
    ("/api/v1/service-reports/{report_id}/complete", "post"),
]
VALIDATED = [
    ("/api/v1/estimates", "post"),
    ("/api/v1/estimates", "get"),
    ("/api/v1/estimates/{estimate_id}", "patch"),
    ("/api/v1/service-reports", "post"),
    ("/api/v1/service-reports/{report_id}", "patch"),
    ("/api/v1/service-reports/{report_id}/attachments", "post"),
]


@pytest.mark.parametrize(("path", "method"), STATEFUL)
def test_state_refusals_are_conflicts(doc: dict[str, Any], path: str, method: str) -> None:
    assert "409" in doc["paths"][path][method]["responses"]


@pytest.mark.parametrize(("path", "method"), VALIDATED)
def test_field_checks_are_422(doc: dict[str, Any], path: str, method: str) -> None:
    assert "422" in doc["paths"][path][method]["responses"]


def test_attachment_upload_is_multipart(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/service-reports/{report_id}/attachments"]["post"]
    (media, content), = op["requestBody"]["content"].items()
    assert media == "multipart/form-data"
    assert content["schema"]["required"] == ["file"]
    allowed = content["encoding"]["file"]["contentType"].split(", ")
    assert allowed == list(service_reports.ALLOWED_TYPES)
    assert f"{service_reports.MAX_FILE_BYTES} bytes" in op["description"]
    assert {"413", "422"} <= set(op["responses"]) and "400" not in op["responses"]


def test_signed_pdf_is_binary_with_its_digest(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/service-reports/{report_id}/pdf"]["get"]
    assert list(op["responses"]["200"]["content"]) == ["application/pdf"]
    assert "X-Content-SHA256" in op["responses"]["200"]["headers"]
    assert resolve(doc, op["responses"]["404"]["$ref"])["content"]["application/json"]


def properties(doc: dict[str, Any], name: str) -> set[str]:
    return set(doc["components"]["schemas"][name]["properties"])


def test_every_answered_field_is_documented(doc: dict[str, Any]) -> None:
    """The services' wire dicts and the response schemas list the same fields."""
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    work_order = WorkOrder(workspace_id="w", number="WO-0001", title="t", status="new",
                           created_at=now, updated_at=now)
    assert set(work_order_to_wire(work_order)) == properties(doc, "WorkOrder")

    estimate = Estimate(
        workspace_id="w", number="EST-0001", title="t", currency="EUR", valid_until="2026-01-31",
        expires_at=now, status="approved", created_at=now, updated_at=now,
        line_items=[LineItem(id="l1", description="d", quantity="1.5", unit_price_minor=1999,
                             tax_rate="21", optional=False)],
        outcome=EstimateOutcome(response="accept", revision=1, included_optional=[], total_minor=3628,
                                ip="192.0.2.1"),
    )
    wire = estimate_to_wire(estimate)
    assert set(wire) == properties(doc, "Estimate")
    assert set(wire["outcome"]) == properties(doc, "EstimateOutcome")
    assert set(wire["line_items"][0]) == properties(doc, "PricedLine")

    report = ServiceReport(
        workspace_id="w", number="SR-0001", work_order_id="0" * 24, status="draft", created_at=now,
        attachments=[Attachment(file_id="1" * 24, filename="a.png", content_type="image/png", size=9)],
    )
    wire = service_report_to_wire(report, work_order)
    assert set(wire) == properties(doc, "ServiceReport")
    schema = doc["components"]["schemas"]["ServiceReport"]["properties"]
    assert set(wire["attachments"][0]) == set(schema["attachments"]["items"]["properties"])
    assert set(wire["pdf"]) == set(schema["pdf"]["properties"])

    evidence = signature_models.Evidence(
        workspace_id="w", certificate_id=signatures_repository.new_certificate_id(), kind="acceptance",
        entity_type="estimate", entity_id="0" * 24, entity_number="EST-0001", revision=1,
        signer_name="A", snapshot_json="{}", snapshot_sha256="0" * 64, ip="192.0.2.1", signed_at=now,
    )
    assert set(evidence_to_wire(evidence)) == properties(doc, "Evidence")


def test_served_without_an_api_key(app: Flask, doc: dict[str, Any]) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == doc


def test_is_a_valid_openapi_document(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
