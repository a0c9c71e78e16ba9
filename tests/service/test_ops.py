"""A real service container on real RabbitMQ, with its ops endpoint on a free port."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from nameko.testing.utils import get_extension

from porchlight.kit.service_ops import ServiceOps
from services.sharing.service import SharingService


@pytest.fixture
def sharing(container_factory: Any, service_config: dict[str, Any]) -> Any:
    container = container_factory(SharingService, {**service_config, "OPS_HOST": "127.0.0.1", "OPS_PORT": 0})
    container.start()
    return container


def ops_url(container: Any, path: str) -> str:
    port = get_extension(container, ServiceOps).port
    assert port
    return f"http://127.0.0.1:{port}{path}"


def test_ready_when_connected_and_the_database_answers(sharing):
    ready = requests.get(ops_url(sharing, "/readyz"), timeout=5)
    assert (ready.status_code, ready.text) == (200, "ok\n")
    assert requests.get(ops_url(sharing, "/livez"), timeout=5).status_code == 200
    ops = get_extension(sharing, ServiceOps)
    # Both checks are there: the broker and the service's own database.
    assert set(ops.checks) == {"broker", "database sharing"}


def test_not_ready_when_the_database_ping_fails(sharing):
    def unreachable() -> None:
        raise ConnectionError("mongo:27017: connection refused")

    get_extension(sharing, ServiceOps).checks["database sharing"] = unreachable
    ready = requests.get(ops_url(sharing, "/readyz"), timeout=5)
    assert ready.status_code == 503
    assert ready.text == "database sharing: ConnectionError: mongo:27017: connection refused\n"
    # Alive all the same: a database outage is no reason to restart the process.
    assert requests.get(ops_url(sharing, "/livez"), timeout=5).status_code == 200


def test_metrics_count_a_real_rpc_and_show_the_connection(sharing, service_config):
    from porchlight.client import AmqpClient

    series = 'porchlight_rpc_handled_total{method="ping",outcome="ok",service="sharing"}'

    def count() -> float:
        for line in requests.get(ops_url(sharing, "/metrics"), timeout=5).text.splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        return 0.0

    before = count()
    client = AmqpClient(service_config["AMQP_URI"], timeout=5, name="tests")
    try:
        assert client.call("sharing", "ping") == {"service": "sharing"}
    finally:
        client.close()
    assert count() == before + 1
    text = requests.get(ops_url(sharing, "/metrics"), timeout=5).text
    assert 'porchlight_amqp_connected{component="sharing"} 1.0' in text


def test_the_broker_check_follows_the_consumers_connection(service_config):
    """What kombu hands to ``on_consume_ready`` after each (re)connection is what the check
    reads: up while that connection is, down once kombu has let it go after a loss."""
    from kombu import Connection
    from nameko.messaging import QueueConsumer

    from porchlight.kit.service_ops import ConsumerConnection

    queue_consumer = QueueConsumer()
    state = ConsumerConnection(queue_consumer)
    assert state.check() == "not connected to the message broker yet"
    connection = Connection(service_config["AMQP_URI"])
    connection.connect()
    queue_consumer.on_consume_ready(connection, connection.default_channel, [])
    assert state.up and state.check() is None
    connection.release()
    assert not state.up and state.check() == "the connection to the message broker is down"
