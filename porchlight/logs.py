"""Logging every Porchlight process shares: one line format, the level from the settings,
and expected errors kept quiet.

A service declares its contract errors (``porchlight.errors.CONTRACT_ERRORS``: a refused
link, a field to fix, a conflict) as ``expected_exceptions`` of its entrypoints. nameko
still logs each one at WARNING with the whole traceback, which buries real failures under
customers mistyping links. ``QuietExpectedErrors`` turns exactly those records into one
INFO line without the traceback. An unexpected error keeps nameko's ERROR and traceback.

The services install it through ``config.yml`` (what ``nameko run`` applies), in-process
containers (the tests) with ``install_expected_error_filter()``.
"""

from __future__ import annotations

import logging
import sys

from porchlight.settings import get_settings

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


def console_handler() -> logging.Handler:
    """The handler ``config.yml`` gives nameko's ``dictConfig``: stderr, our format.

    It also sets the root logger's level from ``PORCHLIGHT_LOG_LEVEL``. ``dictConfig``
    accepts only upper-case level names and nameko's ``${VAR}`` substitution cannot change
    case, so the level goes through the settings (which accept ``info`` as well as
    ``INFO``) instead of sitting in ``config.yml``.
    """
    logging.getLogger().setLevel(get_settings().log_level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler
