"""Round-trip latency of the AMQP client, next to what aio-pika itself costs.

    python -m bench.amqp_latency [--calls N]

On one fresh vhost of the local broker, in one run: the p50 of ``AmqpClient.call`` to a
no-op nameko method (a real service container in this process), and the p50 of a raw
aio-pika request/reply (a responder echoing to ``reply_to``), with and without publisher
confirms — the price of learning at once that a request was unroutable.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import aio_pika


async def raw_roundtrips(amqp_uri: str, calls: int = 500, *, confirms: bool = False) -> list[float]:
    """Milliseconds of each round trip: publish to a queue whose consumer answers to
    ``reply_to``, in this process."""
    connection = await aio_pika.connect(amqp_uri)
    try:
        channel = await connection.channel(publisher_confirms=confirms)
        requests = await channel.declare_queue(f"bench-echo-{uuid.uuid4().hex}", exclusive=True)
        replies = await channel.declare_queue(f"bench-reply-{uuid.uuid4().hex}", exclusive=True)
        waiting: dict[str, asyncio.Future] = {}

        async def respond(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await channel.default_exchange.publish(
                aio_pika.Message(message.body, correlation_id=message.correlation_id),
                routing_key=message.reply_to or "",
            )

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            future = waiting.pop(message.correlation_id or "", None)
            if future is not None:
                future.set_result(message.body)

        await requests.consume(respond, no_ack=True)
        await replies.consume(on_reply, no_ack=True)
        loop = asyncio.get_running_loop()
        timings = []
        for _ in range(calls):
            correlation_id = uuid.uuid4().hex
            waiting[correlation_id] = loop.create_future()
            started = time.perf_counter()
            await channel.default_exchange.publish(
                aio_pika.Message(b'{"args": [], "kwargs": {}}', correlation_id=correlation_id,
                                 reply_to=replies.name, content_type="application/json"),
                routing_key=requests.name, mandatory=True,
            )
            await waiting[correlation_id]
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        await connection.close()


def client_calls(client: Any, service: str, method: str, calls: int) -> list[float]:
    """Milliseconds of each ``client.call(service, method)``, after one call to connect."""
    client.call(service, method)
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        client.call(service, method)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def rpc_against_raw(amqp_uri: str, calls: int) -> dict[str, list[float]]:
    """In one run: ``sharing.ping`` (a no-op) through the gateways' client to the running
    sharing service, and raw aio-pika request/reply to a responder in this process."""
    from porchlight.client import AmqpClient

    raw = asyncio.run(raw_roundtrips(amqp_uri, calls))  # before the client's loop starts
    client = AmqpClient(amqp_uri, timeout=10, name="bench")
    try:
        return {"client": client_calls(client, "sharing", "ping", calls), "raw": raw}
    finally:
        client.close()


def client_call_p50(amqp_uri: str, calls: int = 500) -> float:
    """Milliseconds, p50 of ``AmqpClient.call`` to a no-op method of a nameko service."""
    from nameko.containers import ServiceContainer
    from nameko.rpc import rpc

    from porchlight.client import AmqpClient

    class Noop:
        name = "bench_noop"

        @rpc
        def noop(self) -> None:
            return None

    container = ServiceContainer(Noop, {"AMQP_URI": amqp_uri, "serializer": "json"})
    container.start()
    client = AmqpClient(amqp_uri, timeout=10, name="bench")
    try:
        return statistics.median(client_calls(client, "bench_noop", "noop", calls))
    finally:
        client.close()
        container.stop()


def main() -> None:
    import eventlet

    eventlet.monkey_patch()  # nameko's container needs it; the client works under it too

    from devtools.broker import IsolatedVhost, ensure_broker
    from porchlight.runtime.settings import get_settings

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    ensure_broker(get_settings().amqp_uri)
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        figures = {}
        # The raw runs first: once the client's loop runs, eventlet's one OS thread
        # cannot run another asyncio loop.
        for confirms in (False, True):
            figures[f"raw aio-pika request/reply, confirms={confirms}"] = statistics.median(
                asyncio.run(raw_roundtrips(uri, args.calls, confirms=confirms)))
        figures["AmqpClient.call to a nameko no-op"] = client_call_p50(uri, args.calls)
    for what, p50 in figures.items():
        print(f"{what:50s} p50 {p50:6.2f} ms")


if __name__ == "__main__":
    main()
