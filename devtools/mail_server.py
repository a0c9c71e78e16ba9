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
import threading
import time
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from porchlight.client import background_loop

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
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.port = port or _free_port(host)
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailServer:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        loop = background_loop()
        self._server = asyncio.run_coroutine_threadsafe(
            loop.create_server(lambda: SMTP(self), self.host, self.port), loop).result(10)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            loop = background_loop()

            async def close() -> None:
                server.close()
                await server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), loop).result(10)

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
