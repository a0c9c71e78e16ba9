"""The one way a nameko service reaches another: a call whose wait is bounded, or a
hand-over that does not wait at all.

nameko's own ``RpcProxy`` waits for a reply forever: its ``expiration`` only drops a
request still sitting in the queue, not one a worker picked up and is stuck on. When every
worker of A waits on B while B's workers wait on A, nothing ever moves again — that is how
thirty sign-ins at once once took identity down until it was restarted. So:

- ``TimedRpcProxy(service, timeout=…, refusal=…)`` bounds the whole call — the publish, the
  request's time in the queue (``expiration``) and the wait for the reply — and raises the
  typed ``Unavailable(refusal)`` when the bound passes or no process of that service
  exists. A reply that arrives later is discarded by nameko's reply listener.
- ``RpcHandover(service)`` publishes a command to the service's queue and returns at once;
  nobody waits for its answer, so it cannot hold a worker. The queue is durable and the
  request has no expiry: the command runs when the service is back. Use it for work the
  caller's answer does not depend on (an email to queue), and where waiting would make a
  circle. ``RpcHandover(service, after_answer=True)`` holds the commands until the worker's
  own answer has been sent, and drops them if the worker failed: work that must not start
  before the answer leaves (a sign-in's email, whose cost would tell a known address from
  an unknown one). The answer cannot change any more by then, so a refused publish (the
  broker gone, say) is only logged: raised there, it would stop the whole container. With
  ``settle=s`` they go ``s`` seconds after the answer, once it has reached the asker: the
  work they start then shares no CPU with the asker's answer on its way out.

Each provider checks at start that its edge is declared in
``porchlight.contracts.calls.SERVICE_CALLS`` (waits) or ``SERVICE_HANDOVERS`` (no wait) —
the call graph, declared once, which a test holds free of cycles, and from which each
service's broker user gets the right to publish those calls and no others. A wait that
cannot form a circle cannot deadlock by capacity: the service at the bottom of every
chain waits on no one.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcProxy

from porchlight.contracts.calls import SERVICE_CALLS, SERVICE_HANDOVERS
from porchlight.contracts.errors import Unavailable
from porchlight.kit.service_rpc import OwnReplyListener

log = logging.getLogger(__name__)


class UndeclaredCall(RuntimeError):
    """A service reaches a neighbour the call graph does not list."""


def _check_declared(caller: str, target: str, graph: dict[str, tuple[str, ...]], kind: str) -> None:
    if target not in graph.get(caller, ()):
        raise UndeclaredCall(f"{caller} {kind} {target}, which porchlight.operator.broker_access does not "
                             "declare; add the edge there (a test checks it makes no cycle)")


class _BoundedProxy(RpcProxy):
    """What both kinds share: a target, a bound in seconds, the refusal's words, and
    answers under this service's own reply keys."""

    waits = True
    rpc_reply_listener = OwnReplyListener()

    def __init__(self, target_service: str, *, timeout: float, refusal: str, **options: Any) -> None:
        if timeout <= 0:
            raise ValueError("a call needs a positive timeout")
        super().__init__(target_service, **options)
        self.timeout = timeout
        self.refusal = refusal

    def setup(self) -> None:
        graph, kind = (SERVICE_CALLS, "waits on") if self.waits else (SERVICE_HANDOVERS, "hands over to")
        _check_declared(self.container.service_name, self.target_service, graph, kind)
        super().setup()

    def get_dependency(self, worker_ctx: Any) -> Neighbour:
        return Neighbour(self, worker_ctx)

    def call(self, worker_ctx: Any, method: str, args: tuple, kwargs: dict) -> Any:
        return self.publish(worker_ctx, method, args, kwargs)

    def publish(self, worker_ctx: Any, method: str, args: tuple, kwargs: dict) -> Any:
        """Send the request and, for a call, wait for the answer — all within ``timeout``."""
        proxy = MethodProxy(worker_ctx, self.target_service, method, self.rpc_reply_listener,
                            **self.options)
        timer = eventlet.Timeout(self.timeout)
        try:
            reply = proxy.call_async(*args, **kwargs)
            # A hand-over's reply, when it comes, finds no one waiting and is dropped.
            return reply.result() if self.waits else None
        except eventlet.Timeout as expired:
            if expired is not timer:
                raise
            log.warning("%r: no answer within %.1f s", proxy, self.timeout)
            raise Unavailable(self.refusal) from None
        except UnknownService:  # no process of it has ever bound its queue
            log.warning("%r: no %s service is running", proxy, self.target_service)
            raise Unavailable(self.refusal) from None
        finally:
            timer.cancel()


class TimedRpcProxy(_BoundedProxy):
    """``proxy.method(*args)`` answers within ``timeout`` seconds or raises
    ``Unavailable(refusal)``. The refusal is what the caller's own caller reads, so it says
    what did not happen ("Nothing was changed; …")."""

    def __init__(self, target_service: str, *, timeout: float, refusal: str, **options: Any) -> None:
        # The request expires with the wait: nobody answers a question no one waits for.
        options.setdefault("expiration", timeout)
        super().__init__(target_service, timeout=timeout, refusal=refusal, **options)


class RpcHandover(_BoundedProxy):
    """``handover.method(*args)`` publishes the command and returns ``None`` once the broker
    has it (within ``timeout``, or ``Unavailable(refusal)``); the request never expires."""

    waits = False

    def __init__(self, target_service: str, *, timeout: float, refusal: str,
                 after_answer: bool = False, settle: float = 0.0) -> None:
        super().__init__(target_service, timeout=timeout, refusal=refusal)
        if settle and not after_answer:
            raise ValueError("only a hand-over after the answer can wait for it to settle")
        self.after_answer = after_answer
        self.settle = settle
        self._held: dict[Any, list[tuple[str, tuple, dict]]] = {}
        self._settling: set[Any] = set()

    def call(self, worker_ctx: Any, method: str, args: tuple, kwargs: dict) -> Any:
        if not self.after_answer:
            return self.publish(worker_ctx, method, args, kwargs)
        self._held.setdefault(worker_ctx, []).append((method, args, kwargs))
        return None

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        """nameko calls this once the worker's answer is sent: the held commands go now —
        or ``settle`` seconds later, once the answer has had time to reach the asker —
        unless the worker failed."""
        held = self._held.pop(worker_ctx, [])
        if exc_info is not None or not held:
            return
        if not self.settle:
            self._publish_held(worker_ctx, held)
            return
        later = eventlet.spawn_after(self.settle, self._publish_held, worker_ctx, held)
        self._settling.add(later)
        later.link(lambda done: self._settling.discard(done))

    def stop(self) -> None:
        # What was promised goes before the process does (each waits ``settle`` at most,
        # then its publish's own bound).
        for later in list(self._settling):
            later.wait()
        super().stop()

    def kill(self) -> None:
        for later in list(self._settling):
            later.kill()
        super().kill()

    def _publish_held(self, worker_ctx: Any, held: list[tuple[str, tuple, dict]]) -> None:
        for method, args, kwargs in held:
            try:
                self.publish(worker_ctx, method, args, kwargs)
            except Exception:  # noqa: BLE001 - raised here, it would stop the whole container
                log.exception("%s.%s was not handed over after the answer; it will not run",
                              self.target_service, method)

    def worker_teardown(self, worker_ctx: Any) -> None:
        self._held.pop(worker_ctx, None)
        super().worker_teardown(worker_ctx)


class Neighbour:
    """The other service as a worker sees it: ``neighbour.method(*args)``."""

    def __init__(self, provider: _BoundedProxy, worker_ctx: Any) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._provider.call(self._worker_ctx, method, args, kwargs)

        call.__name__ = method
        return call
