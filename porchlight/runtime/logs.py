"""Logging every Porchlight process shares: one line format, the level from the settings,
the request id on every line, tokens redacted, and expected errors kept quiet.

**Format.** ``PORCHLIGHT_LOG_FORMAT=console`` (the default, for ``make run``) writes
``time LEVEL logger: message`` with `` [request_id=…]`` appended when there is one;
``json`` (the Docker image) writes one JSON object per line with ``time`` (UTC, ISO 8601),
``level``, ``service`` (the process's component: identity, portal, worker…), ``logger``,
``message``, ``request_id`` (when there is one) and ``exc_info`` (the traceback, as a
string). Every process gets its handler from ``console_handler()``: the services through
``config.yml``, the gateways through ``gateway/gunicorn_conf.py`` and ``gateway.web``, the
worker through ``workers.tracing``.

**Redaction.** Both formats pass the finished message and traceback through
``share_tokens.redact``, whatever logger wrote them, so no share or sign-in token reaches
a log line in either format.

**Component.** ``PORCHLIGHT_SERVICE_NAME`` when set; otherwise what the command line names
(``nameko run … services.identity.service:IdentityService`` → identity, ``gunicorn …
gateway.portal.app:create_app()`` → portal) or the process says once it knows (a nameko
service's name, ``worker``); ``porchlight`` before.

A service declares its contract errors (``porchlight.contracts.errors.CONTRACT_ERRORS``: a refused
link, a field to fix, a conflict) as ``expected_exceptions`` of its entrypoints. nameko
still logs each one at WARNING with the whole traceback, which buries real failures under
customers mistyping links. ``QuietExpectedErrors`` turns exactly those records into one
INFO line without the traceback. An unexpected error keeps nameko's ERROR and traceback.

The services install it through ``config.yml`` (what ``nameko run`` applies), in-process
containers (the tests) with ``install_expected_error_filter()``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from porchlight.contracts import share_tokens
from porchlight.runtime import request_context
from porchlight.runtime.settings import get_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What nameko 2.14's ServiceContainer logs for an exception the entrypoint expects
# (nameko/containers.py, ``_run_worker``); it logs nothing else under this template.
EXPECTED_ERROR_LOGGER = "nameko.containers"
EXPECTED_ERROR_MESSAGE = "(expected) error handling worker %s: %s"
QUIET_LEVEL = logging.INFO


class QuietExpectedErrors(logging.Filter):
    """Rewrites nameko's "(expected) error handling worker" records to INFO without
    their traceback. Attach it to the ``nameko.containers`` logger (not a handler): a
    logger's filters run before any handler sees the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.name != EXPECTED_ERROR_LOGGER or record.msg != EXPECTED_ERROR_MESSAGE
                or record.levelno != logging.WARNING):
            return True
        record.levelno, record.levelname = QUIET_LEVEL, logging.getLevelName(QUIET_LEVEL)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        # The logger let the record through as a WARNING; drop it if the quiet level is
        # below what this logger writes.
        return logging.getLogger(record.name).isEnabledFor(QUIET_LEVEL)


def install_expected_error_filter() -> None:
    """Attach ``QuietExpectedErrors`` to nameko's container logger, once."""
    logger = logging.getLogger(EXPECTED_ERROR_LOGGER)
    if not any(isinstance(f, QuietExpectedErrors) for f in logger.filters):
        logger.addFilter(QuietExpectedErrors())


_component: str | None = None
UNNAMED_COMPONENT = "porchlight"


def component() -> str:
    """The name this process's log lines carry as ``service``."""
    return get_settings().service_name or _component or UNNAMED_COMPONENT


def default_component(name: str) -> None:
    """Name the process (``identity``, ``portal``, ``worker``) unless
    ``PORCHLIGHT_SERVICE_NAME`` names it; the first name given stays (a test process that
    runs several services in one process keeps one name)."""
    global _component
    if _component is None:
        _component = name


# What ``nameko run`` and gunicorn are given: ``services.<name>.service:<Class>`` or
# ``gateway.<name>.app:create_app()``.
_COMMAND_LINE_TARGET = re.compile(r"(?:services\.([a-z]+)\.service|gateway\.([a-z]+)\.app)(?::.*)?")


def _named_on_command_line(argv: list[str]) -> str | None:
    for arg in argv[1:]:
        if match := _COMMAND_LINE_TARGET.fullmatch(arg):
            return match[1] or match[2]
    return None


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id and the process's component. Put on
    handlers (``console_handler`` does): it runs in the thread that logged, where the id of
    that thread's request is current. A record that already carries ``request_id`` (given
    as ``extra``) keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_context.current()
        record.service = component()
        return True


class ConsoleFormatter(logging.Formatter):
    """``LOG_FORMAT``, the request id appended to the first line, tokens redacted."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            first, newline, rest = text.partition("\n")
            text = f"{first} [request_id={request_id}]{newline}{rest}"
        return share_tokens.redact(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message or traceback are
    escaped by the encoder)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": getattr(record, "service", None) or component(),
            "logger": record.name,
            "message": share_tokens.redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            # Cached like logging.Formatter does, for other handlers of the same record.
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = share_tokens.redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = share_tokens.redact(self.formatStack(record.stack_info))
        return json.dumps(entry)


def formatter() -> logging.Formatter:
    """The formatter ``PORCHLIGHT_LOG_FORMAT`` asks for."""
    return JsonFormatter() if get_settings().log_format == "json" else ConsoleFormatter()


def install_root_handler() -> None:
    """For a process nobody configured logging for (a gateway outside gunicorn, a script):
    ``console_handler()`` on the root logger, unless the root has a handler already."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(console_handler())


def console_handler() -> logging.Handler:
    """The handler ``config.yml`` gives nameko's ``dictConfig`` (and the gateways and the
    worker use): stderr, in the format ``PORCHLIGHT_LOG_FORMAT`` names, every record
    stamped with the request id.

    It also sets the root logger's level from ``PORCHLIGHT_LOG_LEVEL``. ``dictConfig``
    accepts only upper-case level names and nameko's ``${VAR}`` substitution cannot change
    case, so the level goes through the settings (which accept ``info`` as well as
    ``INFO``) instead of sitting in ``config.yml``.
    """
    logging.getLogger().setLevel(get_settings().log_level)
    if named := _named_on_command_line(sys.argv):
        default_component(named)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    handler.addFilter(RequestIdFilter())
    return handler
