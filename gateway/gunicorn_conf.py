"""gunicorn settings for both gateways, from ``porchlight.runtime.settings`` (``PORCHLIGHT_GATEWAY_*``).

Threads, not greenlets: Flask code is synchronous, and each request thread waits on the
process's one AMQP client (its asyncio loop runs in a thread of its own).
"""

import gc

from gateway import ops
from porchlight.runtime.settings import get_settings

_settings = get_settings()

_host = _settings.gateway_host
bind = f"[{_host}]:{_settings.gateway_port}" if ":" in _host else f"{_host}:{_settings.gateway_port}"
workers = _settings.gateway_workers
worker_class = "gthread"
threads = _settings.gateway_threads
timeout = _settings.gateway_timeout
graceful_timeout = 10
# Our own access log redacts share tokens; gunicorn's would print raw request paths.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
# gunicorn's own lines (workers booting, timeouts, errors) go through the handler every
# Porchlight process uses (porchlight/runtime/logs.py): JSON under PORCHLIGHT_LOG_FORMAT=json, tokens
# redacted. gunicorn.error propagates to the root, where that handler is; the app finds it
# there and adds no second one.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"porchlight": {"()": "porchlight.runtime.logs.console_handler"}},
    "root": {"level": _settings.log_level, "handlers": ["porchlight"]},
    "loggers": {
        "gunicorn.error": {"level": _settings.log_level, "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}


def post_worker_init(_worker: object) -> None:
    """The app is loaded: what exists now lives as long as the worker. Frozen, it is left
    out of the garbage collector's full passes — each of which otherwise walks ~50,000
    objects and holds every request in the process for ~15 ms (the pages' p99)."""
    gc.collect()
    gc.freeze()


# -- metrics: the workers write, the master serves /metrics on the ops port (gateway/ops.py) --
_metrics_dir = ops.multiprocess_dir(_settings.metrics_dir)
# gunicorn sets it in the master before any worker exists, so every worker's prometheus-client
# starts in multiprocess mode.
raw_env = [f"{ops.MULTIPROC_ENV}={_metrics_dir}"]


def on_starting(_server: object) -> None:
    ops.prepare_multiprocess_dir(_metrics_dir)


def when_ready(_server: object) -> None:
    ops.serve_metrics_from_master(_settings.ops_host, _settings.ops_port)


def child_exit(_server: object, worker: object) -> None:
    ops.worker_exited(worker.pid)  # type: ignore[attr-defined]


def on_exit(_server: object) -> None:
    ops.remove_multiprocess_dir(_metrics_dir)
