"""Expected errors are one quiet line; unexpected ones keep their level and traceback."""

from __future__ import annotations

import logging

import pytest

from porchlight.contracts.errors import NotFound
from porchlight.runtime import logs


@pytest.fixture
def containers_log(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """nameko's container logger with our filter, as config.yml installs it."""
    logger = logging.getLogger(logs.EXPECTED_ERROR_LOGGER)
    monkeypatch.setattr(logger, "filters", [])
    logs.install_expected_error_filter()
    logs.install_expected_error_filter()  # twice is once
    assert len(logger.filters) == 1
    return logger


def log_as_nameko(logger: logging.Logger, expected: bool) -> None:
    """What nameko/containers.py logs when an entrypoint raises."""
    try:
        raise NotFound("Unknown link.")
    except NotFound as exc:
        if expected:
            logger.warning(logs.EXPECTED_ERROR_MESSAGE, "<WorkerContext [sharing.resolve_token]>",
                           exc, exc_info=True)
        else:
            logger.exception("error handling worker %s: %s", "<WorkerContext>", exc)


def test_an_expected_error_becomes_one_info_line_without_traceback(containers_log, caplog):
    with caplog.at_level(logging.DEBUG, logger=logs.EXPECTED_ERROR_LOGGER):
        log_as_nameko(containers_log, expected=True)
    [record] = caplog.records
    assert record.levelno == logging.INFO and record.levelname == "INFO"
    assert record.exc_info is None and "Traceback" not in caplog.text
    assert "sharing.resolve_token" in record.getMessage() and "Unknown link." in record.getMessage()


def test_an_expected_error_is_dropped_where_info_is_not_logged(containers_log, caplog):
    with caplog.at_level(logging.WARNING, logger=logs.EXPECTED_ERROR_LOGGER):
        log_as_nameko(containers_log, expected=True)
    assert caplog.records == []


def test_an_unexpected_error_keeps_its_level_and_traceback(containers_log, caplog):
    with caplog.at_level(logging.DEBUG, logger=logs.EXPECTED_ERROR_LOGGER):
        log_as_nameko(containers_log, expected=False)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
