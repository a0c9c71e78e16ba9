"""Every setting Porchlight reads, in one place: ``PORCHLIGHT_<FIELD>`` environment variables.

``get_settings()`` reads the environment once per process and checks every value (type,
bounds, format); a wrong value stops the process at start-up with a message that names
the variable, says what is wrong and never echoes a secret. Code takes what it needs from
that one object; nothing else in Porchlight reads ``os.environ`` for its own settings.

Tests either construct ``Settings(...)`` with explicit values (the environment is still
read for anything not given) or, for code that calls ``get_settings()``, set the variable
and call ``get_settings.cache_clear()``. The gateways also take a test mapping in
``create_app(test_config)``, which overrides these values.

nameko's ``config.yml`` reads the few values nameko itself needs (``AMQP_URI``,
``max_workers``) from the same variables, with the same defaults; a unit test holds the
two together.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

ENV_PREFIX = "PORCHLIGHT_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Fields whose value must never appear in an error message or a repr.
_SECRET_FIELDS = {"amqp_uri", "grant_key", "mongodb_uri", "secret_key", "smtp_url"}


class SettingsError(ValueError):
    """The environment holds a setting Porchlight cannot use. ``str()`` is the message for
    a person: one line per variable, with what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, case_sensitive=False, extra="forbid", frozen=True,
        validate_default=True,
    )

    # -- where the other parts are ------------------------------------------------------
    amqp_uri: str = Field(
        "amqp://guest:guest@localhost:5672/", repr=False,
        description="RabbitMQ address every process talks to (amqp://, amqps:// or pyamqp://); "
                    "percent-encode URL-reserved characters in the user name and password.",
    )
    mongodb_uri: str | None = Field(
        None, repr=False,
        description="MongoDB address (mongodb:// or mongodb+srv://) of the services. Unset: each "
                    "service keeps its data in memory only and loses it when it stops.",
    )
    mongodb_db_prefix: str = Field(
        "porchlight_", pattern=r"^[A-Za-z0-9_]{1,40}$",
        description="Each service's database is named <prefix><service>, e.g. porchlight_sharing.",
    )
    portal_base_url: str = Field(
        "http://127.0.0.1:8000", max_length=200,
        description="Public address of the customer portal; share links and the verify link "
                    "in signed PDFs start with it.",
    )

    # -- calls between processes --------------------------------------------------------
    rpc_timeout: float = Field(
        10.0, ge=0.5, le=120,
        description="Seconds a gateway, the CLI or the worker waits for a service's answer "
                    "before giving up (503). Keep it above the services' own waits on each other "
                    "(documents waits 4 s for signatures), so their answer arrives first.",
    )
    nameko_max_workers: int = Field(
        10, ge=1, le=1000,
        description="Requests each nameko service process handles at once (config.yml).",
    )

    # -- the gateways -------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        None,
        description="Signs the portal's CSRF cookies and file links; the same long random value "
                    "on every portal process. Unset: a random key per process (development only).",
    )
    grant_key: SecretStr | None = Field(
        None,
        description="Signs and checks the grants a share link or a customer's session gives "
                    "(porchlight.kit.grants): the same long random value on sharing, identity "
                    "and documents, and on no other process — the portal must not hold it.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated addresses or networks (CIDR, e.g. 10.0.0.0/8) of the reverse "
                    "proxies in front of the portal; only their X-Forwarded-For is believed for a "
                    "customer's IP, which the sign-in limits and the evidence of answers record. "
                    "Behind an ingress, set it: left empty, every request seems to come from the "
                    "ingress and the per-IP limits become one limit for everyone.",
    )
    portal_cache_seconds: float = Field(
        60.0, ge=0, le=3600,
        description="Longest a portal process serves a link, record or workspace header from "
                    "memory before asking again, even if no event said it changed (0: never "
                    "from memory). Events keep it current; this bounds a lost one.",
    )
    portal_cache_entries: int = Field(
        10_000, ge=1, le=1_000_000,
        description="Entries (links, records, headers) each portal process keeps in memory; the "
                    "least recently viewed are dropped first.",
    )
    view_flush_seconds: float = Field(
        1.0, ge=0.05, le=60,
        description="How often a portal process sends its counted link views to sharing. A crash "
                    "loses at most this long's counts.",
    )
    portal_session_idle_days: float = Field(
        14, gt=0, le=90,
        description="A signed-in customer who has not used the portal this long signs in again.",
    )
    portal_session_max_days: float = Field(
        30, gt=0, le=365,
        description="The longest a customer's sign-in lasts, however much it is used.",
    )
    outbox_body_days: int = Field(
        90, ge=1, le=3650,
        description="notifications: an email's text and HTML are removed from the outbox this "
                    "many days after it was sent or failed for good; its record stays.",
    )
    file_link_seconds: int = Field(
        600, ge=10, le=86_400,
        description="Lifetime of the signed links to a service report's photos and files.",
    )
    gateway_host: str = Field(
        "0.0.0.0", min_length=1, max_length=253,
        description="Address gunicorn binds the gateway to.",
    )
    gateway_port: int = Field(8000, ge=1, le=65_535, description="Port gunicorn binds the gateway to.")
    gateway_workers: int = Field(
        2, ge=1, le=64, description="gunicorn worker processes per gateway container.",
    )
    gateway_threads: int = Field(
        8, ge=1, le=256, description="Threads per gunicorn worker (requests it serves at once).",
    )
    gateway_timeout: int = Field(
        30, ge=5, le=600,
        description="Seconds gunicorn lets a request run before it restarts the worker.",
    )

    # -- outgoing email (the worker) ----------------------------------------------------
    smtp_url: SecretStr | None = Field(
        None,
        description="The mail server the worker sends through: smtp://user:password@host:587 "
                    "(STARTTLS when the server offers it; required before a password is sent) or "
                    "smtps://user:password@host:465 (TLS from the start); percent-encode reserved "
                    "characters. Unset: every email fails with a message saying so (make run "
                    "starts a local server that keeps the mail as files).",
    )
    mail_from: str = Field(
        "notifications@porchlight.localhost", max_length=254,
        pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+$",
        description="The address emails come from; the name shown is the workspace's sender name.",
    )
    smtp_timeout: float = Field(
        30.0, ge=1, le=300, description="Seconds the worker waits on the mail server per step.",
    )

    # -- everything ---------------------------------------------------------------------
    ops_host: str = Field(
        "0.0.0.0", min_length=1, max_length=253,
        description="Address of every process's ops endpoint (/metrics; /livez and /readyz for "
                    "the services and the worker).",
    )
    metrics_dir: Path | None = Field(
        None,
        description="Gateways: the directory where gunicorn's workers keep their metric values for "
                    "the master's /metrics (prometheus-client's multiprocess mode); emptied at start. "
                    "Unset: one per gunicorn master under the temporary directory, removed at exit.",
    )
    ops_port: int = Field(
        9100, ge=0, le=65_535,
        description="Port of the ops endpoint (Kubernetes: 9100, named ops); 0: a free port chosen "
                    "at start (logged). Processes sharing a host each need their own.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Least severe log records written, in any case (info, INFO).",
    )
    log_format: Literal["console", "json"] = Field(
        "console",
        description="How log lines look: console (readable, for make run) or json (one object per "
                    "line with time, level, service, logger, message and request_id; the images).",
    )
    service_name: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{0,39}$",
        description="The component name in this process's log lines (identity, portal, worker...). "
                    "Unset: the process names itself.",
    )
    worker_beat: bool = Field(
        True,
        description="Whether this worker also runs Celery beat, which queues the timed sweeps. "
                    "Exactly one process of a deployment should: in Kubernetes the scheduler "
                    "Deployment (one pod) runs it and the scaled worker pods do not; make run "
                    "runs it in its first worker only.",
    )
    celery_beat_schedule: Path | None = Field(
        None,
        description="File where the worker's beat scheduler remembers its last runs. Unset: "
                    "one file per broker address under the temporary directory.",
    )

    @field_validator("amqp_uri")
    @classmethod
    def _amqp_uri(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("amqp", "amqps", "pyamqp") or not parts.hostname:
            raise ValueError("must be an address like amqp://user:password@host:5672/vhost")
        return value

    @field_validator("mongodb_uri", mode="before")
    @classmethod
    def _mongodb_uri(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None  # an empty variable (compose's ${X:-}) means unset
        if isinstance(value, str):
            parts = urlsplit(value)
            if parts.scheme not in ("mongodb", "mongodb+srv") or not parts.netloc:
                raise ValueError("must be an address like mongodb://host:27017 or mongodb+srv://host")
        return value

    @field_validator("portal_base_url")
    @classmethod
    def _portal_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an address like https://portal.example.com")
        return value.rstrip("/")

    @field_validator("secret_key", "grant_key", mode="before")
    @classmethod
    def _secret_key(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str) and not raw.strip():
            return None
        if isinstance(raw, str) and raw.startswith("CHANGE-ME"):
            raise ValueError("is still the template's placeholder; set a long random value")
        if isinstance(raw, str) and len(raw) < 32:
            raise ValueError("must be at least 32 characters; make one with "
                             "python -c 'import secrets; print(secrets.token_hex(32))'")
        return value

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _smtp_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str) and not raw.strip():
            return None
        if isinstance(raw, str):
            parts = urlsplit(raw)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must be an address like smtp://user:password@host:587 or smtps://host:465")
            try:
                parts.port  # noqa: B018 - raises on a port that is not a number
            except ValueError:
                raise ValueError("has a port that is not a number") from None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _trusted_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        networks = []
        for item in value:
            try:
                network = ipaddress.ip_network(str(item).strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
            # One address reads as itself; a network keeps its prefix.
            single = network.num_addresses == 1
            networks.append(str(network.network_address) if single else str(network))
        return tuple(networks)

    @field_validator("log_format", "service_name", mode="before")
    @classmethod
    def _lower_case(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip().lower()
        if not value:  # an empty variable (compose's ${X:-}) means unset
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        # dictConfig and the standard library only know upper-case names.
        return value.strip().upper() if isinstance(value, str) else value


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def describe_errors(error: ValidationError) -> str:
    """One line per bad variable, naming it as it is set and never echoing a secret."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        shown = "" if field in _SECRET_FIELDS or field not in Settings.model_fields else (
            f" (got {problem['input']!r})")
        message = problem["msg"].removeprefix("Value error, ")
        name = env_name(field) if field in Settings.model_fields else field
        lines.append(f"  {name}: {message}{shown}")
    count = len(lines)
    return (f"Porchlight cannot start: {count} setting{'s' if count > 1 else ''} "
            "need{} attention.\n".format("" if count > 1 else "s") + "\n".join(lines))


def load_settings(**values: Any) -> Settings:
    """``Settings(**values)``, with a validation failure turned into ``SettingsError``."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """This process's settings, read from the environment on first use. A ``PORCHLIGHT_``
    variable that names no setting (a typo) is ignored with a warning in the log."""
    settings = load_settings()
    for name in sorted(unknown_variables(os.environ)):
        log.warning("%s is not a Porchlight setting and is ignored "
                    "(see porchlight/runtime/settings.py)", name)
    return settings


def unknown_variables(environ: Mapping[str, str]) -> set[str]:
    known = {env_name(field) for field in Settings.model_fields}
    return {name for name in environ if name.upper().startswith(ENV_PREFIX) and name.upper() not in known}


def operator_environment() -> Mapping[str, str]:
    """The environment, for the one operator command whose credentials are no process's
    settings: ``porchlight broker-users apply`` (the broker's administrator and each
    component's password, read there and nowhere else)."""
    return os.environ


def nameko_config(amqp_uri: str | None = None) -> dict[str, Any]:
    """The config mapping nameko's standalone proxies and test containers need.

    ``amqp://`` is spelled ``pyamqp://`` for kombu: the plain scheme makes it look for the
    C client (librabbitmq) on every new connection object, and nameko makes one per publish.
    """
    uri = amqp_uri or get_settings().amqp_uri
    if uri.startswith("amqp://"):
        uri = "py" + uri
    # As config.yml: the event exchanges are declared once, with the broker's users.
    return {"AMQP_URI": uri, "serializer": "json", "DECLARE_EVENT_EXCHANGES": False}


def redact_uri(uri: str) -> str:
    """The address with its password replaced, for messages and logs."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
