"""The request id inside a nameko service (see ``porchlight.runtime.request_context`` for its journey).

``RequestTracing`` is a dependency every service declares (``tracing = RequestTracing()``).
For each worker — an RPC call, an event handled — it makes the request id of the message
current while the worker runs, so every log line the worker writes carries it, and writes
one INFO line when the worker is done (``documents.sign_service_report ok 12.4 ms``), so a
request can be followed through a service that logs nothing else.

A message that comes without an id (the CLI, a timer, an older client) gets a new one,
stored in the worker's context data so the calls and events the worker makes carry it too.
nameko's own ``EventDispatcher`` could not pass such an id on: it reads the worker's
context data when the dependency is injected, before any ``worker_setup`` runs (nameko
2.14 ``events.py``), so an id added in ``worker_setup`` would never reach its events.
``EventDispatcher`` below reads the context data when the event is dispatched instead.
``RpcProxy`` already does (``MethodProxy._call``). It is also the one place every event is
checked against its model (``porchlight.contracts.events``) before it leaves the service.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.events import EventDispatcher as _NamekoEventDispatcher
from nameko.extensions import DependencyProvider

from porchlight.contracts import events
from porchlight.runtime import logs, metrics, request_context

log = logging.getLogger("porchlight.worker")

# Entrypoints not worth a line each: health checks and the benchmark call ``ping`` often.
QUIET_ENTRYPOINTS = frozenset({"ping"})


class RequestTracing(DependencyProvider):
    """Makes the worker's request id current while it runs, and logs how it ended."""

    def setup(self) -> None:
        # A service's log lines are named after it unless PORCHLIGHT_SERVICE_NAME says otherwise.
        logs.default_component(self.container.service_name)
        self._started: dict[Any, float] = {}

    def get_dependency(self, worker_ctx: Any) -> str | None:
        # Injected before worker_setup; the id is made there, so services read it through
        # ``request_context.current()`` rather than this attribute.
        return None

    def worker_setup(self, worker_ctx: Any) -> None:
        # A staff command's idempotency key is this worker's alone: taken out of the context
        # data, nameko copies it onto none of the calls and events the worker makes.
        request_context.set_command_key(worker_ctx.data.pop(request_context.COMMAND_CONTEXT_KEY, None))
        # The caller's deadline, this worker's alone too: its own calls have their own bounds.
        request_context.set_deadline(worker_ctx.data.pop(request_context.DEADLINE_CONTEXT_KEY, None))
        request_id = request_context.sane(worker_ctx.data.get(request_context.CONTEXT_KEY))
        if request_id is None:
            # Missing or not sane (a forged header is replaced, never passed on).
            request_id = request_context.new_request_id()
            worker_ctx.data[request_context.CONTEXT_KEY] = request_id
        request_context.set_current(request_id)
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        outcome = "ok" if exc_info is None else exc_info[0].__name__
        level = logging.DEBUG if worker_ctx.entrypoint.method_name in QUIET_ENTRYPOINTS else logging.INFO
        log.log(level, "%s.%s %s %.1f ms", worker_ctx.service_name, worker_ctx.entrypoint.method_name,
                outcome, elapsed_ms)

    def worker_teardown(self, worker_ctx: Any) -> None:
        self._started.pop(worker_ctx, None)
        # The greenthread goes back to the pool; the next worker on it must not inherit the id.
        request_context.clear()


class EventDispatcher(_NamekoEventDispatcher):
    """nameko's ``EventDispatcher``, reading the worker's context data (the request id)
    when the event is sent rather than when the dependency is injected; it counts what it
    sends (``porchlight_events_dispatched``).

    Before sending, the payload is checked against the model of (this service, the event
    type): an event without a model, or a payload missing an id or carrying one too many,
    raises ``EventRefused`` and nothing is sent — a subscriber never has to guess."""

    def get_dependency(self, worker_ctx: Any) -> Any:
        def dispatch(event_type: str, event_data: Any) -> None:
            events.check(self.container.service_name, event_type, event_data)
            self.publisher.publish(
                event_data,
                exchange=self.exchange,
                routing_key=event_type,
                extra_headers=self.get_message_headers(worker_ctx),
            )
            metrics.EVENTS_DISPATCHED.labels(self.container.service_name, event_type).inc()

        return dispatch
