"""One settings object: typed, bounded, read from PORCHLIGHT_* variables, explained when
wrong — and every consumer (the gateways, gunicorn, nameko's config.yml, the logs) takes
its values from it."""

from __future__ import annotations

import logging
import logging.config
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml
from nameko.cli.main import IMPLICIT_ENV_VAR_MATCHER, env_var_constructor

from porchlight.runtime import logs
from porchlight.runtime.settings import Settings, SettingsError, get_settings, load_settings
from services.documents.service import EVIDENCE_TIMEOUT
from tests.running_stack import RPC_TIMEOUT as STACK_RPC_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PORCHLIGHT_* variable from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("PORCHLIGHT_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def default(field: str) -> Any:
    return Settings.model_fields[field].default


def test_every_field_is_documented():
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 20, name


def test_rpc_timeouts_outlast_the_services_own_waits():
    # A gateway that gave up first would turn the service's clear answer into a 503.
    assert default("rpc_timeout") > EVIDENCE_TIMEOUT
    assert STACK_RPC_TIMEOUT > EVIDENCE_TIMEOUT


def test_values_come_from_prefixed_variables_in_any_case(clean_env, settings_env):
    settings = settings_env(
        log_level="debug", rpc_timeout="2.5",
        trusted_proxies=" 10.0.0.2, 2001:DB8::1 ,10.1.2.3/16, 10.9.9.9/32,",
        portal_base_url="https://portal.example.com/", mongodb_uri="",
    )
    assert settings.log_level == "DEBUG"
    assert settings.rpc_timeout == 2.5
    assert settings.trusted_proxies == ("10.0.0.2", "2001:db8::1", "10.1.0.0/16", "10.9.9.9")
    assert settings.portal_base_url == "https://portal.example.com"
    assert settings.mongodb_uri is None  # an empty variable is unset
    assert get_settings() is settings  # read once, then cached


def test_explicit_values_override_the_environment_and_unknown_names_are_refused(clean_env, settings_env):
    settings_env(rpc_timeout="3")
    assert Settings(rpc_timeout=7).rpc_timeout == 7
    assert Settings().rpc_timeout == 3
    with pytest.raises(ValueError, match="rpc_timout"):
        Settings(rpc_timout=7)


def test_a_bad_value_stops_start_up_with_a_message_that_names_the_variable(clean_env, settings_env):
    with pytest.raises(SettingsError) as info:
        settings_env(
            rpc_timeout="0", gateway_port="http", log_level="loud", trusted_proxies="10.0.0.1,proxy",
            amqp_uri="http://porchlight:hunter2-secret@rabbit/",
            secret_key="too-short-but-still-a-secret",
        )
    message = str(info.value)
    assert message.startswith("Porchlight cannot start: 6 settings need attention.")
    for name in ("PORCHLIGHT_RPC_TIMEOUT", "PORCHLIGHT_GATEWAY_PORT", "PORCHLIGHT_LOG_LEVEL",
                 "PORCHLIGHT_TRUSTED_PROXIES", "PORCHLIGHT_AMQP_URI", "PORCHLIGHT_SECRET_KEY"):
        assert f"\n  {name}: " in message
    assert "'proxy' is not an IP address" in message and "greater than or equal to 0.5" in message
    # Secrets are named, never shown.
    assert "hunter2" not in message and "too-short" not in message
    assert "Traceback" not in message


@pytest.mark.parametrize("values", [
    {"secret_key": "CHANGE-ME-64-hex-characters-CHANGE-ME-64-hex-characters"},
    {"mongodb_uri": "postgres://db/porchlight"},
    {"mongodb_db_prefix": "porchlight.prod"},  # a dot would split MongoDB's namespace
    {"portal_base_url": "portal.example.com"},
    {"portal_cache_seconds": -1},
    {"portal_cache_entries": 0},
    {"view_flush_seconds": 0},
    {"gateway_workers": 0},
])
def test_values_outside_their_bounds_are_refused(clean_env, values):
    with pytest.raises(SettingsError):
        load_settings(**values)


def test_an_unknown_prefixed_variable_is_reported_in_the_log(clean_env, settings_env, caplog):
    with caplog.at_level(logging.WARNING, logger="porchlight.runtime.settings"):
        settings_env(rpc_timout="3")
    assert "PORCHLIGHT_RPC_TIMOUT is not a Porchlight setting" in caplog.text


# -- the consumers ---------------------------------------------------------------------
def test_gateways_take_their_defaults_from_settings_and_the_test_mapping_wins(clean_env, settings_env):
    from gateway.admin.app import create_app as admin_app
    from gateway.portal.app import create_app as portal_app

    settings_env(portal_base_url="https://portal.example.com", rpc_timeout="4",
                 trusted_proxies="10.0.0.2", portal_cache_seconds="5", file_link_seconds="60",
                 secret_key="k" * 40)
    admin = admin_app()
    assert admin.config["PORTAL_BASE_URL"] == "https://portal.example.com"
    assert admin.config["RPC_TIMEOUT"] == 4.0
    portal = portal_app()
    assert portal.config["TRUSTED_PROXIES"] == "10.0.0.2"
    assert portal.config["SECRET_KEY"] == "k" * 40 and portal.config["FILE_LINK_SECONDS"] == 60
    assert portal.config["PORTAL_CACHE_SECONDS"] == 5.0
    overridden = admin_app({"PORTAL_BASE_URL": "http://portal.test", "RPC_TIMEOUT": 1})
    assert overridden.config["PORTAL_BASE_URL"] == "http://portal.test"
    assert overridden.config["RPC_TIMEOUT"] == 1.0


def test_gunicorn_binds_and_sizes_from_settings(clean_env, settings_env):
    conf_path = str(ROOT / "gateway" / "gunicorn_conf.py")
    settings_env(gateway_host="127.0.0.1", gateway_port="8001", gateway_workers="3",
                 gateway_threads="4", gateway_timeout="45", log_level="WARNING")
    conf = runpy.run_path(conf_path)
    assert conf["bind"] == "127.0.0.1:8001"
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (3, 4, 45)
    assert conf["loglevel"] == "warning"
    settings_env(gateway_host="::")
    assert runpy.run_path(conf_path)["bind"] == "[::]:8001"


class NamekoLoader(yaml.SafeLoader):
    """What ``nameko run --config`` parses config.yml with, without changing yaml's own
    SafeLoader for the rest of the session (compose files use ``${X:-y}`` differently)."""


NamekoLoader.add_constructor("!env_var", env_var_constructor)
NamekoLoader.add_implicit_resolver("!env_var", IMPLICIT_ENV_VAR_MATCHER, None)


def nameko_config_file() -> dict[str, Any]:
    return yaml.load((ROOT / "config.yml").read_text(encoding="utf-8"), Loader=NamekoLoader)


def test_config_yml_reads_the_same_variables_with_the_same_defaults(clean_env, monkeypatch):
    config = nameko_config_file()
    assert config["AMQP_URI"] == default("amqp_uri")
    assert config["max_workers"] == default("nameko_max_workers")
    monkeypatch.setenv("PORCHLIGHT_AMQP_URI", "pyamqp://u:p@rabbit:5672/prod")
    monkeypatch.setenv("PORCHLIGHT_NAMEKO_MAX_WORKERS", "25")
    config = nameko_config_file()
    assert config["AMQP_URI"] == "pyamqp://u:p@rabbit:5672/prod" and config["max_workers"] == 25


@pytest.fixture
def saved_logging() -> Any:
    """Put back the root logger and nameko's container logger after dictConfig."""
    root, containers = logging.getLogger(), logging.getLogger(logs.EXPECTED_ERROR_LOGGER)
    saved = (root.level, root.handlers[:], containers.filters[:], containers.level)
    yield
    for handler in root.handlers:
        if handler not in saved[1]:
            handler.close()
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    containers.filters[:] = saved[2]
    containers.setLevel(saved[3])


def test_config_yml_logging_takes_a_lower_case_level_and_quiets_expected_errors(
        clean_env, settings_env, saved_logging):
    settings_env(log_level="debug")
    logging.config.dictConfig(nameko_config_file()["LOGGING"])
    assert logging.getLogger().level == logging.DEBUG
    assert any(isinstance(f, logs.QuietExpectedErrors)
               for f in logging.getLogger(logs.EXPECTED_ERROR_LOGGER).filters)
