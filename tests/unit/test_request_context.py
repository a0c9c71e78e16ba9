"""Request ids: which incoming ids are taken, that each greenthread keeps its own, that the
gateways echo them, and the log formats that carry them (tokens still redacted)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime

import eventlet
import pytest
from celery import Celery
from flask import Flask

from gateway.web import install_security_headers
from porchlight.runtime import logs, request_context
from porchlight.runtime.settings import SettingsError, load_settings
from workers import tracing

TOKEN = "est_" + "ab" * 20
UUID_HEX = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("incoming", [
    "3f2a9c1e5b7d4e0f8a6b2c4d1e3f5a7b",
    "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "lb-7:000123.req",
    "x" * request_context.MAX_LENGTH,
])
def test_a_sane_incoming_id_is_kept(incoming):
    assert request_context.accept_or_create(incoming) == incoming


@pytest.mark.parametrize("incoming", [
    None,
    "",
    "x" * (request_context.MAX_LENGTH + 1),
    "abc\ninjected 2026-01-01 ERROR forged line",
    "abc\n",  # `$` would have let the newline through
    'abc", "level": "CRITICAL',
    "abc def",
    "\x1b[31mred",
    "ａｂｃ",  # full-width letters: \w would accept them
    "abc;rm",
])
def test_a_missing_or_malformed_id_is_replaced_by_a_new_one(incoming):
    made = request_context.accept_or_create(incoming)
    assert UUID_HEX.fullmatch(made)
    assert made != request_context.accept_or_create(incoming)  # a new one each time


def test_bound_restores_what_was_current_even_after_an_error():
    request_context.set_current("outer")
    with pytest.raises(RuntimeError), request_context.bound("inner"):
        assert request_context.current() == "inner"
        raise RuntimeError
    assert request_context.current() == "outer"
    request_context.clear()
    assert request_context.current() is None


def test_a_forged_id_set_from_a_message_is_refused():
    request_context.set_current("evil\nline")
    assert request_context.current() is None
    assert request_context.from_headers({"nameko.request_id": b"abc123"}, "nameko.request_id") == "abc123"
    assert request_context.from_headers({"nameko.request_id": "a b"}, "nameko.request_id") is None
    assert request_context.from_headers(None, "nameko.request_id") is None


def test_each_greenthread_has_its_own_id():
    """The tests run under eventlet's monkey patch, as nameko run does: concurrent workers
    of a service interleave on one OS thread and must not see each other's id."""
    seen: dict[int, str | None] = {}

    def worker(n: int) -> None:
        request_context.set_current(f"req-{n}")
        eventlet.sleep(0.001 * (5 - n))  # let the others run and set theirs
        seen[n] = request_context.current()

    request_context.clear()
    threads = [eventlet.spawn(worker, n) for n in range(5)]
    for thread in threads:
        thread.wait()
    assert seen == {n: f"req-{n}" for n in range(5)}
    assert request_context.current() is None  # the spawner's own stays unset


class Captured(logging.Handler):
    """Records as a real handler sees them: stamped by ``RequestIdFilter`` at emission."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(logs.RequestIdFilter())
        self.lines: list[tuple[str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.getMessage(), record.request_id))


@pytest.mark.parametrize(("value", "expected"), [("JSON", "json"), (" console ", "console"), ("", "console")])
def test_the_log_format_setting_reads_any_case_and_empty_as_unset(value, expected):
    assert load_settings(log_format=value).log_format == expected


def test_an_unknown_log_format_or_service_name_stops_the_process():
    with pytest.raises(SettingsError, match="PORCHLIGHT_LOG_FORMAT"):
        load_settings(log_format="xml")
    with pytest.raises(SettingsError, match="PORCHLIGHT_SERVICE_NAME"):
        load_settings(service_name="portal\nforged")


# -- the gateways -------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[Flask]:
    app = Flask("gateway.tracetest")
    install_security_headers(app)
    seen: list[str | None] = []

    @app.before_request
    def _earlier_hook_sees_the_id() -> None:
        seen.append(request_context.current())

    @app.get("/here")
    def here() -> str:
        return request_context.current() or ""

    app.extensions["seen"] = seen
    yield app
    request_context.clear()


def test_the_gateway_echoes_a_sane_id_and_uses_it_for_the_request(gateway):
    access_log = logging.getLogger("porchlight.access")
    captured = Captured()
    access_log.addHandler(captured)
    access_log.setLevel(logging.INFO)
    try:
        response = gateway.test_client().get("/here", headers={"X-Request-ID": "trace-me-42"})
    finally:
        access_log.removeHandler(captured)
        access_log.setLevel(logging.NOTSET)
    assert response.headers["X-Request-ID"] == "trace-me-42"
    assert response.get_data(as_text=True) == "trace-me-42"
    assert gateway.extensions["seen"] == ["trace-me-42"]
    # The access line is written while the id is still current.
    [(line, request_id)] = captured.lines
    assert line.startswith("GET /here 200") and request_id == "trace-me-42"
    assert request_context.current() is None  # forgotten after the request


def test_the_gateway_makes_an_id_for_a_missing_or_forged_header(gateway):
    client = gateway.test_client()
    made = client.get("/here").headers["X-Request-ID"]
    forged = client.get("/here", headers={"X-Request-ID": "a\tb" + "x" * 300})
    assert UUID_HEX.fullmatch(made) and UUID_HEX.fullmatch(forged.headers["X-Request-ID"])
    assert forged.get_data(as_text=True) == forged.headers["X-Request-ID"] != made


# -- log formats ----------------------------------------------------------------------------


@pytest.fixture
def handler_output(settings_env) -> Iterator[tuple[logging.Logger, io.StringIO, object]]:
    """A logger writing through ``console_handler()`` into a buffer; ``use(format)`` picks
    the format as PORCHLIGHT_LOG_FORMAT would."""
    logger = logging.getLogger("porchlight.tests.trace")
    buffer = io.StringIO()
    state: dict[str, logging.Handler] = {}

    def use(log_format: str, service_name: str = "documents") -> None:
        settings_env(log_format=log_format, service_name=service_name)
        if "handler" in state:
            logger.removeHandler(state["handler"])
        handler = logs.console_handler()
        handler.setStream(buffer)
        logger.addHandler(handler)
        state["handler"] = handler

    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, buffer, use
    logger.removeHandler(state["handler"])
    logger.propagate = True
    request_context.clear()


def test_json_lines_carry_time_level_service_logger_message_and_request_id(handler_output):
    logger, buffer, use = handler_output
    use("json")
    with request_context.bound("req-json-1"):
        logger.warning("estimate %s approved", "E-1001")
    logger.info("no request here")
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert first.keys() == {"time", "level", "service", "logger", "message", "request_id"}
    assert (first["level"], first["service"], first["logger"], first["message"], first["request_id"]) == (
        "WARNING", "documents", "porchlight.tests.trace", "estimate E-1001 approved", "req-json-1")
    stamp = datetime.fromisoformat(first["time"])
    assert first["time"].endswith("Z") and stamp.utcoffset().total_seconds() == 0
    assert "request_id" not in second and second["message"] == "no request here"


def test_json_keeps_a_traceback_as_one_string_on_one_line(handler_output):
    logger, buffer, use = handler_output
    use("json")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logger.exception("failed")
    [line] = buffer.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "failed"
    assert entry["exc_info"].startswith("Traceback") and "ValueError: boom\nsecond line" in entry["exc_info"]


def test_tokens_are_redacted_in_json_messages_and_tracebacks(handler_output):
    logger, buffer, use = handler_output
    use("json")
    try:
        raise KeyError(f"/portal/fsm/estimate/{TOKEN}")
    except KeyError:
        logger.exception("GET /portal/fsm/estimate/%s 404", TOKEN)
    output = buffer.getvalue()
    assert TOKEN not in output and TOKEN[4:] not in output
    entry = json.loads(output)
    assert "est_[redacted]" in entry["message"] and "est_[redacted]" in entry["exc_info"]


def test_the_console_line_stays_readable_with_the_id_appended(handler_output):
    logger, buffer, use = handler_output
    use("console")
    with request_context.bound("req-console-7"):
        logger.info("opened %s", TOKEN)
    logger.info("plain")
    with_id, plain = buffer.getvalue().splitlines()
    assert with_id.endswith("INFO porchlight.tests.trace: opened est_[redacted] [request_id=req-console-7]")
    assert plain.endswith("INFO porchlight.tests.trace: plain")
    with pytest.raises(ValueError):
        json.loads(with_id)


def test_the_service_name_setting_wins_over_what_the_process_calls_itself(handler_output):
    logger, buffer, use = handler_output
    logs.default_component("identity")  # what a service sets at start (kept if already named)
    use("json", service_name="portal")
    logger.info("hello")
    assert json.loads(buffer.getvalue())["service"] == "portal"


@pytest.mark.parametrize(("argv", "named"), [
    (["nameko", "run", "--config", "/app/config.yml", "services.signatures.service:SignaturesService"],
     "signatures"),
    (["gunicorn", "--config", "/app/gateway/gunicorn_conf.py", "gateway.admin.app:create_app()"], "admin"),
    (["python", "-m", "workers"], None),  # names itself in workers.tracing
    (["nameko", "run", "services.identity.service:IdentityService\nforged"], None),
])
def test_a_process_is_named_from_what_its_command_line_runs(argv, named):
    assert logs._named_on_command_line(argv) == named


# -- the worker -------------------------------------------------------------------------------


def test_a_task_runs_with_the_request_id_it_was_sent_with():
    """``task_prerun`` makes the header's id current for the task, ``task_postrun`` logs the
    run with it and clears it (apply() runs the same signals as a worker)."""
    app = Celery("trace-test", set_as_current=False)

    @app.task(name="porchlight.tests.echo_request_id")
    def echo() -> str | None:
        return request_context.current()

    captured = Captured()
    tracing.log.addHandler(captured)
    tracing.log.setLevel(logging.INFO)
    try:
        assert echo.apply(headers={"request_id": "task-req-9"}).get() == "task-req-9"
        made = echo.apply().get()
        forged = echo.apply(headers={"request_id": "x\ny"}).get()
        assert request_context.current() is None
        with request_context.bound("caller-1"):  # run eagerly inside a request: its id comes back
            assert echo.apply(headers={"request_id": "task-req-10"}).get() == "task-req-10"
            assert request_context.current() == "caller-1"
    finally:
        tracing.log.removeHandler(captured)
        tracing.log.setLevel(logging.NOTSET)
    assert UUID_HEX.fullmatch(made) and UUID_HEX.fullmatch(forged) and made != forged
    assert [(message.split()[:2], request_id) for message, request_id in captured.lines] == [
        (["porchlight.tests.echo_request_id", "SUCCESS"], "task-req-9"),
        (["porchlight.tests.echo_request_id", "SUCCESS"], made),
        (["porchlight.tests.echo_request_id", "SUCCESS"], forged),
        (["porchlight.tests.echo_request_id", "SUCCESS"], "task-req-10"),
    ]


# -- the caller's deadline ------------------------------------------------------------------
def test_a_deadline_sent_is_the_deadline_read() -> None:
    header = request_context.deadline_header(5, now=1000.0)
    request_context.set_deadline(header[request_context.DEADLINE_AMQP_HEADER])
    try:
        assert request_context.deadline() == 1005.0
        assert not request_context.past_deadline(now=1004.9)
        assert request_context.past_deadline(now=1005.0)
    finally:
        request_context.clear()
    assert request_context.deadline() is None and not request_context.past_deadline()


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf", "-inf", 1005.0, "1" * 40])
def test_a_deadline_that_is_not_a_moment_is_no_deadline(value: object) -> None:
    request_context.set_deadline(value)
    try:
        assert request_context.deadline() is None and not request_context.past_deadline()
    finally:
        request_context.clear()
