"""The process's ``AmqpClient`` as the gateways and the worker use it: every blocking RPC
call counted and timed (``porchlight.runtime.metrics``), the connection's state a gauge."""

from __future__ import annotations

import time
from typing import Any

from porchlight.client import AmqpClient
from porchlight.client.connection import ServiceUnavailable
from porchlight.contracts.errors import PorchlightError
from porchlight.runtime.metrics import AMQP_CONNECTED, RPC_CALL_SECONDS, RPC_CALLS


def call_outcome(exc: BaseException | None) -> str:
    """How a call a process made ended, as a label value."""
    if exc is None:
        return "ok"
    if isinstance(exc, PorchlightError):
        return "expected_error"
    if isinstance(exc, ServiceUnavailable):
        return "unavailable"
    return "error"  # nameko's RemoteError: the service failed


class MeasuredAmqpClient(AmqpClient):
    """The process's ``AmqpClient``, counting and timing every blocking RPC call it makes
    and keeping ``porchlight_amqp_connected{component}`` current."""


    def __init__(self, amqp_uri: str, *, component: str | None = None, **kwargs: Any) -> None:
        """``component`` None: the process reports another connection as its own (the
        worker: Celery's consumer connection), and this one's state is not reported."""
        super().__init__(amqp_uri, **kwargs)
        if component is not None:
            connected = AMQP_CONNECTED.labels(component)
            connected.set(0)
            self.on_connection_state = lambda up: connected.set(1 if up else 0)

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            return super().call(service, method, *args, timeout=timeout, **kwargs)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            RPC_CALLS.labels(service, method, call_outcome(failure)).inc()
            RPC_CALL_SECONDS.labels(service, method).observe(time.perf_counter() - started)
