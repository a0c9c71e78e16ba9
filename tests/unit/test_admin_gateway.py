"""The admin gateway alone, without a broker: the services are faked in-process, each
call held against the real service's RPC signature (tests/fakes/services.py). What is
tested here is the gateway's own work — authentication, checking requests against their
contracts before anything is sent, and turning the services' answers and errors into
HTTP."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest

from gateway.admin.app import create_app
from porchlight.client import ServiceUnavailable
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, Unauthorized, Unavailable
from tests.fakes.services import FakeServices, rpc_method

WS, KEY_ID = "a" * 24, "b" * 24
KEY = {"Authorization": "Bearer plk_test"}


def who(raw_key):
    return {"workspace_id": WS, "api_key_id": KEY_ID}


@pytest.fixture
def fake():
    return FakeServices({"identity.authenticate_api_key": who})


@pytest.fixture
def client(fake):
    app = create_app({"TESTING": True, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                      "PORTAL_BASE_URL": "http://portal.test"})
    app.extensions["porchlight_amqp"] = fake
    return app.test_client()


def raising(exc):
    def answer(*_args, **_kwargs):
        raise exc
    return answer


def test_the_fake_refuses_what_the_real_service_would():
    fake = FakeServices({"documents.get_work_order": lambda ws, wo: {}})
    with pytest.raises(TypeError):
        fake.call("documents", "get_work_order", WS)  # one argument short
    with pytest.raises(AssertionError):
        rpc_method("documents", "drop_everything")
    with pytest.raises(AssertionError):
        FakeServices({"documents.no_such_method": lambda: None})


def test_a_bad_body_is_refused_before_any_service_hears_of_it(client, fake):
    response = client.post("/api/v1/work-orders", json={"title": "", "status": "done", "vip": 1},
                           headers=KEY)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"title", "status", "vip"}
    assert [name for name, _, _ in fake.calls] == ["identity.authenticate_api_key"]


@pytest.mark.parametrize("query", ["status=", "status=finished", "status=NEW"])
def test_a_bad_query_is_422(client, fake, query):
    response = client.get(f"/api/v1/work-orders?{query}", headers=KEY)
    assert response.status_code == 422 and "status" in response.json["error"]["fields"]
    assert not fake.called("documents.list_work_orders")


def test_what_the_service_receives_is_the_checked_body(client, fake):
    fake.answer("documents.update_work_order", lambda ws, actor, wo_id, data: {"sent": data})
    response = client.patch(f"/api/v1/work-orders/{'c' * 24}", headers=KEY,
                            json={"title": "  Boiler  ", "location": "  "})
    assert response.status_code == 200
    assert response.json == {"sent": {"title": "Boiler", "location": None}}
    assert fake.called("documents.update_work_order")[0][:3] == (WS, f"api_key:{KEY_ID}", "c" * 24)


@pytest.mark.parametrize("exc, status, code", [
    (NotFound("No such work order."), 404, "not_found"),
    (Conflict("A completed work order is final."), 409, "conflict"),
    (InvalidInput("Some fields need attention.", {"customer_id": "No such customer."}), 422, "invalid"),
    (Unavailable("Try again."), 503, "unavailable"),
    (ServiceUnavailable("timed out"), 503, "unavailable"),
])
def test_service_errors_become_one_status_each(client, fake, exc, status, code):
    fake.answer("documents.get_work_order", raising(exc))
    response = client.get(f"/api/v1/work-orders/{'c' * 24}", headers=KEY)
    assert response.status_code == status and response.json["error"]["code"] == code
    if status == 503:
        assert response.headers["Retry-After"] == "10"


def test_a_broken_key_is_401_and_names_the_scheme(client, fake):
    fake.answer("identity.authenticate_api_key", raising(Unauthorized("Invalid API key.")))
    response = client.get("/api/v1/customers", headers=KEY)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_link_errors_name_the_fields_of_the_body(client, fake):
    fake.answer("documents.share_record", raising(InvalidInput(
        "Some fields need attention.", {"entity.id": "No such record in this workspace."})))
    response = client.post("/api/v1/share-tokens", headers=KEY,
                           json={"entity": {"type": "work_order", "id": "c" * 24}})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"entity.id": "No such record in this workspace."}


@pytest.mark.parametrize("filename, fallback", [
    ("SR-0001-signed.pdf", "SR-0001-signed.pdf"),
    ("Zoë-signed.pdf", "Zo_-signed.pdf"),
    ("報告-signed.pdf", "__-signed.pdf"),
])
def test_signed_pdf_downloads_under_its_own_name(client, fake, filename, fallback):
    content = b"%PDF-1.7 test"
    fake.answer("documents.get_signed_pdf", lambda ws, report_id: {
        "filename": filename, "sha256": "0" * 64, "content_b64": base64.b64encode(content).decode()})
    response = client.get(f"/api/v1/service-reports/{'c' * 24}/pdf", headers=KEY)
    assert response.status_code == 200 and response.data == content
    disposition = response.headers["Content-Disposition"]
    assert f'filename="{fallback}"' in disposition
    disposition.encode("latin-1")  # a header must be Latin-1; the exact name travels as filename*
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == filename
