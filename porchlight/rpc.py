"""A pooled, thread-safe RPC client with a timeout, for code that is not a nameko service.

nameko's standalone ``ClusterRpcProxy`` is single-threaded and costs a connection and a
reply queue to start, so the gateways keep a small pool of started proxies and lend one
to each call. Requests carry a TTL equal to the timeout: when a service is down, RabbitMQ
drops what nobody picked up in time instead of replaying stale commands on restart.
Replies that arrive after their caller gave up are acknowledged and discarded.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
)

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """A service did not answer in time, or the broker could not be reached."""


class _DiscardingConsumer(PollingQueueConsumer):
    def on_message(self, body: Any, message: Any) -> None:
        correlation_id = message.properties.get("correlation_id")
        if correlation_id not in self.provider._reply_events:
            message.ack()  # a reply to a call that already timed out
            return
        self.replies[correlation_id] = (body, message)


class _ReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.queue_consumer = _DiscardingConsumer(timeout=timeout)


class _ClusterProxy:
    """Like nameko's ClusterProxy, with publish options for every call."""

    def __init__(self, worker_ctx: Any, reply_listener: Any, **options: Any) -> None:
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener
        self._options = options
        self._proxies: dict[str, ServiceProxy] = {}

    def __getattr__(self, name: str) -> ServiceProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(
                self._worker_ctx, name, self._reply_listener, **self._options
            )
        return self._proxies[name]


class _PooledProxy(ClusterRpcProxy):
    def __init__(self, config: dict, timeout: float) -> None:
        super().__init__(config, timeout=timeout, reply_listener_cls=_ReplyListener)
        self._proxy = _ClusterProxy(
            self._worker_ctx, self._reply_listener,
            expiration=timeout,  # seconds; kombu converts to the AMQP per-message TTL
            delivery_mode=1,  # requests are ephemeral: no need to write them to disk
        )


class RpcPool:
    def __init__(self, config: dict, *, size: int = 8, timeout: float = 5.0) -> None:
        self.config = config
        self.timeout = timeout
        self._idle: queue.LifoQueue[_PooledProxy] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list[_PooledProxy] = []
        self._lock = threading.Lock()

    def _start_one(self) -> _PooledProxy:
        proxy = _PooledProxy(self.config, self.timeout)
        proxy.start()
        with self._lock:
            self._all.append(proxy)
        return proxy

    def _discard(self, proxy: _PooledProxy) -> None:
        with self._lock:
            if proxy in self._all:
                self._all.remove(proxy)
        try:
            proxy.stop()
        except Exception:  # noqa: BLE001 - the connection is already broken
            log.debug("error while closing a broken RPC proxy", exc_info=True)

    @contextmanager
    def proxy(self) -> Iterator[Any]:
        """Lend a started cluster proxy; broker and timeout failures become
        ``ServiceUnavailable``. Remote errors of the services pass through unchanged."""
        if not self._slots.acquire(timeout=self.timeout):
            raise ServiceUnavailable("all RPC connections are busy")
        proxy = None
        try:
            try:
                proxy = self._idle.get_nowait()
            except queue.Empty:
                try:
                    proxy = self._start_one()
                except (OSError, AMQPError, OperationalError) as exc:
                    raise ServiceUnavailable(f"message broker unreachable: {exc}") from exc
            try:
                yield proxy._proxy
            except (RpcTimeout, UnknownService) as exc:
                raise ServiceUnavailable(str(exc) or type(exc).__name__) from exc
            except (OSError, AMQPError, OperationalError, RuntimeError) as exc:
                self._discard(proxy)
                proxy = None
                raise ServiceUnavailable(f"RPC connection failed: {exc}") from exc
        finally:
            if proxy is not None:
                self._idle.put(proxy)
            self._slots.release()

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self.proxy() as rpc:
            return getattr(getattr(rpc, service), method)(*args, **kwargs)

    def close(self) -> None:
        with self._lock:
            proxies, self._all = self._all, []
        for proxy in proxies:
            try:
                proxy.stop()
            except Exception:  # noqa: BLE001
                log.debug("error while closing an RPC proxy", exc_info=True)
