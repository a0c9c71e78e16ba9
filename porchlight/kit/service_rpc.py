"""The ``@rpc`` every Porchlight service uses: nameko's, with replies that outlive a short
broker outage instead of taking the whole service down, on an exchange it never declares,
and with answers that come back under keys only this service may bind.

``nameko-rpc`` is declared once, with the broker's users (``porchlight.operator.broker_access``);
a service has no right to declare, re-type or delete it, so its queues bind to it as it is
(``rpc_exchange``). A service's calls to its neighbours are answered under
``reply.<service>.<uuid>`` (``OwnReplyListener``), which no other process may bind.

nameko publishes a reply with its default retry policy — three retries, about a second
apart — and treats a reply it could not publish as fatal: the container kills itself and
the process exits. So a worker that finished while RabbitMQ was away for more than ~3 s
ended its service for good (tests/faults/test_broker_faults.py measured it: ``documents``
and ``identity`` exited after a 5 s outage, and nothing brought them back).

Here a reply is retried for ``REPLY_PATIENCE`` seconds. One that still cannot go is logged
and dropped: its caller gave up long ago (every caller waits a bounded time), the broker
already took the request back when the connection died, and the process keeps serving —
kombu's consumer reconnects by itself. A service that must be stopped is stopped by its
supervisor, never by a reply it could not send.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from kombu import Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    RPC_EXCHANGE_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import (
    RPC_QUEUE_TEMPLATE,
    RPC_REPLY_QUEUE_TEMPLATE,
    RPC_REPLY_QUEUE_TTL,
    ReplyListener,
    Responder,
    Rpc,
    RpcConsumer,
)

from porchlight.contracts.calls import reply_key
from porchlight.runtime import amqp_tls

log = logging.getLogger(__name__)

# How long a reply may wait for the broker to come back (kombu retries once a second).
REPLY_PATIENCE = 30
REPLY_RETRY_POLICY = {"max_retries": REPLY_PATIENCE, "interval_start": 0, "interval_step": 1,
                      "interval_max": 1}


def rpc_exchange(config: dict[str, Any]) -> Exchange:
    """nameko's RPC exchange, never declared by this process (it only binds to it)."""
    return Exchange(config.get(RPC_EXCHANGE_CONFIG_KEY, "nameko-rpc"), type="topic", durable=True,
                    no_declare=True)


class PatientPublisher(Publisher):
    retry_policy = REPLY_RETRY_POLICY


class PatientResponder(Responder):
    publisher_cls = PatientPublisher


class PatientRpcConsumer(RpcConsumer):
    """nameko's ``RpcConsumer.handle_result`` with the patient responder, and a reply that
    could not be sent logged rather than fatal."""

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        config = self.container.config
        responder = PatientResponder(
            config[AMQP_URI_CONFIG_KEY], rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except Exception:  # noqa: BLE001 - the broker is gone for good: keep serving
            log.error("the reply to %s could not be sent after %d s; the caller has given up",
                      message.delivery_info.get("routing_key"), REPLY_PATIENCE, exc_info=True)
            return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info


    def setup(self) -> None:
        # nameko's own, on the exchange this service does not declare.
        if self.queue is None:
            service = self.container.service_name
            self.queue = Queue(RPC_QUEUE_TEMPLATE.format(service), routing_key=f"{service}.*",
                               exchange=rpc_exchange(self.container.config), durable=True)
            self.queue_consumer.register_provider(self)
            self._registered = True


class OwnReplyListener(ReplyListener):
    """nameko's reply listener, with answers under ``reply.<service>.<uuid>``: the one reply
    key this service's broker user may bind."""

    def setup(self) -> None:
        unique = uuid.uuid4()
        service = self.container.service_name
        self.routing_key = reply_key(service, str(unique))
        self.queue = Queue(RPC_REPLY_QUEUE_TEMPLATE.format(service, unique),
                           exchange=rpc_exchange(self.container.config), routing_key=self.routing_key,
                           queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL})
        self.queue_consumer.register_provider(self)


class PatientRpc(Rpc):
    """Every RPC entrypoint of a Porchlight service (a test holds each service to it)."""

    rpc_consumer = PatientRpcConsumer()

    def setup(self) -> None:
        # Before the container starts any consumer or publisher: ``amqps://`` then checks
        # the broker's name in every kombu connection of the service's process.
        amqp_tls.install()
        super().setup()


rpc = PatientRpc.decorator
