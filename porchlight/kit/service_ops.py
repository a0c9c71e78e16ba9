"""Health and metrics for every nameko service, written once: ``class XService(Observed, …)``.

``ServiceOps`` is a dependency provider that

- serves the ops endpoint (``porchlight.runtime.ops``) on eventlet's WSGI server, in a greenthread
  of the container: ``/livez`` answered at all proves the process and its eventlet hub
  run; ``/readyz`` checks that the container's consumer connection to RabbitMQ is up and
  that each of its databases answers a ping; ``/metrics`` is the process's registry;
- counts and times every RPC request and event the service handles (``worker_setup`` /
  ``worker_result``), with the outcome ``ok``, ``expected_error`` (one of the
  entrypoint's declared exceptions: a refusal, not a fault) or ``error``;
- reports the consumer connection as ``porchlight_amqp_connected{component=<service>}``.

Address from the container's config: ``OPS_HOST`` and ``OPS_PORT`` (``config.yml`` reads
``PORCHLIGHT_OPS_HOST`` / ``PORCHLIGHT_OPS_PORT``). No ``OPS_PORT`` in the config: no
endpoint — the in-process tests run several containers in one process and give
``OPS_PORT: 0`` only where they want one. Metrics are counted either way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import eventlet
import mongoengine
from eventlet import wsgi
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc

from porchlight.kit.storage import Store
from porchlight.runtime import metrics
from porchlight.runtime.ops import Check, ops_app

log = logging.getLogger(__name__)

# A readiness probe must answer before its own timeout (Kubernetes: 1 s by default is too
# short for a cold MongoDB connection; the manifests give the probe more).
DATABASE_PING_TIMEOUT = 2.0


class ConsumerConnection:
    """Whether a container's queue consumer is connected, from kombu's own callback.

    nameko's ``QueueConsumer`` keeps no handle on its live connection (its ``connection``
    property builds a new, unconnected one each time); kombu hands the live one to
    ``on_consume_ready`` after every (re)connection, once the consumers are declared. That
    connection reports ``connected`` False once kombu has released it after a loss."""

    def __init__(self, queue_consumer: QueueConsumer | None) -> None:
        self.connection: Any = None
        self.has_consumer = queue_consumer is not None
        if queue_consumer is None:
            return
        original = queue_consumer.on_consume_ready

        def on_consume_ready(connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> Any:
            self.connection = connection
            return original(connection, channel, consumers, **kwargs)

        queue_consumer.on_consume_ready = on_consume_ready

    @property
    def up(self) -> bool:
        connection = self.connection
        return connection is not None and bool(connection.connected)

    def check(self) -> str | None:
        if not self.has_consumer:
            return None
        if self.connection is None:
            return "not connected to the message broker yet"
        return None if self.up else "the connection to the message broker is down"


class DatabaseSilent(Exception):
    """The database did not answer a ping in time."""


def database_check(alias: str) -> Check:
    """A ping of the database behind the mongoengine ``alias``, bounded in time."""

    def ping() -> None:
        # eventlet's own Timeout, a BaseException: pymongo reads a ``TimeoutError`` as its
        # socket's short poll timing out and simply reads again, so a TimeoutError raised
        # here was swallowed and a stalled database hung the probe until pymongo gave up.
        timer = eventlet.Timeout(DATABASE_PING_TIMEOUT)
        try:
            mongoengine.get_db(alias).client.admin.command("ping")
        except eventlet.Timeout as expired:
            if expired is not timer:
                raise
            raise DatabaseSilent(f"no answer within {DATABASE_PING_TIMEOUT:g}s") from None
        finally:
            timer.cancel()

    return ping


def outcome(entrypoint: Any, exc_info: Any) -> str:
    if exc_info is None:
        return "ok"
    expected = entrypoint.expected_exceptions or ()
    expected = tuple(expected) if isinstance(expected, list) else expected
    return "expected_error" if expected and issubclass(exc_info[0], expected) else "error"


class ServiceOps(DependencyProvider):
    """See the module docstring. ``checks`` (readiness, by name) may be extended before or
    while the container runs; ``port`` is the bound port once started (None: not served)."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.port: int | None = None
        self._consumer: ConsumerConnection | None = None
        self._started: dict[Any, float] = {}
        self._socket: Any = None
        self._server: Any = None

    def setup(self) -> None:
        container = self.container
        consumers = [ext for ext in container.extensions if isinstance(ext, QueueConsumer)]
        self._consumer = ConsumerConnection(consumers[0] if consumers else None)
        self.checks = {"broker": self._consumer.check}
        for ext in container.extensions:
            if isinstance(ext, Store):
                self.checks[f"database {ext.alias}"] = database_check(ext.alias)
        consumer = self._consumer
        metrics.AMQP_CONNECTED.labels(container.service_name).set_function(lambda: float(consumer.up))

    def start(self) -> None:
        config = self.container.config
        if config.get("OPS_PORT") is None:
            return
        host, port = str(config.get("OPS_HOST") or "0.0.0.0"), int(config["OPS_PORT"])
        self._socket = eventlet.listen((host, port))
        self.port = self._socket.getsockname()[1]
        app = ops_app(live={}, ready=self.checks)
        self._server = self.container.spawn_managed_thread(
            lambda: wsgi.server(self._socket, app, log_output=False), identifier="ops-http")
        log.info("%s: ops endpoint on http://%s:%d (/livez /readyz /metrics)",
                 self.container.service_name, host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def kill(self) -> None:
        self.stop()

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        entrypoint, service = worker_ctx.entrypoint, worker_ctx.service_name
        if isinstance(entrypoint, Rpc):
            metrics.RPC_HANDLED.labels(service, entrypoint.method_name, outcome(entrypoint, exc_info)).inc()
            metrics.RPC_HANDLED_SECONDS.labels(service, entrypoint.method_name).observe(elapsed)
        elif isinstance(entrypoint, EventHandler):
            labels = (service, entrypoint.source_service, entrypoint.event_type)
            metrics.EVENTS_HANDLED.labels(*labels, outcome(entrypoint, exc_info)).inc()
            metrics.EVENT_HANDLED_SECONDS.labels(*labels).observe(elapsed)

    def worker_teardown(self, worker_ctx: Any) -> None:
        self._started.pop(worker_ctx, None)  # a worker whose result was never reported


class Observed:
    """The mixin every service class inherits: its ops endpoint and metrics."""

    ops = ServiceOps()
