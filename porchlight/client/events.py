"""Hearing nameko events over the process's connection: one exclusive queue per process
holds every subscription, so every replica hears every event; an event heard makes its
request id current while its handlers run."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from porchlight.client.connection import Connection
from porchlight.client.loop import run_callback
from porchlight.runtime import request_context

log = logging.getLogger(__name__)

EventHandler = Callable[[str, str, dict], None]


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on ``.``; ``*`` is one word, ``#`` zero or more."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))


@dataclass
class _Subscription:
    bindings: tuple[tuple[str, str], ...]
    on_event: EventHandler
    on_ready: Callable[[], None] | None
    on_lost: Callable[[], None] | None
    ready: bool = False

    def wants(self, service: str, event_type: str) -> bool:
        return any(s == service and topic_matches(p, event_type) for s, p in self.bindings)


class EventSubscriptions(Connection):
    """``subscribe``: handlers for the events a process wants to hear."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._subscriptions: list[_Subscription] = []
        super().__init__(*args, **kwargs)

    def _reset_parts(self) -> None:
        super()._reset_parts()
        self._event_queue: AbstractQueue | None = None
        self._event_exchanges: dict[str, AbstractExchange] = {}
        self._bound: set[tuple[str, str]] = set()
        for subscription in self._subscriptions:
            subscription.ready = False

    async def _usable(self) -> None:
        await super()._usable()
        if self._subscriptions:  # a client that subscribes to nothing may not declare a queue
            await self._bind_subscriptions()

    def _lost(self, reason: str) -> None:
        super()._lost(reason)
        for subscription in self._subscriptions:
            if subscription.ready:
                subscription.ready = False
                run_callback(subscription.on_lost, "subscription's on_lost")

    def _keeps_connecting(self) -> bool:
        return bool(self._subscriptions) or super()._keeps_connecting()

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
        elif self._connection is None:
            self._start_connecting()
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
                        # Declared once with the broker's users; this process only checks it.
                        exchange = await self._channel.declare_exchange(f"{service}.events", passive=True)
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
                run_callback(subscription.on_ready, "subscription's on_ready")

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
