"""The ops endpoint every Porchlight process serves on its own port (``PORCHLIGHT_OPS_HOST``
and ``PORCHLIGHT_OPS_PORT``): ``GET /metrics`` (Prometheus text), and for the services and
the worker ``GET /livez`` and ``GET /readyz``.

A health answer is 200 ``ok`` when every check passes, else 503 with one line per failed
check saying what failed (never a secret: checks say what, not with which credentials).
A check is a callable that returns None when all is well and raises, or returns a reason,
when not; it must answer quickly (it runs inside the probe's request).

The endpoint is one small WSGI app (``ops_app``). The services serve it on eventlet's own
WSGI server inside the container (``porchlight.kit.service_ops``): a ``/livez`` answered there
proves the eventlet hub runs. The worker and the gunicorn master serve it from a thread
(``serve_in_thread``). Port 0 means a free port chosen by the system (the tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

Check = Callable[[], "str | None"]
TEXT = "text/plain; charset=utf-8"


def run_checks(checks: Mapping[str, Check]) -> list[str]:
    """What failed, one ``name: reason`` line per failed check; empty when all passed."""
    failed = []
    for name, check in checks.items():
        try:
            reason = check()
        except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if reason:
            failed.append(f"{name}: {reason}")
    return failed


def health_response(checks: Mapping[str, Check]) -> tuple[int, str]:
    failed = run_checks(checks)
    if failed:
        return 503, "\n".join(failed) + "\n"
    return 200, "ok\n"


def ops_app(
    registry: CollectorRegistry | Callable[[], CollectorRegistry] = REGISTRY, *,
    live: Mapping[str, Check] | None = None, ready: Mapping[str, Check] | None = None,
) -> Callable[..., Iterable[bytes]]:
    """The ops WSGI app. ``live`` and ``ready`` None: that path is not served (the gateways
    answer them on their main port). The mappings are read on every request, so checks
    added later count."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Content-Type", TEXT), ("Allow", "GET, HEAD")])
            return [b"method not allowed\n"]
        if path == "/metrics":
            body = generate_latest(registry() if callable(registry) else registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [body]
        checks = {"/livez": live, "/readyz": ready}.get(path)
        if checks is None:
            start_response("404 Not Found", [("Content-Type", TEXT)])
            return [b"not found\n"]
        status, text = health_response(checks)
        start_response("200 OK" if status == 200 else "503 Service Unavailable",
                       [("Content-Type", TEXT), ("Cache-Control", "no-store")])
        return [text.encode()]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    """Probes come every few seconds: their requests are not worth a log line each."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        log.debug("ops: " + format, *args)


class OpsServer:
    """The ops app served from a daemon thread; ``port`` is the bound one (for port 0)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], host: str, port: int) -> None:
        self._server = make_server(host, port, app, server_class=_ThreadingServer,
                                   handler_class=_QuietHandler)
        self.host, self.port = host, self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-http", daemon=True)

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("ops endpoint on http://%s:%d (/metrics)", self.host, self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_in_thread(app: Callable[..., Iterable[bytes]], host: str, port: int) -> OpsServer:
    return OpsServer(app, host, port).start()
