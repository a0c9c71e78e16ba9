"""nameko RPC calls over the process's connection: each process has one exclusive reply
queue bound once to its reply key; a request is JSON ``{"args", "kwargs"}`` published to
the ``nameko-rpc`` topic exchange under ``<service>.<method>`` with that key as
``reply_to``, and fails within its timeout (see ``porchlight.client.connection``)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractRobustChannel
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelClosed, ChannelInvalidStateError, PublishError
from nameko.exceptions import deserialize

import porchlight.contracts.errors  # noqa: F401 - registers the typed errors that deserialize() knows
from porchlight.client.connection import BrokerRefused, Connection, ServiceUnavailable
from porchlight.contracts.callers import declared
from porchlight.contracts.calls import reply_key
from porchlight.runtime import request_context

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"  # nameko's default RPC_EXCHANGE
# Between looks at a channel the broker closed (a refused call) while aio-pika reopens it.
CHANNEL_REOPEN_POLL = 0.005


@dataclass
class _Pending:
    service: str
    future: asyncio.Future = field(repr=False)


def _refused(exc: ChannelClosed) -> bool:
    """The broker closed the channel for a refused operation. aiormq raises its own
    ChannelAccessRefused, which aio-pika does not re-export; its reply text starts with the
    AMQP name of code 403."""
    return bool(exc.args) and str(exc.args[0]).startswith("ACCESS_REFUSED")


class RpcCalls(Connection):
    """Calls: ``call`` from any thread, ``call_async`` on the client's loop."""

    def _reset_parts(self) -> None:
        super()._reset_parts()
        self._rpc_exchange: AbstractExchange | None = None
        self._reply_key = reply_key(self.name, uuid.uuid4().hex)
        self._pending: dict[str, _Pending] = {}

    async def _opened(self, channel: AbstractRobustChannel) -> None:
        await super()._opened(channel)
        # Declared once with the broker's users; this process may only check it is there.
        rpc_exchange = await channel.declare_exchange(RPC_EXCHANGE, passive=True)
        reply_queue = await channel.declare_queue(
            f"rpc.reply-{self.name}-{self._reply_key.rsplit('.', 1)[1]}", exclusive=True, auto_delete=True
        )
        # robust=True (the default): aio-pika redeclares the queue under the same name
        # after a reconnection, binds it again and restarts the consumer.
        await reply_queue.bind(rpc_exchange, routing_key=self._reply_key)
        await reply_queue.consume(self._on_reply, no_ack=True)
        self._rpc_exchange = rpc_exchange

    def _lost(self, reason: str) -> None:
        super()._lost(reason)
        pending, self._pending = self._pending, {}
        for call in pending.values():
            if not call.future.done():
                call.future.set_exception(ServiceUnavailable(f"{call.service}: {reason}"))

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
            # And the moment this caller stops waiting: the service may refuse to start
            # what nobody will hear the end of (porchlight.runtime.request_context).
            headers={**(headers or {}), **request_context.deadline_header(timeout)},
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
                      "porchlight/operator/broker_access.py", service, method)
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


T = TypeVar("T")


def typed(client: Any, declaration: type[T]) -> T:
    """The services as a process declared its calls to them (``porchlight.contracts.callers``):
    ``typed(client, PortalServices).identity.resolve_session(raw)`` is
    ``client.call("identity", "resolve_session", raw)``, over anything with that ``call``
    (the client, or a test's fake services)."""
    return cast(T, Services(client, declared(declaration)))


class Services:
    """``services.identity.get_workspace(ws)`` → ``client.call("identity", "get_workspace", ws)``,
    for the calls declared and no other: an undeclared one is refused before anything is
    sent (``AttributeError``), as the broker would refuse it to this process's user."""

    def __init__(self, client: Any, calls: dict[str, tuple[str, ...]]) -> None:
        self._client, self._calls = client, calls

    def __getattr__(self, service: str) -> Any:
        if service not in self._calls:
            raise AttributeError(f"no call to {service!r} is declared for this process")
        return _Service(self._client, service, self._calls[service])


class _Service:
    def __init__(self, client: Any, service: str, methods: tuple[str, ...]) -> None:
        self._client, self._service, self._methods = client, service, methods

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in self._methods:
            raise AttributeError(f"{self._service}.{method} is not declared for this process")

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._client.call(self._service, method, *args, **kwargs)

        return call
