"""The gateways' /livez, /readyz and request metrics, on Flask's test client."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.admin.app import create_app as create_admin
from gateway.portal.app import create_app as create_portal

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/"


def config(amqp_uri: str) -> dict[str, Any]:
    return {"TESTING": True, "AMQP_URI": amqp_uri, "RPC_TIMEOUT": 1, "SECRET_KEY": "test-secret",
            "PORTAL_BASE_URL": "http://portal.test"}


@pytest.fixture(params=[create_portal, create_admin], ids=["portal", "admin"])
def make_app(request: pytest.FixtureRequest) -> Any:
    made = []

    def make(amqp_uri: str) -> Any:
        app = request.param(config(amqp_uri))
        made.append(app)
        return app

    yield make
    for app in made:
        if "porchlight_amqp" in app.extensions:
            app.extensions["porchlight_amqp"].close()


def test_not_ready_while_the_amqp_client_cannot_connect(make_app):
    client = make_app(UNREACHABLE).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.text == "broker: the AMQP client is not connected to the message broker\n"
    assert client.get("/livez").status_code == 200
    assert client.get("/healthz").status_code == 200  # still the liveness it always was


def test_ready_once_connected(make_app, broker_uri):
    app = make_app(broker_uri)
    ready = app.test_client().get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ok\n")
    assert app.extensions["porchlight_amqp"].connected
    assert REGISTRY.get_sample_value("porchlight_amqp_connected", {"component": app.name.split(".")[1]}) == 1


def count(**labels: str) -> float:
    return REGISTRY.get_sample_value("porchlight_http_requests_total", labels) or 0.0


def test_requests_are_counted_by_route_rule_never_by_path():
    app = create_portal(config(UNREACHABLE))
    token = "wo_" + "ab" * 20
    labels = {"gateway": "portal", "method": "GET", "route": "/portal/fsm/<token>", "status": "404"}
    before = count(**labels)
    # A malformed token is refused before any service is asked.
    assert app.test_client().get(f"/portal/fsm/{'x' * 12}").status_code == 404
    assert count(**labels) == before + 1
    unmatched = {"gateway": "portal", "method": "GET", "route": "unmatched", "status": "404"}
    before_unmatched = count(**unmatched)
    app.test_client().get(f"/no/such/{token}")
    assert count(**unmatched) == before_unmatched + 1
    # No label value anywhere holds the path a customer opened.
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            assert not any(token in value or "x" * 12 in value for value in sample.labels.values())
