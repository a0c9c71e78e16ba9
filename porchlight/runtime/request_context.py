"""The request id: one customer's action followed through every process it touches.

A gateway takes the caller's ``X-Request-ID`` when it is sane, or makes one, and keeps it
for the request. From there it travels with the work:

- **RPC calls and events.** ``AmqpClient`` sends it as the AMQP header
  ``nameko.request_id``. nameko 2.14 turns every ``nameko.*`` header of an RPC request or
  an event into the handling worker's ``context_data`` (``HeaderDecoder``), and copies a
  worker's ``context_data`` onto every RPC call (``MethodProxy._call``) and event
  (``EventDispatcher``) that worker makes (``HeaderEncoder``). So the id crosses any
  number of services with no code of ours in between.
- **Celery tasks.** ``porchlight.kit.task_queue`` puts it in the task's headers as
  ``request_id``; the worker's signal handlers (``workers.tracing``) make it current while
  the task runs, and the worker's own RPC calls carry it on.
- **Logs.** ``porchlight.runtime.logs`` stamps every record with the current id.

"Current" is per thread of execution: a ``threading.local``. That is what each kind of
process needs: gunicorn's gthread workers and Celery's thread pool run one request or task
per OS thread, and under eventlet's monkey patching (``nameko run``, the tests)
``threading.local`` is eventlet's greenthread-local storage, so the concurrent workers of a
nameko service never see each other's id. (A ``contextvars.ContextVar`` would also be
greenlet-local with greenlet 1.0+, but a thread pool that reuses threads and a task that
forgets to reset would leak ids either way; the explicit ``bound`` context manager and
the set/clear pairs around every worker and task are what keep ids from leaking.)

The incoming header is untrusted: it ends up in every log line. Only 1 to 128 characters
of ``[A-Za-z0-9._:-]`` pass — enough for a UUID with or without dashes, a hex id, or a
proxy's ``host:counter`` id; nothing that can break a line, a JSON string or a terminal.
A header outside that is ignored (a new id is made) rather than cleaned, so a forged value
never reaches a log in any form.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

HTTP_HEADER = "X-Request-ID"
# nameko's context data key; on the wire the AMQP header is ``nameko.request_id``.
CONTEXT_KEY = "request_id"
AMQP_HEADER = "nameko." + CONTEXT_KEY
# The Celery task header.
TASK_HEADER = "request_id"

MAX_LENGTH = 128
# ``[0-9]`` and friends spelled out, not ``\w``: ``\w`` matches any Unicode letter.
# ``fullmatch``, not ``$``: ``$`` also matches before a trailing newline.
_SANE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")

_current = threading.local()


def new_request_id() -> str:
    """A fresh id: 32 lowercase hex digits (a UUID4)."""
    return uuid.uuid4().hex


def sane(value: Any) -> str | None:
    """``value`` when it is an acceptable request id, else None. Checks the length before
    the pattern, so a huge header costs nothing."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_LENGTH:
        return None
    return value if _SANE.fullmatch(value) else None


def accept_or_create(incoming: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    return sane(incoming) or new_request_id()


def current() -> str | None:
    """The id of the request, RPC call, event or task this thread is working for."""
    return getattr(_current, "request_id", None)


def set_current(request_id: str | None) -> None:
    """Make ``request_id`` current (None: no request). Ids that are not sane are refused
    here too, since headers from other processes are as untrusted as the gateway's."""
    _current.request_id = sane(request_id)


def clear() -> None:
    _current.request_id = None
    _current.command_key = None
    _current.deadline = None


# The moment (seconds since the epoch) after which the caller no longer waits for the
# answer: set by AmqpClient on every call, read by the service that handles it.
DEADLINE_CONTEXT_KEY = "deadline"
DEADLINE_AMQP_HEADER = "nameko." + DEADLINE_CONTEXT_KEY


def deadline_header(timeout: float, now: float | None = None) -> dict[str, str]:
    """The header a call waiting ``timeout`` seconds from ``now`` carries."""
    return {DEADLINE_AMQP_HEADER: f"{(time.time() if now is None else now) + timeout:.3f}"}


def set_deadline(value: Any) -> None:
    """The deadline of the call this thread handles, from its header (anything else:
    none)."""
    try:
        moment = float(value) if isinstance(value, str) and len(value) < 32 else None
    except ValueError:
        moment = None
    _current.deadline = moment if moment is not None and math.isfinite(moment) else None


def deadline() -> float | None:
    """The deadline of the call this thread handles, if its caller sent one."""
    return getattr(_current, "deadline", None)


def past_deadline(now: float | None = None) -> bool:
    """Whether the caller of the call this thread handles has stopped waiting for it."""
    moment = deadline()
    return moment is not None and (time.time() if now is None else now) >= moment


@contextmanager
def bound(request_id: str | None) -> Iterator[str | None]:
    """``with bound(id):`` — the id is current inside, and what was current before is
    current again after, whatever happens inside."""
    before = current()
    set_current(request_id)
    try:
        yield current()
    finally:
        set_current(before)


def from_headers(headers: Mapping[str, Any] | None, key: str) -> str | None:
    """The sane request id under ``key`` in a message's headers, if there is one."""
    if not headers:
        return None
    value = headers.get(key)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return sane(value)


# -- a staff command's idempotency key -------------------------------------------------------
# The admin gateway takes a request's ``Idempotency-Key`` (the same sane characters as a
# request id) and sends it with the RPC calls the request makes, as the AMQP header
# ``nameko.idempotency_key``. Unlike the request id it must not travel further: the
# service's ``RequestTracing`` takes it out of the worker's context data before the worker
# runs (so nameko copies it onto no call and no event the worker makes) and makes it
# current for the worker alone; ``porchlight.kit.idempotency`` reads it there.
COMMAND_HTTP_HEADER = "Idempotency-Key"
COMMAND_CONTEXT_KEY = "idempotency_key"
COMMAND_AMQP_HEADER = "nameko." + COMMAND_CONTEXT_KEY


def new_form_key() -> str:
    """The one-time key a portal form carries (a hidden field): a double click or a page
    sent again carries the same one, so the command it asks for acts once."""
    return "form-" + new_request_id()


def command_key() -> str | None:
    """The idempotency key of the staff command this thread is carrying out, if any."""
    return getattr(_current, "command_key", None)


def set_command_key(key: str | None) -> None:
    _current.command_key = sane(key)


@contextmanager
def command(key: str | None) -> Iterator[str | None]:
    """``with command(key):`` — calls made inside carry ``key``; after, none do."""
    before = command_key()
    set_command_key(key)
    try:
        yield command_key()
    finally:
        set_command_key(before)


def outgoing_headers() -> dict[str, str] | None:
    """The AMQP headers an RPC call made now carries: the request id and, inside a staff
    command, its idempotency key."""
    headers = {}
    if (request_id := current()) is not None:
        headers[AMQP_HEADER] = request_id
    if (key := command_key()) is not None:
        headers[COMMAND_AMQP_HEADER] = key
    return headers or None
