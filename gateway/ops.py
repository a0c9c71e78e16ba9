"""Health and metrics of a gateway process.

On the gateway's own port: ``GET /livez`` (the process serves requests; the older
``/healthz`` stays for the same job) and ``GET /readyz`` (its AMQP client is connected: a
gateway that cannot reach the services should get no traffic). Plain text, 200 ``ok`` or
503 with what failed, as on every process's ops port (``porchlight.runtime.ops``).

Metrics: every request by route — Flask's URL rule (``/l/<token>``), never the path, which
can hold a share token — method and status, with its duration; the outgoing RPC calls and
the AMQP connection state come from the process's ``MeasuredAmqpClient``
(``gateway.web.amqp_client``); the portal's read model counts its own hits and misses.

gunicorn runs several workers; their values meet in prometheus-client's multiprocess mode
and the master serves ``/metrics`` on the ops port (the hooks below, called from
``gateway/gunicorn_conf.py``).
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

log = logging.getLogger(__name__)

READINESS_TIMEOUT = 2.0  # seconds a /readyz waits for a first connection


def gateway_name(app: Flask) -> str:
    """``portal`` or ``admin``, from the app's import name (``gateway.portal.app``)."""
    parts = app.import_name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "gateway" else app.import_name


def install_ops(app: Flask, amqp_client: Callable[[Flask], Any]) -> None:
    """The probes and request metrics on ``app``; ``amqp_client(app)`` is the process's
    client, whose connection readiness asks about (given, so this module stays below
    ``gateway.web``)."""
    from porchlight.runtime import metrics
    from porchlight.runtime.ops import health_response

    gateway = gateway_name(app)

    def plain(status: int, text: str) -> Response:
        return Response(text, status=status, mimetype="text/plain",
                        headers={"Cache-Control": "no-store"})

    @app.get("/livez")
    def livez() -> Any:
        return plain(200, "ok\n")

    @app.get("/readyz")
    def readyz() -> Any:
        def broker() -> str | None:
            client = amqp_client(app)
            if client.connected or client.ensure_connected(READINESS_TIMEOUT):
                return None
            return "the AMQP client is not connected to the message broker"

        return plain(*health_response({"broker": broker}))

    @app.before_request
    def _start_clock() -> None:
        g.ops_started_at = time.perf_counter()

    @app.after_request
    def _count(response: Any) -> Any:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed = time.perf_counter() - g.get("ops_started_at", time.perf_counter())
        metrics.HTTP_REQUESTS.labels(gateway, request.method, route, str(response.status_code)).inc()
        metrics.HTTP_REQUEST_SECONDS.labels(gateway, request.method, route).observe(elapsed)
        return response


# -- gunicorn (see gateway/gunicorn_conf.py) -------------------------------------------------
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's variable, read once at its import
_TEMPORARY_PREFIX = "porchlight-metrics-"


def multiprocess_dir(configured: Path | None) -> str:
    """Where the workers write their values: ``PORCHLIGHT_METRICS_DIR``, or a directory of
    this master's own under the temporary directory. Only named here (reading the config
    must create nothing); ``prepare_multiprocess_dir`` makes it."""
    if configured is not None:
        return str(configured)
    return os.path.join(tempfile.gettempdir(), f"{_TEMPORARY_PREFIX}{os.getpid()}")


def prepare_multiprocess_dir(path: str) -> None:
    """Before the first worker: the directory exists and holds no file of an earlier run —
    those would add dead workers' counts to ours (a container's master is often pid 1 on
    every start)."""
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def serve_metrics_from_master(host: str, port: int) -> Any:
    """The master's ops endpoint: ``/metrics`` summed over the workers' files."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    from porchlight.runtime.ops import ops_app, serve_in_thread

    def registry() -> CollectorRegistry:
        # A fresh registry per scrape, as prometheus-client's multiprocess guide does: the
        # collector reads the files each time, so workers started since are included.
        fresh = CollectorRegistry()
        MultiProcessCollector(fresh)
        return fresh

    return serve_in_thread(ops_app(registry), host, port)


def worker_exited(pid: int) -> None:
    """A dead worker's live gauges stop counting (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def remove_multiprocess_dir(path: str) -> None:
    """At the master's exit: its own temporary directory goes (a configured one stays)."""
    ours = os.path.dirname(path) == tempfile.gettempdir() and os.path.basename(path).startswith(
        _TEMPORARY_PREFIX)
    if ours:
        shutil.rmtree(path, ignore_errors=True)
