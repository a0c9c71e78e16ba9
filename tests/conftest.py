"""Fixtures shared by every test: an isolated RabbitMQ vhost, the five services on it,
both gateways on Flask's test client, and ``staff`` — a workspace's staff on the admin API
(``tests/staff.py``)."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.broker import IsolatedVhost, ensure_broker
from porchlight.client import AmqpClient
from porchlight.runtime.logs import install_expected_error_filter
from porchlight.runtime.settings import Settings, env_name, get_settings
from tests.mail import mail_server, worker  # noqa: F401 - fixtures for the email tests
from tests.running_stack import office, stack  # noqa: F401 - fixtures for e2e and browser tests
from tests.staff import InProcess, StaffApi

# One portal address for the whole test process, as in a deployment: the gateways' config
# and the services' settings (sharing puts it in every link it mints) agree.
PORTAL_BASE_URL = "http://portal.test"
os.environ.setdefault(env_name("portal_base_url"), PORTAL_BASE_URL)
# The key of customers' grants (porchlight.kit.grants): the in-process services share the
# test process's; a stack hands it to the holders only.
os.environ.setdefault(env_name("grant_key"), secrets.token_hex(32))
get_settings.cache_clear()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``settings_env(rpc_timeout="2.5")`` sets ``PORCHLIGHT_RPC_TIMEOUT`` for this test and
    returns the settings that code calling ``get_settings()`` now sees; the next test reads
    the real environment again."""

    def set_env(**values: str) -> Settings:
        for field, value in values.items():
            monkeypatch.setenv(env_name(field), value)
        get_settings.cache_clear()
        return get_settings()

    yield set_env
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def broker_uri() -> Iterator[str]:
    """A fresh virtual host for this run's in-process service tests."""
    ensure_broker(get_settings().amqp_uri)
    with IsolatedVhost(get_settings().amqp_uri) as uri:
        yield uri


@pytest.fixture
def service_config(broker_uri: str) -> dict[str, Any]:
    return {
        "AMQP_URI": broker_uri,
        "serializer": "json",
        "DECLARE_EVENT_EXCHANGES": False,  # as config.yml: declared once, with the vhost
        "MONGODB_DB_PREFIX": f"test_{uuid.uuid4().hex[:10]}_",
        "MONGODB_DROP_ON_STOP": True,
    }


@pytest.fixture
def services(runner_factory: Any, service_config: dict[str, Any]) -> dict[str, Any]:
    """identity, sharing, documents, signatures and notifications running against real RabbitMQ, their
    expected errors logged as quietly as ``config.yml`` makes them in ``nameko run``."""
    from services.documents.service import DocumentsService
    from services.identity.service import IdentityService
    from services.notifications.service import NotificationsService
    from services.sharing.service import SharingService
    from services.signatures.service import SignaturesService

    install_expected_error_filter()
    runner = runner_factory(
        service_config, IdentityService, SharingService, DocumentsService, SignaturesService,
        NotificationsService,
    )
    runner.start()
    return service_config


@pytest.fixture
def rpc(services: dict[str, Any]) -> Iterator[AmqpClient]:
    client = AmqpClient(services["AMQP_URI"], timeout=5, name="tests")
    yield client
    client.close()


def _gateway_config(services: dict[str, Any]) -> dict[str, Any]:
    return {
        "TESTING": True,
        "AMQP_URI": services["AMQP_URI"],
        "RPC_TIMEOUT": 5,
        "PORTAL_BASE_URL": PORTAL_BASE_URL,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture
def admin_app(services: dict[str, Any]) -> Iterator[Any]:
    from gateway.admin.app import create_app

    app = create_app(_gateway_config(services))
    yield app
    if "porchlight_amqp" in app.extensions:
        app.extensions["porchlight_amqp"].close()


@pytest.fixture
def portal_app(services: dict[str, Any]) -> Iterator[Any]:
    from gateway.portal.app import create_app

    app = create_app(_gateway_config(services))
    yield app
    if "portal_reads" in app.extensions:
        app.extensions["portal_reads"].close()  # its last views, while the client is open
    if "porchlight_amqp" in app.extensions:
        app.extensions["porchlight_amqp"].close()


@pytest.fixture
def portal(portal_app: Any) -> Any:
    """A browser on the portal app: Flask's test client, which keeps cookies."""
    return portal_app.test_client()


@pytest.fixture
def make_staff(admin_app: Any, rpc: AmqpClient) -> Any:
    """``make_staff(name, **workspace fields)``: a new workspace's staff on the admin app."""

    def make(name: str = "Acme Heating", **fields: Any) -> StaffApi:
        created = rpc.call("identity", "create_workspace", {"name": name, **fields}, "test")
        return StaffApi(InProcess(admin_app.test_client()), created["workspace"]["id"], created["api_key"])

    return make


@pytest.fixture
def staff(make_staff: Any) -> StaffApi:
    return make_staff()
