"""The AMQP client of every process that is not a nameko service (the gateways, the CLI,
the Celery worker, the bench, the tests): ``AmqpClient`` — one connection per process,
nameko RPC calls and nameko events — put together from ``connection``, ``rpc`` and
``events`` on the process's loop (``loop``); ``measured`` counts and times its calls."""

from __future__ import annotations

from porchlight.client.connection import BrokerRefused, ServiceUnavailable
from porchlight.client.events import EventHandler, EventSubscriptions, topic_matches
from porchlight.client.loop import background_loop
from porchlight.client.rpc import RPC_EXCHANGE, RpcCalls, Services, typed


class AmqpClient(RpcCalls, EventSubscriptions):
    """The process's AMQP client. Construct it anywhere; it connects on first use."""


__all__ = ["RPC_EXCHANGE", "AmqpClient", "BrokerRefused", "EventHandler", "ServiceUnavailable",
           "Services", "background_loop", "topic_matches", "typed"]
