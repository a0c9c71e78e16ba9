"""Staff commands that can be retried safely: the same ``Idempotency-Key`` and request has
one effect and gets the first answer back, for a day.

Why in the service and not in the gateway: the gateway may give up on an answer (503 after
its timeout, a broker outage) for a command the service nevertheless carried out. Only the
service that did the work knows it was done, so the service records the answer in its own
database, in the worker that did the work; a retry then finds it there whatever happened to
the first reply.

How a key travels: the admin gateway sends it with the RPC calls of that one request (the
AMQP header ``nameko.idempotency_key``, see ``porchlight.runtime.request_context``); the service's
``RequestTracing`` makes it current for that worker only. A command method decorated with
``@idempotent`` then:

1. claims ``(workspace, key, command)`` with one insert under a unique index — of two
   concurrent retries exactly one runs, the other hears 409 (still running);
2. answers a finished claim with its stored answer, unless the same key came with other
   arguments (422: a key names one request);
3. runs the command, stores its answer, and returns it. A command that fails is released,
   so a retry runs it again: a failed command changed nothing (each leaves nothing half
   done). A claim whose worker died is taken over after ``LEASE``.

An answer holding a secret shown once (a new link's token, an API key, a temporary
password) is never stored: a retry of such a command hears 409 saying it was done and its
secret cannot be shown again. Records go a day after they were claimed (TTL index).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import mongoengine as me
from nameko.exceptions import IncorrectSignature

from porchlight.contracts.clock import as_utc, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput
from porchlight.kit.storage import expires
from porchlight.runtime import request_context

# A retry within this long gets the first answer.
KEPT_FOR = timedelta(days=1)
# A claim older than this whose command never finished (its process died) may be taken over.
LEASE = timedelta(seconds=60)
HEADER = request_context.COMMAND_HTTP_HEADER

STILL_RUNNING = ("A request with this Idempotency-Key is still being carried out; "
                 "retry in a few seconds to get its answer.")
OTHER_REQUEST = "This Idempotency-Key was already used for a different request; use a new key."
SHOWN_ONCE = ("This request was already carried out with this Idempotency-Key, and its answer "
              "held a secret that is shown only once. Look the record up, or send the request "
              "again with a new key.")

Method = TypeVar("Method", bound=Callable[..., Any])


class CommandRecord(me.Document):
    """One staff command carried out under an idempotency key. Each service that takes
    commands declares its own collection of these (``commands``) on its own database."""

    INDEXES: ClassVar[list[Any]] = [
        {"fields": ["workspace_id", "key", "command"], "unique": True},
        expires("claimed_at", KEPT_FOR),
    ]
    meta = {"abstract": True}

    workspace_id = me.StringField(required=True)
    key = me.StringField(required=True)
    command = me.StringField(required=True)
    fingerprint = me.StringField(required=True)
    state = me.StringField(required=True, choices=("running", "done"), default="running")
    claimed_at = me.DateTimeField(required=True)
    finished_at = me.DateTimeField()
    answer = me.StringField()  # JSON; None for an answer that held a secret
    secret = me.BooleanField(required=True, default=False)


class CommandLog:
    """The service's record of commands carried out under a key."""

    def __init__(self, model: type[CommandRecord]) -> None:
        self.model = model

    def ensure_indexes(self) -> None:
        self.model.ensure_indexes()

    def claim(self, workspace_id: str, key: str, command: str, fingerprint: str,
              now: datetime) -> tuple[CommandRecord, bool]:
        """The record for this key and command, and whether this worker now holds it (a new
        claim, or one whose worker died)."""
        try:
            record = self.model(workspace_id=workspace_id, key=key, command=command,
                                fingerprint=fingerprint, claimed_at=now).save(force_insert=True)
            return record, True
        except me.NotUniqueError:
            pass
        record = self.model.objects(workspace_id=workspace_id, key=key, command=command).first()
        if record is None:  # the TTL took it just now: claim afresh
            return self.claim(workspace_id, key, command, fingerprint, now)
        if (record.state == "running" and record.fingerprint == fingerprint
                and as_utc(record.claimed_at) < now - LEASE):
            taken = self.model.objects(id=record.id, state="running",
                                       claimed_at=record.claimed_at).modify(
                set__claimed_at=now, new=True)
            if taken is not None:
                return taken, True
        return record, False

    def finish(self, record: CommandRecord, answer: Any, *, secret: bool, now: datetime) -> None:
        self.model.objects(id=record.id, state="running").update(
            set__state="done", set__finished_at=now, set__secret=secret,
            set__answer=None if secret else json.dumps(answer))

    def release(self, record: CommandRecord) -> None:
        self.model.objects(id=record.id, state="running").delete()


def fingerprint(command: str, args: tuple, kwargs: dict) -> str:
    """What makes two calls the same request: the command and every argument."""
    text = json.dumps([command, list(args), kwargs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The scope of the keys portal forms carry: each is random (``request_context.new_form_key``)
# and the request it names includes the caller's own session or address, so one scope
# serves all of them.
PORTAL_FORMS = "portal-form"


def idempotent(*, secret: bool = False, scope: str | None = None) -> Callable[[Method], Method]:
    """Make a command safe to retry under an idempotency key, on a service whose
    ``repo.commands`` is a ``CommandLog``. A staff command (``method(self, workspace_id,
    ...)``) keeps its keys per workspace; a portal form's command names its ``scope``
    instead (``PORTAL_FORMS``). ``secret``: its answer holds something shown once, so it
    is never stored."""

    def decorate(method: Method) -> Method:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            key = request_context.command_key()
            if key is None:
                return method(self, *args, **kwargs)
            try:  # nameko checks the wrapper's signature, which takes anything: check here
                signature.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise IncorrectSignature(str(exc)) from None
            where, named = (scope, args) if scope is not None else (args[0], args[1:])
            log: CommandLog = self.repo.commands
            printed = fingerprint(method.__name__, named, kwargs)
            record, held = log.claim(str(where), key, method.__name__, printed, utcnow())
            if not held:
                return _answer_of(record, printed)
            try:
                answer = method(self, *args, **kwargs)
            except BaseException:
                log.release(record)
                raise
            log.finish(record, answer, secret=secret, now=utcnow())
            return answer

        return run  # type: ignore[return-value]

    return decorate


def _answer_of(record: CommandRecord, printed: str) -> Any:
    if record.fingerprint != printed:
        raise InvalidInput(OTHER_REQUEST, {HEADER: OTHER_REQUEST})
    if record.state == "running":
        raise Conflict(STILL_RUNNING)
    if record.secret:
        raise Conflict(SHOWN_ONCE)
    return json.loads(record.answer) if record.answer is not None else None
