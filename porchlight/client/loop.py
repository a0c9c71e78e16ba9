"""The process's one asyncio loop, in a daemon thread, started on first use — never at
import or construction, so a gunicorn worker forked after the app was built starts its
own. Every AMQP client of the process shares it (there is normally one): under eventlet's
monkey patching a "thread" is a greenthread of the one OS thread, and asyncio refuses to
run a second loop while another runs in the same OS thread."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: tuple[int, asyncio.AbstractEventLoop, threading.Thread] | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process's one asyncio loop in a background thread (the AMQP clients' loop);
    other asyncio servers of the process, like the development mail server, run on it
    too. Under eventlet there is one OS thread, so a second loop could not run at all."""
    return process_loop()[0]


def process_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """The process's loop and its thread, started on first use (again in a forked child:
    the parent's thread did not survive the fork)."""
    global _state
    with _lock:
        state = _state
        if state is None or state[0] != os.getpid() or not state[2].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_run, args=(loop,), name="amqp-loop", daemon=True)
            thread.start()
            state = _state = (os.getpid(), loop, thread)
        return state[1], state[2]


def _run(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def run_callback(callback: Callable[[], None] | None, what: str) -> None:
    """Run a caller's callback on the loop; its failure is logged, never raised into the
    loop."""
    if callback is None:
        return
    try:
        callback()
    except Exception:  # noqa: BLE001
        log.exception("the %s callback failed", what)
