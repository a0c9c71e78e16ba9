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
  come back typed (``porchlight.errors``), others as nameko's ``RemoteError``.
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
- **Traced.** Every request carries the caller's request id (``porchlight.request_context``,
  current in the calling thread) as the header ``nameko.request_id``, which nameko makes the
  service worker's context data; an event heard makes its own id current while its
  handlers run.
- **Refusals are clear.** A call the broker refuses to this process's user fails at once
  with ``BrokerRefused``; the channel the broker closed is reopened before the next call.
- **Quiet.** Message bodies are never logged: they can hold share tokens and codes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelClosed, ChannelInvalidStateError, PublishError
from nameko.exceptions import deserialize

import porchlight.errors  # noqa: F401 - registers the typed errors that deserialize() knows
from porchlight import request_context

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"  # nameko's default RPC_EXCHANGE
# Between reconnection attempts once the connection was up (aio-pika's own loop).
RECONNECT_INTERVAL = 1.0
# Between attempts of a subscriber whose very first connection failed.
FIRST_CONNECT_RETRY = 2.0
# Between looks at a channel the broker closed (a refused call) while aio-pika reopens it.
CHANNEL_REOPEN_POLL = 0.005
# How long close() waits for the connection to say goodbye.
CLOSE_TIMEOUT = 5.0


class ServiceUnavailable(Exception):
    """A service did not answer in time, is unknown to the broker, or the broker could
    not be reached (or the connection was lost mid-call)."""


class BrokerRefused(ServiceUnavailable):
    """The broker refused the call to this process's user (RabbitMQ ACCESS_REFUSED): its
    rights (``porchlight.broker_access``) do not include that ``<service>.<method>``."""


EventHandler = Callable[[str, str, dict], None]


@dataclass
class _Subscription:
    bindings: tuple[tuple[str, str], ...]
    on_event: EventHandler
    on_ready: Callable[[], None] | None
    on_lost: Callable[[], None] | None
    ready: bool = False

    def wants(self, service: str, event_type: str) -> bool:
        return any(s == service and topic_matches(p, event_type) for s, p in self.bindings)


@dataclass
class _Pending:
    service: str
    future: asyncio.Future = field(repr=False)


def _refused(exc: ChannelClosed) -> bool:
    """The broker closed the channel for a refused operation. aiormq raises its own
    ChannelAccessRefused, which aio-pika does not re-export; its reply text starts with the
    AMQP name of code 403."""
    return bool(exc.args) and str(exc.args[0]).startswith("ACCESS_REFUSED")


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on ``.``; ``*`` is one word, ``#`` zero or more."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))


class AmqpClient:
    """The process's AMQP client. Construct it anywhere; it connects on first use."""

    def __init__(self, amqp_uri: str, *, timeout: float = 10.0, name: str = "porchlight") -> None:
        self.amqp_uri = amqp_uri
        self.timeout = float(timeout)
        self.name = name
        self._lock = threading.Lock()
        self._closed = False
        self._subscriptions: list[_Subscription] = []
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
        self._rpc_exchange: AbstractExchange | None = None
        self._event_queue: AbstractQueue | None = None
        self._event_exchanges: dict[str, AbstractExchange] = {}
        self._bound: set[tuple[str, str]] = set()
        self._reply_key = uuid.uuid4().hex
        self._pending: dict[str, _Pending] = {}
        self._ready = False
        for subscription in self._subscriptions:
            subscription.ready = False

    # -- the loop thread ----------------------------------------------------------------

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
                self._loop, self._thread = _process_loop()
            return self._loop

    def _on_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

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
            _run_callback(lambda: callback(up), "on_connection_state")

    # -- connecting -----------------------------------------------------------------------

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
            rpc_exchange = await channel.declare_exchange(
                RPC_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
            reply_queue = await channel.declare_queue(
                f"rpc.reply-{self.name}-{self._reply_key}", exclusive=True, auto_delete=True
            )
            # robust=True (the default): aio-pika redeclares the queue under the same name
            # after a reconnection, binds it again and restarts the consumer.
            await reply_queue.bind(rpc_exchange, routing_key=self._reply_key)
            await reply_queue.consume(self._on_reply, no_ack=True)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_connection_lost)
        connection.reconnect_callbacks.add(self._on_reconnected)
        self._connection, self._channel, self._rpc_exchange = connection, channel, rpc_exchange
        self._ready = True
        self._state_changed(True)
        log.info("AMQP connection %r up", f"{self.name} pid {os.getpid()}")
        if self._subscriptions:
            await self._bind_subscriptions()

    async def _ensure_connected(self, wait: float) -> None:
        """Connect if nobody has yet, waiting at most ``wait`` seconds. A connection that
        is being restored after a loss is not waited for: the call fails at once."""
        if self._ready:
            return
        if self._connection is not None:
            raise ServiceUnavailable("the connection to the message broker was lost; reconnecting")
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            self._connecting.add_done_callback(self._after_first_connect)
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
        if self._subscriptions and not self._closed:
            asyncio.get_running_loop().call_later(FIRST_CONNECT_RETRY, self._retry_first_connect)

    def _retry_first_connect(self) -> None:
        if self._closed or self._connection is not None:
            return
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            self._connecting.add_done_callback(self._after_first_connect)

    def _on_connection_lost(self, _connection: Any, exc: BaseException | None = None) -> None:
        was_ready, self._ready = self._ready, False
        self._state_changed(False)
        self._fail_pending("the connection to the message broker was lost")
        if was_ready and not self._closed:
            log.warning("AMQP connection lost (%s); reconnecting", type(exc).__name__ if exc else "closed")
        for subscription in self._subscriptions:
            if subscription.ready:
                subscription.ready = False
                _run_callback(subscription.on_lost, "on_lost")

    async def _on_reconnected(self, _connection: Any) -> None:
        # aio-pika has restored the channel, exchanges, queues, bindings and consumers
        # before it runs this; what is left is a subscription made while it was away.
        self._ready = True
        self._state_changed(True)
        log.info("AMQP connection restored")
        if self._subscriptions:  # a client that subscribes to nothing may not declare a queue
            await self._bind_subscriptions()

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for call in pending.values():
            if not call.future.done():
                call.future.set_exception(ServiceUnavailable(f"{call.service}: {reason}"))

    # -- RPC ------------------------------------------------------------------------------

    async def call_async(
        self, service: str, method: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        """``call`` for code running on this client's loop."""
        return await self._call(service, method, args, kwargs, timeout, request_context.outgoing_headers())

    async def _call(self, service: str, method: str, args: tuple, kwargs: dict, timeout: float | None,
                    headers: dict[str, str] | None) -> Any:
        timeout = self.timeout if timeout is None else float(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._ensure_connected(timeout)
        assert self._rpc_exchange is not None
        correlation_id = uuid.uuid4().hex
        future = loop.create_future()
        self._pending[correlation_id] = _Pending(service, future)
        message = aio_pika.Message(
            json.dumps({"args": list(args), "kwargs": kwargs}).encode(),
            content_type="application/json",
            correlation_id=correlation_id,
            reply_to=self._reply_key,
            # The broker drops a request nobody took in time: a service that was down does
            # not replay stale commands on restart.
            expiration=timeout,
            delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
            headers=headers,
        )
        try:
            async with asyncio.timeout_at(deadline):
                await self._publish(message, f"{service}.{method}")
                reply = await future
        except PublishError:
            # Returned by the broker: no queue is bound for <service>.<method> (nameko's
            # UnknownService).
            raise ServiceUnavailable(f"unknown service: {service}") from None
        except ChannelClosed as exc:
            if not _refused(exc):
                raise ServiceUnavailable(f"{service}.{method}: {type(exc).__name__}") from exc
            log.error("the message broker refused %s.%s to this process's user; see "
                      "porchlight/broker_access.py", service, method)
            raise BrokerRefused(f"{service}.{method}: refused by the message broker") from None
        except TimeoutError:
            raise ServiceUnavailable(f"{service}.{method} did not answer within {timeout:g}s") from None
        except CONNECTION_EXCEPTIONS as exc:
            raise ServiceUnavailable(f"{service}.{method}: {type(exc).__name__}") from exc
        finally:
            self._pending.pop(correlation_id, None)
        if reply.get("error"):
            raise deserialize(reply["error"])
        return reply.get("result")

    async def _publish(self, message: aio_pika.Message, routing_key: str) -> None:
        """Publish a request. After a refused call the broker closed the channel; aio-pika
        reopens it and restores the queues and consumers within milliseconds, so a publish
        that finds it closed waits for that (within the caller's deadline) and tries again:
        nothing was sent."""
        assert self._channel is not None and self._rpc_exchange is not None
        while True:
            await self._channel.ready()
            try:
                await self._rpc_exchange.publish(message, routing_key, mandatory=True)
                return
            except ChannelInvalidStateError:
                if not self._ready:
                    raise ServiceUnavailable("the connection to the message broker was lost") from None
                await asyncio.sleep(CHANNEL_REOPEN_POLL)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        call = self._pending.pop(message.correlation_id or "", None)
        if call is None or call.future.done():
            log.debug("discarding a reply to a call that gave up (%s)", message.correlation_id)
            return
        try:
            call.future.set_result(json.loads(message.body))
        except ValueError:
            call.future.set_exception(ServiceUnavailable(f"{call.service}: unreadable reply"))

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call ``service.method(*args, **kwargs)`` and wait for its answer. Raises the
        service's typed error, or ``ServiceUnavailable``."""
        timeout = self.timeout if timeout is None else float(timeout)
        # The id is read here, in the caller's thread: the call itself runs on the loop's.
        return self._wait(self._call(service, method, args, kwargs, timeout,
                                     request_context.outgoing_headers()),
                          timeout)

    @contextmanager
    def proxy(self) -> Iterator[Any]:
        """``with client.proxy() as services: services.identity.get_workspace(ws)``."""
        yield Services(self)

    def _wait(self, coro: Any, timeout: float) -> Any:
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

    # -- events ---------------------------------------------------------------------------

    def subscribe(
        self,
        bindings: Iterable[tuple[str, str]],
        on_event: EventHandler,
        *,
        on_ready: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """Hear nameko events: ``on_event(service, event_type, payload)`` for each event a
        binding ``(service, event_type pattern)`` matches. One exclusive queue per process
        holds every subscription, so every replica hears every event. ``on_ready`` runs once
        the queue is bound and consuming (again after each reconnection), ``on_lost`` when
        the connection is lost or the client closed. All three run on the client's loop
        thread and must be quick. May return before the connection is up."""
        subscription = _Subscription(tuple((s, t) for s, t in bindings), on_event, on_ready, on_lost)
        loop = self._ensure_loop()
        asyncio.run_coroutine_threadsafe(self._subscribe(subscription), loop)

    async def _subscribe(self, subscription: _Subscription) -> None:
        self._subscriptions.append(subscription)
        if self._ready:
            await self._bind_subscriptions()
        elif self._connection is None and (self._connecting is None or self._connecting.done()):
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            self._connecting.add_done_callback(self._after_first_connect)
        # else: _connect() or _on_reconnected() binds it and says it is ready.

    async def _bind_subscriptions(self) -> None:
        assert self._channel is not None
        try:
            if self._event_queue is None:
                # A name of our own rather than a server-named one: aio-pika's robust queue
                # would invent one anyway (amq_<uuid>), and the same name after reconnection
                # is what lets it bind and consume again. Exclusive: gone with the connection.
                self._event_queue = await self._channel.declare_queue(
                    f"events-{self.name}-{uuid.uuid4().hex}", exclusive=True, auto_delete=True
                )
                await self._event_queue.consume(self._on_event, no_ack=True)
            for subscription in list(self._subscriptions):
                for service, topic in subscription.bindings:
                    if (service, topic) in self._bound:
                        continue
                    exchange = self._event_exchanges.get(service)
                    if exchange is None:
                        # Exactly as nameko declares it, or the declaration would conflict.
                        exchange = await self._channel.declare_exchange(
                            f"{service}.events", aio_pika.ExchangeType.TOPIC, durable=True, auto_delete=False
                        )
                        self._event_exchanges[service] = exchange
                    await self._event_queue.bind(exchange, routing_key=topic)
                    self._bound.add((service, topic))
        except CONNECTION_EXCEPTIONS:
            log.warning("could not bind the event subscriptions; retrying after reconnection", exc_info=True)
            return
        if not self._ready:
            return
        for subscription in self._subscriptions:
            if not subscription.ready:
                subscription.ready = True
                _run_callback(subscription.on_ready, "on_ready")

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        exchange = message.exchange or ""
        if not exchange.endswith(".events"):
            return
        service, event_type = exchange.removesuffix(".events"), message.routing_key or ""
        try:
            payload = json.loads(message.body)
        except ValueError:
            log.warning("an unreadable %s.%s event was dropped", service, event_type)
            return
        # The handlers are synchronous, so the id is current for exactly their run.
        request_id = request_context.from_headers(message.headers, request_context.AMQP_HEADER)
        with request_context.bound(request_id):
            log.debug("heard %s.%s", service, event_type)
            for subscription in self._subscriptions:
                if subscription.wants(service, event_type):
                    try:
                        subscription.on_event(service, event_type, payload)
                    except Exception:  # noqa: BLE001 - one handler's bug must not stop the others
                        log.exception("handling the %s.%s event failed", service, event_type)

    # -- closing --------------------------------------------------------------------------

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
        self._fail_pending("the AMQP client was closed")
        for subscription in self._subscriptions:
            if subscription.ready:
                subscription.ready = False
                _run_callback(subscription.on_lost, "on_lost")
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._connection is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._connection.close()
            except Exception:  # noqa: BLE001
                log.debug("the AMQP connection did not close cleanly", exc_info=True)


class Services:
    """``services.identity.get_workspace(ws)`` → ``client.call("identity", "get_workspace", ws)``,
    over anything with that ``call`` (the client, or a test's fake services)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self._client, service)


class _Service:
    def __init__(self, client: Any, service: str) -> None:
        self._client, self._service = client, service

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._client.call(self._service, method, *args, **kwargs)

        return call


_process_loop_lock = threading.Lock()
_process_loop_state: tuple[int, asyncio.AbstractEventLoop, threading.Thread] | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process's one asyncio loop in a background thread (the AMQP clients' loop);
    other asyncio servers of the process, like the development mail server, run on it
    too. Under eventlet there is one OS thread, so a second loop could not run at all."""
    return _process_loop()[0]


def _process_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """The process's AMQP loop and its thread, started on first use (again in a forked
    child: the parent's thread did not survive the fork)."""
    global _process_loop_state
    with _process_loop_lock:
        state = _process_loop_state
        if state is None or state[0] != os.getpid() or not state[2].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_run_loop, args=(loop,), name="amqp-loop", daemon=True)
            thread.start()
            state = _process_loop_state = (os.getpid(), loop, thread)
        return state[1], state[2]


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _run_callback(callback: Callable[[], None] | None, what: str) -> None:
    if callback is None:
        return
    try:
        callback()
    except Exception:  # noqa: BLE001
        log.exception("the subscription's %s callback failed", what)
