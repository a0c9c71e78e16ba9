"""The staff API's operations: each route is declared once, and checked on every request.

An area of the API (``gateway/admin/workspace.py``, ``customers.py``, …) declares each of
its views with ``api.operation(...)``: its method and path, the contract models of its
body, query and reply, and the errors it can answer. The view's docstring says what the
operation does: its first line is the summary, the paragraphs after it the description.
Rules only a service can check are written there and in the model's docstring. The same
declaration checks the request (the body and query string are parsed with their models
before the view runs) and describes it (``gateway.admin.openapi``), so the document cannot
drift from what the gateway accepts.

Why not a framework (spectree, flask-openapi3): both would own routing and validation
errors, and we need our own error shape, our own field messages, the same models in the
services, and path parameters that answer 404 (not 422) when malformed.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel
from werkzeug.routing import BaseConverter

from porchlight.contracts import parse
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.paging import QUERY_ATTENTION, PageQuery
from porchlight.runtime import request_context

Schema = dict[str, Any]
JSON = "application/json"
# Every command (POST, PATCH) may be retried safely under a key (``porchlight.kit.idempotency``).
COMMAND_METHODS = frozenset({"POST", "PATCH"})
KEY_RULE = f"1 to {request_context.MAX_LENGTH} characters of A-Z a-z 0-9 . _ : - (a UUID is ideal)."
# How every list pages (``porchlight.contracts.paging``): the end of each list's description.
PAGED = ("A page holds `limit` items (1 to 100, 25 by default); pass its `next_cursor` as `cursor` "
         "for the next page (a cursor that names no item of this list is 422).")


class BadBody(Exception):
    """The body is not a JSON object."""


class IdConverter(BaseConverter):
    """``<id:name>``: a path segment that is a record id, for a rule that sits beside a fixed
    word at the same place (``/tasks/<id:task_id>`` beside ``/tasks/order``): the word is
    then never taken for an id, so a method the word's rule lacks is 405, not a lookup.
    Other rules take any segment and answer 404 for an id that is not one."""

    regex = "[0-9a-f]{24}"


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    operation_id: str
    tag: str
    summary: str
    # The view's docstring after its summary, one paragraph per item.
    paragraphs: tuple[str, ...]
    status: int = 200
    reply: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    # The body may be left out altogether (then it is ``{}``): options with defaults.
    optional_body: bool = False
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    # A file sent as multipart/form-data in the field ``file``: what it must be.
    upload: str | None = None
    media: str = JSON
    reply_schema: Schema | None = None
    reply_headers: Schema = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    # operationId → {path parameter: where its value is in this operation's answer}
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The docstring's paragraphs as one text. An upload's rules follow the first
        paragraph (which says how to send the file); a list ends with how it pages."""
        paragraphs = list(self.paragraphs)
        if self.upload is not None:
            paragraphs.insert(1, self.upload)
        if self.query is not None and issubclass(self.query, PageQuery):
            paragraphs.append(PAGED)
        return " ".join(paragraphs)

    @property
    def retryable(self) -> bool:
        """A command that takes an ``Idempotency-Key``."""
        return self.method in COMMAND_METHODS

    @property
    def statuses(self) -> tuple[int, ...]:
        extra = (400,) if self.body else ()
        if self.retryable:  # a key in use by a running request (409), or for another one (422)
            extra += (409, 422)
        auth = () if self.public else (401, 503)
        return tuple(sorted({*self.errors, *extra, *auth}))


def docstring(view: Callable) -> tuple[str, tuple[str, ...]]:
    """A view's docstring as an operation's summary (its first line) and the paragraphs of
    its description (the rest, each paragraph's lines joined)."""
    summary, _, rest = inspect.cleandoc(view.__doc__ or "").partition("\n")
    paragraphs = tuple(" ".join(text.split()) for text in re.split(r"\n\s*\n", rest) if text.strip())
    if not summary.strip() or not paragraphs:
        raise TypeError(f"{view.__module__}.{view.__qualname__}: an operation's docstring is its "
                        "summary line, a blank line and its description")
    return summary.strip(), paragraphs


def idempotency_key(op: Operation) -> str | None:
    """The request's ``Idempotency-Key``, checked: none for a read."""
    raw = request.headers.get(request_context.COMMAND_HTTP_HEADER)
    if raw is None or not op.retryable:
        return None
    key = request_context.sane(raw)
    if key is None:
        raise InvalidInput("The Idempotency-Key header needs attention.",
                           {request_context.COMMAND_HTTP_HEADER: KEY_RULE})
    return key


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadBody()
    return data


class Api:
    """A blueprint whose routes are declared as operations; the API is one such blueprint
    with each area's nested in it."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.operations: list[Operation] = []
        self.areas: list[Api] = []

    def operation(self, method: str, rule: str, operation_id: str, **spec: Any) -> Callable:
        def register(view: Callable) -> Callable:
            summary, paragraphs = docstring(view)
            op = Operation(method=method, rule=rule, operation_id=operation_id, summary=summary,
                           paragraphs=paragraphs, **spec)
            self.operations.append(op)

            @functools.wraps(view)
            def checked(**path: Any) -> Any:
                with request_context.command(idempotency_key(op)):
                    return run(**path)

            def run(**path: Any) -> Any:
                if op.body is not None:
                    empty = op.optional_body and not request.get_data(cache=True)
                    path["body"] = parse(op.body, {} if empty else json_body())
                if op.query is not None:
                    path["query"] = parse(op.query, request.args.to_dict(),
                                          message=QUERY_ATTENTION)
                result = view(**path)
                if op.media != JSON:
                    return result
                return jsonify(result), op.status

            self.blueprint.add_url_rule(rule, view.__name__, checked, methods=[method])
            return checked

        return register

    def nest(self, area: Api) -> None:
        """Serve an area's operations under this blueprint's prefix, and describe them after
        the areas nested before it."""
        self.blueprint.register_blueprint(area.blueprint)
        self.areas.append(area)

    def routes(self, prefix: str = "") -> Iterator[tuple[str, Operation]]:
        """Every operation with its whole rule, this blueprint's own first, then each area's."""
        prefix += self.blueprint.url_prefix or ""
        for op in self.operations:
            yield prefix + op.rule, op
        for area in self.areas:
            yield from area.routes(prefix)
