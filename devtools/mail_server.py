"""A mail server on this machine, for ``make run`` and the tests: it keeps every message
it accepts — in memory (``messages``) and, given a directory, as an ``.eml`` file there.

A test can make it refuse: ``refuse_next("451 4.3.0 Try again later", ...)`` answers the
next messages' DATA with those replies, one each, before it accepts again; ``refuse_all``
answers every message with one reply.

    python -m devtools.mail_server [--port 8025] [--dir .stack/mail]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import UnthreadedController

ROOT = Path(__file__).resolve().parent.parent
MAIL_DIR = ROOT / ".stack" / "mail"


class MailServer:
    def __init__(self, directory: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO)
        self.attempts = 0  # DATA commands, accepted or refused
        self._refusals: deque[str] = deque()
        self._refuse_all: str | None = None
        self._threading = _os_threading()
        self._lock = self._threading.Lock()
        self._seq = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._controller = UnthreadedController(self, hostname=host, port=port or _free_port(host),
                                                loop=self._loop)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailServer:
        """Listen, on an asyncio loop in an OS thread of its own; once per server."""
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        ready = self._threading.Event()
        failed: list[BaseException] = []

        def serve() -> None:
            try:
                self._controller.begin()
            except BaseException as exc:  # noqa: BLE001 - handed to start()'s caller
                failed.append(exc)
                return
            finally:
                ready.set()
            self._loop.run_forever()
            self._controller.end()  # the loop has stopped: closes the listener
            self._loop.close()

        self._thread = self._threading.Thread(target=serve, name="mail-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError(f"the mail server did not start listening on {self.url}")
        if failed:
            self._thread = None
            raise failed[0]
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def refuse_next(self, *replies: str) -> None:
        with self._lock:
            self._refusals.extend(replies)

    def refuse_all(self, reply: str | None) -> None:
        self._refuse_all = reply

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages, once at least ``count`` have arrived (or at the deadline)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    # -- aiosmtpd's handler hook ----------------------------------------------------------
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.attempts += 1
            refusal = self._refusals.popleft() if self._refusals else self._refuse_all
        if refusal:
            return refusal
        content = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.default)
        if self.directory is not None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            (self.directory / f"{stamp}-{next(self._seq):04d}.eml").write_bytes(content)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _os_threading() -> Any:
    """The standard ``threading`` module, even in a process eventlet has monkey-patched (the
    tests): the server's asyncio loop needs an OS thread of its own, as asyncio refuses to
    run a second loop in the OS thread where ``porchlight.amqp``'s loop runs as a
    greenthread."""
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("thread"):
            return patcher.original("threading")
    return threading


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.mail_server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=MAIL_DIR)
    args = parser.parse_args(argv)
    with MailServer(args.dir, args.host, args.port) as server:
        print(f"Mail server at {server.url}; messages are kept in {args.dir}/. Ctrl-C stops it.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
