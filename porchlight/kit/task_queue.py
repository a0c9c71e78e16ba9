"""Handing work to the Celery workers from a nameko service, by task name.

The service never imports the worker code: it publishes ``send_task(name, args)`` to the
broker it already uses, and whichever worker knows the task runs it. The task carries the
request id of the worker that queued it (the header ``request_id``), so the worker's log
lines and calls for it can be followed back to the customer's request.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from nameko.extensions import DependencyProvider

from porchlight.contracts.calls import TASK_ROUTES
from porchlight.runtime import request_context

log = logging.getLogger(__name__)


class TaskQueue(DependencyProvider):
    def setup(self) -> None:
        self.app = Celery("porchlight-publisher", broker=self.container.config["AMQP_URI"])
        self.app.conf.update(task_serializer="json", accept_content=["json"],
                             broker_connection_retry_on_startup=True, task_routes=TASK_ROUTES)

    def stop(self) -> None:
        self.app.close()

    def get_dependency(self, worker_ctx: Any) -> TaskQueue:
        return self

    def enqueue(self, name: str, *args: Any, shown: str | None = None) -> bool:
        """Queue a task; False (and a log line) when the broker refused it, so the caller
        can decide whether the work it just did still stands. ``shown`` replaces the
        arguments wherever Celery prints them (logs, monitoring): for a task that carries a
        secret."""
        try:
            request_id = request_context.current()
            headers = {request_context.TASK_HEADER: request_id} if request_id else None
            self.app.send_task(name, args=list(args), argsrepr=shown, headers=headers)
            return True
        except Exception:  # noqa: BLE001 - a queueing failure must not undo a signature
            log.exception("could not queue %s", name)
            return False
