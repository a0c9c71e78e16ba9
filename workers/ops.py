"""Health and metrics of the Celery worker: its ops endpoint in a thread of the worker's
main process (``PORCHLIGHT_OPS_HOST`` / ``PORCHLIGHT_OPS_PORT``).

- ``/livez``: the consumer loop is alive. A consumer bootstep beats on the consumer's own
  timer, which the worker's event loop fires, every ``HEARTBEAT_SECONDS``; a beat older
  than ``STALE_AFTER`` means the loop is stuck. (Celery's ``heartbeat_sent`` signal only
  fires with task events enabled, which we do not need otherwise.) The process's start
  counts as a beat, so a worker still connecting is given that long.
- ``/readyz``: the consumer's broker connection is up.
- ``/metrics``: task runs by task name and outcome (success, retry, failure) and their
  durations, from ``task_prerun`` / ``task_postrun`` (whose ``state`` says which outcome:
  one place, so a retry is never also counted as a failure); the consumer connection as
  ``porchlight_amqp_connected{component="worker"}``; outgoing RPC calls
  (``porchlight.runtime.metrics.MeasuredAmqpClient``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery, bootsteps
from celery.signals import task_postrun, task_prerun, worker_init, worker_shutdown

from porchlight.runtime import metrics
from porchlight.runtime.ops import OpsServer, ops_app, serve_in_thread
from porchlight.runtime.settings import get_settings

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = 60.0
OUTCOMES = {"SUCCESS": "success", "RETRY": "retry", "FAILURE": "failure"}


class WorkerHealth:
    """What the probes read: the last beat (monotonic clock) and the running consumer."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.last_beat = clock()
        self.consumer: Any = None

    def beat(self) -> None:
        self.last_beat = self.clock()
        metrics.WORKER_HEARTBEAT.set(time.time())

    def alive(self) -> str | None:
        age = self.clock() - self.last_beat
        return None if age <= STALE_AFTER else f"the consumer loop has not run for {age:.0f}s"

    @property
    def connected(self) -> bool:
        connection = getattr(self.consumer, "connection", None)
        return connection is not None and bool(connection.connected)

    def broker(self) -> str | None:
        if self.consumer is None:
            return "the consumer has not started yet"
        return None if self.connected else "the connection to the message broker is down"


health = WorkerHealth()
_server: OpsServer | None = None
_started: dict[str, float] = {}
_started_lock = threading.Lock()


class Heartbeat(bootsteps.StartStopStep):
    """A consumer step: beats on the consumer's timer while the consumer runs."""

    requires = ("celery.worker.consumer.connection:Connection",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        health.consumer = parent
        health.beat()
        self.tref = parent.timer.call_repeatedly(HEARTBEAT_SECONDS, health.beat)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop


def _start_server(**_: Any) -> None:
    global _server
    if _server is not None:
        return
    settings = get_settings()
    metrics.AMQP_CONNECTED.labels("worker").set_function(lambda: float(health.connected))
    app = ops_app(live={"consumer loop": health.alive}, ready={"broker": health.broker})
    _server = serve_in_thread(app, settings.ops_host, settings.ops_port)


def _stop_server(**_: Any) -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def _task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        with _started_lock:
            _started[task_id] = time.perf_counter()


def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    with _started_lock:
        started = _started.pop(task_id or "", None)
    name = getattr(task, "name", None) or "unknown"
    metrics.TASKS.labels(name, OUTCOMES.get(state or "", (state or "unknown").lower())).inc()
    if started is not None:
        metrics.TASK_SECONDS.labels(name).observe(time.perf_counter() - started)


def install(app: Celery) -> None:
    """Hook the worker's health and metrics into ``app``. Signals are global: each is
    connected once, however many apps are built."""
    if Heartbeat not in app.steps["consumer"]:
        app.steps["consumer"].add(Heartbeat)
    worker_init.connect(_start_server, weak=False, dispatch_uid="porchlight-ops-start")
    worker_shutdown.connect(_stop_server, weak=False, dispatch_uid="porchlight-ops-stop")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="porchlight-ops-prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="porchlight-ops-postrun")
