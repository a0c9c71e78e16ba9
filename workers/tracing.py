"""The worker's logging and request ids (see ``porchlight.runtime.request_context``).

- **Logging.** Celery's ``setup_logging`` signal, connected, makes Celery leave the root
  logger alone: the worker writes through ``porchlight.runtime.logs.console_handler`` like every
  other process (JSON under ``PORCHLIGHT_LOG_FORMAT=json``, tokens redacted), named
  ``worker``.
- **Request ids.** A task queued by a service carries the service's request id in its
  ``request_id`` header. ``task_prerun`` makes it current in the pool thread that runs the
  task (a scheduled sweep, which has none, gets a new one), so the task's log lines and
  the RPC calls it makes carry it; ``task_postrun`` writes one INFO line for the run
  (``porchlight.render_signed_pdf SUCCESS 84.2 ms``) and puts back what was current before
  (nothing, in a worker's pool thread, which goes on to other tasks; the caller's id for a
  task run eagerly with ``apply()``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun

from porchlight.runtime import logs, request_context

COMPONENT = "worker"
log = logging.getLogger("porchlight.tasks")

_started = threading.local()


@setup_logging.connect
def _setup_logging(loglevel: Any = None, **_: Any) -> None:
    logs.default_component(COMPONENT)
    root = logging.getLogger()
    if not any(isinstance(f, logs.RequestIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(logs.console_handler())
    if loglevel:
        root.setLevel(loglevel)
    # fpdf2's font subsetting (fontTools) writes a dozen INFO lines per PDF ("maxp pruned").
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def request_id_of(task: Any) -> str | None:
    """The sane request id the task was sent with: a worker puts custom headers on the
    request itself, ``apply()`` (eager runs, the tests) under ``request.headers``."""
    request = task.request
    found = getattr(request, request_context.TASK_HEADER, None)
    if found is None and isinstance(getattr(request, "headers", None), dict):
        found = request.headers.get(request_context.TASK_HEADER)
    return request_context.sane(found)


@task_prerun.connect
def _task_prerun(task: Any = None, **_: Any) -> None:
    request_id = request_id_of(task) if task is not None else None
    _started.before = request_context.current()
    request_context.set_current(request_id or request_context.new_request_id())
    _started.at = time.perf_counter()


@task_postrun.connect
def _task_postrun(task: Any = None, state: str | None = None, **_: Any) -> None:
    started = getattr(_started, "at", None)
    elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    log.info("%s %s %.1f ms", getattr(task, "name", "?"), state or "done", elapsed_ms)
    _started.at = None
    request_context.set_current(getattr(_started, "before", None))
    _started.before = None
