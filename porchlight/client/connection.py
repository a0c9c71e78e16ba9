"""One AMQP connection per process: nameko RPC calls and nameko events for code that is
not a nameko service (the gateways, the CLI, the Celery worker, the bench, the tests).

The connection is an aio-pika *robust* connection on the process's AMQP loop: one asyncio
loop in a daemon thread, started on first use — never at import or construction, so a
gunicorn worker forked after the app was built starts its own. Every client of the process
shares that loop (there is normally one client): under eventlet's monkey patching a
"thread" is a greenthread of the one OS thread, and asyncio refuses to run a second loop
while another runs in the same OS thread. Sync code calls through a blocking
facade that is safe from many threads and, under eventlet's monkey patching, from many
greenthreads (``concurrent.futures.Future.result`` waits on a patched lock).

What it guarantees:

- **nameko 2.14's wire protocol.** A request is JSON ``{"args", "kwargs"}`` published to
  the ``nameko-rpc`` topic exchange under ``<service>.<method>``; the service answers on
  the same exchange under our ``reply_to`` key, so RabbitMQ's direct reply-to cannot be
  used: each process has one exclusive reply queue bound once to that key. Remote errors
  come back typed (``porchlight.contracts.errors``), others as nameko's ``RemoteError``.
- **Timeouts everywhere.** Every call has one; past it the caller gets
  ``ServiceUnavailable``. Requests carry the timeout as their TTL, so a service that was
  down does not replay stale commands when it comes back. A reply to a call that already
  gave up is discarded.
- **Fail fast.** A request no service queue is bound for is returned by the broker
  (``mandatory``, seen through the publisher confirm) and fails at once; so does a call
  when the broker is unreachable, or while the connection is being restored.
- **Recovery.** When the connection is lost, calls in flight fail; aio-pika reconnects and
  restores the exchanges, both queues (under the same names), their bindings and
  consumers; then ``on_ready`` runs again for every subscription.
- **Traced.** Every request carries the caller's request id (``porchlight.runtime.request_context``,
  current in the calling thread) as the header ``nameko.request_id``, which nameko makes the
  service worker's context data; an event heard makes its own id current while its
  handlers run.
- **Refusals are clear.** A call the broker refuses to this process's user fails at once
  with ``BrokerRefused``; the channel the broker closed is reopened before the next call.
- **Quiet.** Message bodies are never logged: they can hold share tokens and codes.

This package is that client in four parts: ``loop`` (the process's asyncio loop),
``connection`` (connecting, losing and restoring the connection, the blocking facade,
closing), ``rpc`` (calls and their replies) and ``events`` (subscriptions);
``porchlight.client.AmqpClient`` puts them together, and ``measured`` counts its calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from porchlight.client.loop import process_loop, run_callback

log = logging.getLogger(__name__)

# Between reconnection attempts once the connection was up (aio-pika's own loop).
RECONNECT_INTERVAL = 1.0
# Between attempts of a subscriber whose very first connection failed.
FIRST_CONNECT_RETRY = 2.0
# How long close() waits for the connection to say goodbye.
CLOSE_TIMEOUT = 5.0


class ServiceUnavailable(Exception):
    """A service did not answer in time, is unknown to the broker, or the broker could
    not be reached (or the connection was lost mid-call)."""


class BrokerRefused(ServiceUnavailable):
    """The broker refused the call to this process's user (RabbitMQ ACCESS_REFUSED): its
    rights (``porchlight.operator.broker_access``) do not include that ``<service>.<method>``."""


class Connection:
    """The connection's life: made on first use, lost, restored by aio-pika, closed. What
    rides on it — calls (``rpc``), subscriptions (``events``) — hooks in at four points:
    ``_reset_parts`` (fresh state), ``_opened`` (the channel is new: declare what it
    needs), ``_usable`` (the connection is up, first time or again) and ``_lost`` (it went,
    or the client closed)."""

    def __init__(self, amqp_uri: str, *, timeout: float = 10.0, name: str = "porchlight") -> None:
        self.amqp_uri = amqp_uri
        self.timeout = float(timeout)
        self.name = name
        self._lock = threading.Lock()
        self._closed = False
        # Told True/False when the connection comes up or goes (the ops metrics' gauge).
        self.on_connection_state: Callable[[bool], None] | None = None
        self._reset()

    def _reset(self) -> None:
        """Fresh per-process state (also what a forked child starts from)."""
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Everything below is touched on the loop's thread only.
        self._connection: AbstractRobustConnection | None = None
        self._connecting: asyncio.Task | None = None
        self._channel: AbstractRobustChannel | None = None
        self._ready = False
        self._reset_parts()

    # -- the parts' hooks ---------------------------------------------------------------------
    def _reset_parts(self) -> None:
        """Fresh state of what rides on the connection."""

    async def _opened(self, channel: AbstractRobustChannel) -> None:
        """Declare on a new channel what the parts need before the connection is usable."""

    async def _usable(self) -> None:
        """The connection is up (first time, or restored): finish what waited for it."""

    def _lost(self, reason: str) -> None:
        """The connection went, or the client closed: fail or tell what depended on it."""

    def _keeps_connecting(self) -> bool:
        """Whether a first connection that failed is tried again without a caller (a
        subscriber has nobody to call for it)."""
        return False

    # -- the loop thread ----------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise ServiceUnavailable("the AMQP client is closed")
        if self._pid != os.getpid():  # forked after first use: the parent's loop is not ours
            with self._lock:
                if self._pid != os.getpid():
                    self._reset()
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                self._loop, self._thread = process_loop()
            return self._loop

    def _on_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def _wait(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the loop and wait for it from a caller's thread (or greenthread)."""
        if self._on_loop_thread():
            coro.close()
            raise RuntimeError("a blocking AmqpClient method was called on its own loop; use call_async")
        try:
            loop = self._ensure_loop()
        except BaseException:
            coro.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            # The coroutine keeps its own deadline; the margin is for a loop that stalls.
            return future.result(timeout + 5.0)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ServiceUnavailable(f"no answer within {timeout:g}s") from None
        except concurrent.futures.CancelledError:
            raise ServiceUnavailable("the AMQP client was closed") from None

    @property
    def connected(self) -> bool:
        """The connection is up and the reply queue consuming."""
        return self._ready and not self._closed

    def ensure_connected(self, timeout: float | None = None) -> bool:
        """Connect now if nobody has yet (a readiness probe before the first call); whether
        the connection is up. Never raises for a broker that cannot be reached."""
        timeout = self.timeout if timeout is None else float(timeout)
        try:
            self._wait(self._ensure_connected(timeout), timeout)
        except ServiceUnavailable:
            pass
        return self.connected

    def _state_changed(self, up: bool) -> None:
        callback = self.on_connection_state
        if callback is not None:
            run_callback(lambda: callback(up), "on_connection_state")

    # -- connecting ---------------------------------------------------------------------------
    async def _connect(self) -> None:
        connection = await aio_pika.connect_robust(
            self.amqp_uri,
            timeout=self.timeout,
            reconnect_interval=RECONNECT_INTERVAL,
            client_properties={"connection_name": f"{self.name} pid {os.getpid()}"},
        )
        try:
            # Publisher confirms, with a returned (unroutable) request raised by publish():
            # aiormq 7.2 matches a basic.return to its publish by the confirm's delivery
            # tag, so without confirms a return reaches no callback at all (aiormq logs it,
            # body included, as an error). A confirm costs little: a raw aio-pika round trip
            # measured 1.12 ms p50 with confirms against 1.01 ms without (bench/amqp_latency.py,
            # local broker), and the failure is the publish itself rather than a side channel.
            channel: AbstractRobustChannel = await connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            await self._opened(channel)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_connection_lost)
        connection.reconnect_callbacks.add(self._on_reconnected)
        self._connection, self._channel = connection, channel
        self._ready = True
        self._state_changed(True)
        log.info("AMQP connection %r up", f"{self.name} pid {os.getpid()}")
        await self._usable()

    def _start_connecting(self) -> None:
        """On the loop: start the first connection, unless one is being made."""
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            self._connecting.add_done_callback(self._after_first_connect)

    async def _ensure_connected(self, wait: float) -> None:
        """Connect if nobody has yet, waiting at most ``wait`` seconds. A connection that
        is being restored after a loss is not waited for: the call fails at once."""
        if self._ready:
            return
        if self._connection is not None:
            raise ServiceUnavailable("the connection to the message broker was lost; reconnecting")
        self._start_connecting()
        assert self._connecting is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._connecting), wait)
        except TimeoutError:
            raise ServiceUnavailable(f"message broker not reachable within {wait:g}s") from None
        except CONNECTION_EXCEPTIONS as exc:
            raise ServiceUnavailable(f"message broker unreachable: {type(exc).__name__}") from exc

    def _after_first_connect(self, task: asyncio.Task) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.warning("AMQP connection failed: %s", type(task.exception()).__name__)
        # Callers find out at their next call; a subscriber has nobody to call for it.
        if self._keeps_connecting() and not self._closed:
            asyncio.get_running_loop().call_later(FIRST_CONNECT_RETRY, self._retry_first_connect)

    def _retry_first_connect(self) -> None:
        if self._closed or self._connection is not None:
            return
        self._start_connecting()

    def _on_connection_lost(self, _connection: Any, exc: BaseException | None = None) -> None:
        was_ready, self._ready = self._ready, False
        self._state_changed(False)
        if was_ready and not self._closed:
            log.warning("AMQP connection lost (%s); reconnecting", type(exc).__name__ if exc else "closed")
        self._lost("the connection to the message broker was lost")

    async def _on_reconnected(self, _connection: Any) -> None:
        # aio-pika has restored the channel, exchanges, queues, bindings and consumers
        # before it runs this; what is left is what was added while it was away.
        self._ready = True
        self._state_changed(True)
        log.info("AMQP connection restored")
        await self._usable()

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; calls still waiting fail with ``ServiceUnavailable``.
        Idempotent; a closed client cannot be used again."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop = self._loop
            mine = self._pid == os.getpid()
        if loop is None or not mine:
            return
        if self._on_loop_thread():
            loop.create_task(self._shutdown())
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(CLOSE_TIMEOUT + 1)
        except Exception:  # noqa: BLE001 - closing must not fail the caller
            log.debug("closing the AMQP connection failed", exc_info=True)

    async def _shutdown(self) -> None:
        self._ready = False
        self._state_changed(False)
        self._lost("the AMQP client was closed")
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._connection is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._connection.close()
            except Exception:  # noqa: BLE001
                log.debug("the AMQP connection did not close cleanly", exc_info=True)
