"""A fault-injecting TCP proxy for the fault tests (what toxiproxy does, small and in-process).

``FaultProxy((host, port))`` listens on a free loopback port (``address``: "host:port") and
passes every connection through to the upstream — RabbitMQ — byte for byte, until told
otherwise:

- ``latency = 0.5``: every chunk is held that long in each direction before it is passed
  on, so a round trip through the proxy costs twice that. The delay is pipelined: bytes
  keep their order and the throughput is not cut.
- ``cut(seconds)``: every open connection is closed at once, on both sides, and every new
  one is closed as soon as it is accepted (the client sees its connection end before the
  AMQP handshake) until ``heal()`` or, given ``seconds``, until that much time has passed
  (on the proxy's own clock, whatever the caller is doing then). Afterwards connections
  pass through again. ``cut`` returns how many connections it closed.

It runs on the process's background asyncio loop (``porchlight.client.background_loop``):
under eventlet, which the test runner installs first, a process has one OS thread, and one
OS thread runs one asyncio loop. Its methods may be called from any (green)thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from porchlight.client import background_loop

CHUNK = 64 * 1024


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            writer.transport.abort()


class FaultProxy:
    """A TCP proxy to ``upstream`` that can delay and cut its connections (see the module)."""

    def __init__(self, upstream: tuple[str, int], *, host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.host = host
        self.port = 0
        # Seconds every chunk is held, in each direction; change it at any time.
        self.latency = 0.0
        # Connections passed through, and refused while cut, since the start.
        self.accepted = 0
        self.refused = 0
        self._loop = background_loop()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cut = False
        self._heal: asyncio.TimerHandle | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # -- the sync facade (any thread) ----------------------------------------------------
    def start(self) -> FaultProxy:
        self._run(self._start())
        return self

    def stop(self) -> None:
        self._run(self._stop())

    def cut(self, seconds: float | None = None) -> int:
        """Close every open connection and refuse new ones until ``heal()`` or, given
        ``seconds``, until they have passed. How many connections were closed."""
        return self._run(self._cut_now(seconds))

    def heal(self) -> None:
        """Let connections through again."""
        self._run(self._heal_now())

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # -- on the loop ---------------------------------------------------------------------
    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._heal is not None:
            self._heal.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for link in list(self._links):
            link.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _cut_now(self, seconds: float | None) -> int:
        self._cut = True
        if self._heal is not None:
            self._heal.cancel()
        self._heal = None if seconds is None else self._loop.call_later(seconds, self._healed)
        links, self._links = list(self._links), set()
        for link in links:
            link.close()
        return len(links)

    async def _heal_now(self) -> None:
        self._healed()

    def _healed(self) -> None:
        self._cut = False
        if self._heal is not None:
            self._heal.cancel()
            self._heal = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._pass_through(reader, writer)
        except asyncio.CancelledError:
            # stop(): end quietly (asyncio's stream server reports a task that ends cancelled).
            writer.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _pass_through(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        if self._cut:  # cut while we were connecting
            self.refused += 1
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.accepted += 1
        link = _Link(writer, up_writer)
        self._links.add(link)
        pipes = [asyncio.ensure_future(self._pipe(reader, up_writer)),
                 asyncio.ensure_future(self._pipe(up_reader, writer))]
        try:
            # Either side ending ends both: AMQP has no use for a half-closed connection.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._links.discard(link)
            link.close()
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pass ``reader``'s bytes to ``writer``, each chunk ``latency`` seconds after it came."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    return
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(CHUNK):
                queue.put_nowait((loop.time() + self.latency, data))
            queue.put_nowait((loop.time() + self.latency, b""))  # the end, once the rest is out
            await delivering
        except (ConnectionError, OSError):
            pass
        finally:
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await delivering
