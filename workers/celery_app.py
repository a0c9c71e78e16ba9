"""The one Celery app of Porchlight, built by ``create_celery``.

Tasks are sent by name (``send_task("porchlight.render_signed_pdf", ...)``), so a sender
needs only the broker, never this package. Results are not kept: every task writes its
outcome through a service, and nobody waits on a Celery result.

    celery -A workers.celery_app worker --beat      # or: python -m workers
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from celery import Celery

import workers.tracing  # noqa: F401 - the worker's logging, and request ids on every task
from porchlight.contracts.calls import TASK_ROUTES
from porchlight.runtime import amqp_tls
from porchlight.runtime.settings import get_settings
from workers import ops

EXPIRE_ESTIMATES_EVERY = 60.0  # seconds


RENDER_MISSING_EVERY = 300.0
REMIND_EVERY = 300.0
SWEEP_EMAILS_EVERY = 300.0


def _beat_schedule_file(amqp_uri: str) -> str:
    """Where beat remembers when each entry last ran. /tmp is writable wherever we run
    (the containers mount the root read-only); one file per broker address, so two stacks
    on one machine (``make run`` and the end-to-end tests' own vhost) never share it.
    ``PORCHLIGHT_CELERY_BEAT_SCHEDULE`` names another file."""
    if path := get_settings().celery_beat_schedule:
        return str(path)
    tag = hashlib.sha256(amqp_uri.encode("utf-8")).hexdigest()[:12]
    return str(Path(tempfile.gettempdir()) / f"porchlight-celerybeat-{tag}")


def default_config(amqp_uri: str | None = None) -> dict[str, Any]:
    uri = amqp_uri or get_settings().amqp_uri
    return {
        "broker_url": uri,
        "broker_connection_retry_on_startup": True,
        # No result backend: outcomes live in the services, and nothing waits on a result.
        "result_backend": None,
        "task_ignore_result": True,
        # Tasks go to the celery exchange by name, never the default exchange (why: there).
        "task_routes": TASK_ROUTES,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Acknowledge after the task ran, one message at a time: a worker that dies
        # mid-render leaves the message to another worker. Every task is safe to repeat.
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        # Threads, not prefork: a task spends its time waiting on RPC replies, the shared
        # AmqpClient is thread-safe, and one process keeps one broker connection.
        # Rendering one report is milliseconds of CPU, so the GIL costs nothing that matters.
        "worker_pool": "threads",
        "worker_concurrency": 4,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule_filename": _beat_schedule_file(uri),
        "beat_schedule": {
            "expire-estimates": {
                "task": "porchlight.expire_estimates",
                "schedule": EXPIRE_ESTIMATES_EVERY,
                # A sweep queued while no worker ran is worthless once the next one is due.
                "options": {"expires": EXPIRE_ESTIMATES_EVERY},
            },
            # An answer or signature whose documents process died half-way is finished
            # with the evidence recorded in time, or undone so the customer can answer again.
            "recover-abandoned-answers": {
                "task": "porchlight.recover_abandoned_answers",
                "schedule": EXPIRE_ESTIMATES_EVERY,
                "options": {"expires": EXPIRE_ESTIMATES_EVERY},
            },
            # A signature whose render was never queued (the broker refused it at that
            # moment) still gets its PDF.
            "render-missing-pdfs": {
                "task": "porchlight.render_missing_pdfs",
                "schedule": RENDER_MISSING_EVERY,
                "options": {"expires": RENDER_MISSING_EVERY},
            },
            # Estimates whose end is 48 hours away get their one reminder.
            "send-reminders": {
                "task": "porchlight.send_reminders",
                "schedule": REMIND_EVERY,
                "options": {"expires": REMIND_EVERY},
            },
            # Emails whose delivery stopped half-way are marked failed, to be resent; project
            # digests whose hour is up are sent.
            "sweep-emails": {
                "task": "porchlight.sweep_emails",
                "schedule": SWEEP_EMAILS_EVERY,
                "options": {"expires": SWEEP_EMAILS_EVERY},
            },
        },
    }


def create_celery(config: dict[str, Any] | None = None) -> Celery:
    """The Celery app: defaults from the settings, then ``config`` on top."""
    conf = default_config((config or {}).get("broker_url"))
    conf.update(config or {})
    amqp_tls.install()  # amqps:// checks the broker's name in Celery's connections too
    app = Celery("porchlight", include=["workers.tasks"])
    app.config_from_object(conf)
    ops.install(app)  # /livez, /readyz, /metrics and task metrics (workers/ops.py)
    # @shared_task binds to the default app; a worker started on this module is that app.
    app.set_default()
    return app


celery = create_celery()
