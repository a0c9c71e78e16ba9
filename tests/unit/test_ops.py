"""The ops endpoint's app and the services' metrics provider, without a broker."""

from __future__ import annotations

from typing import Any

import pytest
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.testing.services import entrypoint_hook
from prometheus_client import REGISTRY
from werkzeug.test import Client

from porchlight.client import measured
from porchlight.contracts.errors import NotFound
from porchlight.kit.service_ops import Observed
from porchlight.runtime.ops import ops_app, run_checks
from tests.unit.test_settings import nameko_config_file


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Gauged(Observed):
    """A service with one entrypoint per outcome."""

    name = "gauged"

    @rpc
    def fine(self) -> str:
        return "ok"

    @rpc(expected_exceptions=NotFound)
    def refuses(self) -> None:
        raise NotFound("No such thing.")

    @rpc(expected_exceptions=NotFound)
    def breaks(self) -> None:
        raise ValueError("a bug")

    @event_handler("sharing", "share_token_revoked")
    def on_revoked(self, payload: dict) -> None:
        if payload.get("fail"):
            raise RuntimeError("a bug")


@pytest.fixture
def gauged(container_factory: Any) -> Any:
    # Never started: entrypoint_hook runs a worker through the provider's hooks, no broker needed.
    return container_factory(Gauged, {"AMQP_URI": "memory://", "serializer": "json"})


def rpc_count(method: str, outcome: str) -> float:
    return sample("porchlight_rpc_handled_total", service="gauged", method=method, outcome=outcome)


@pytest.mark.parametrize("method, outcome, raises", [
    ("fine", "ok", None), ("refuses", "expected_error", NotFound), ("breaks", "error", ValueError),
])
def test_a_handled_rpc_counts_under_its_method_and_outcome(gauged, method, outcome, raises):
    before = {o: rpc_count(method, o) for o in ("ok", "expected_error", "error")}
    timed = sample("porchlight_rpc_handled_seconds_count", service="gauged", method=method)
    with entrypoint_hook(gauged, method) as call:
        if raises:
            with pytest.raises(raises):
                call()
        else:
            assert call() == "ok"
    after = {o: rpc_count(method, o) for o in ("ok", "expected_error", "error")}
    assert {o: after[o] - before[o] for o in after} == {
        o: (1.0 if o == outcome else 0.0) for o in after}
    assert sample("porchlight_rpc_handled_seconds_count", service="gauged", method=method) == timed + 1


def test_a_handled_event_counts_under_its_source_and_type(gauged):
    labels = {"service": "gauged", "source_service": "sharing", "event_type": "share_token_revoked"}
    ok, error = (sample("porchlight_events_handled_total", **labels, outcome=o) for o in ("ok", "error"))
    with entrypoint_hook(gauged, "on_revoked") as handle:
        handle({"share_token_id": "x"})
        with pytest.raises(RuntimeError):
            handle({"fail": True})
    assert sample("porchlight_events_handled_total", **labels, outcome="ok") == ok + 1
    assert sample("porchlight_events_handled_total", **labels, outcome="error") == error + 1
    # An event is not an RPC: nothing is counted under the handler's name there.
    assert rpc_count("on_revoked", "ok") == 0


def failing() -> None:
    raise ConnectionError("connection refused")


def test_health_is_503_naming_each_failed_check_and_200_when_all_pass():
    client = Client(ops_app(live={}, ready={"broker": lambda: None, "database": failing,
                                            "cache": lambda: "not warmed"}))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.text.splitlines() == ["database: ConnectionError: connection refused", "cache: not warmed"]
    assert client.get("/livez").status_code == 200 and client.get("/livez").text == "ok\n"
    assert client.get("/nope").status_code == 404
    assert client.post("/readyz").status_code == 405


def test_paths_without_checks_are_not_served():
    """The gateways answer /livez and /readyz on their main port: their ops app has none."""
    client = Client(ops_app())
    assert client.get("/readyz").status_code == 404
    assert client.get("/metrics").status_code == 200


def test_metrics_are_prometheus_text_with_our_families():
    response = Client(ops_app()).get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert "# TYPE porchlight_rpc_handled_total counter" in response.text
    assert "# TYPE porchlight_http_request_seconds histogram" in response.text


def test_run_checks_is_empty_when_all_pass():
    assert run_checks({"a": lambda: None, "b": lambda: ""}) == []


@pytest.mark.parametrize("exc, outcome", [
    (None, "ok"), (NotFound("x"), "expected_error"),
    (measured.ServiceUnavailable("down"), "unavailable"), (RuntimeError("x"), "error"),
])
def test_call_outcomes(exc, outcome):
    assert measured.call_outcome(exc) == outcome


def test_a_call_to_an_unreachable_broker_counts_as_unavailable():
    client = measured.MeasuredAmqpClient("amqp://guest:guest@127.0.0.1:1/", component="unit-test",
                                        timeout=1, name="unit-test")
    labels = {"service": "sharing", "method": "ping"}
    before = sample("porchlight_rpc_calls_total", **labels, outcome="unavailable")
    try:
        with pytest.raises(measured.ServiceUnavailable):
            client.call("sharing", "ping")
    finally:
        client.close()
    assert sample("porchlight_rpc_calls_total", **labels, outcome="unavailable") == before + 1
    assert sample("porchlight_amqp_connected", component="unit-test") == 0


def test_config_yml_gives_services_the_ops_address_of_the_settings(monkeypatch):
    from porchlight.runtime.settings import Settings

    for name in ("PORCHLIGHT_OPS_HOST", "PORCHLIGHT_OPS_PORT"):
        monkeypatch.delenv(name, raising=False)
    config = nameko_config_file()
    assert (config["OPS_HOST"], config["OPS_PORT"]) == (
        Settings.model_fields["ops_host"].default, Settings.model_fields["ops_port"].default)
    monkeypatch.setenv("PORCHLIGHT_OPS_HOST", "127.0.0.1")
    monkeypatch.setenv("PORCHLIGHT_OPS_PORT", "9311")
    config = nameko_config_file()
    assert (config["OPS_HOST"], config["OPS_PORT"]) == ("127.0.0.1", 9311)
