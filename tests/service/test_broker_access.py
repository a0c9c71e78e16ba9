"""Least privilege on a real RabbitMQ: each process's own user (devtools.broker.ProcessUsers,
rights from porchlight/operator/broker_access.py) can do its job and nothing the definition leaves out."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from kombu import Connection

from devtools.broker import ProcessUsers, _delete_users
from porchlight.client import AmqpClient, BrokerRefused
from porchlight.contracts.errors import NotFound, Unauthorized
from porchlight.operator.broker_access import CLIENT_NAMES
from porchlight.runtime.settings import nameko_config
from services.identity.service import IdentityService

WS = "0" * 24


@pytest.fixture(scope="module")
def users(broker_uri: str) -> Iterator[ProcessUsers]:
    made = ProcessUsers(broker_uri).create()
    if not made.in_force:
        pytest.skip("no rabbitmqctl for this broker: per-process users cannot be made")
    yield made
    made.delete()


@pytest.fixture
def identity(container_factory: Any, service_config: dict[str, Any], users: ProcessUsers) -> None:
    """identity running as its own user: its queue, reply queue and events under its rights."""
    container_factory(IdentityService, {**service_config, "AMQP_URI": users.uri("identity")}).start()


def client_of(users: ProcessUsers, component: str) -> AmqpClient:
    return AmqpClient(users.uri(component), timeout=5, name=CLIENT_NAMES[component])


def test_the_portal_may_not_create_an_api_key_but_may_resolve_a_session(identity: None,
                                                                         users: ProcessUsers) -> None:
    portal = client_of(users, "portal")
    try:
        with pytest.raises(BrokerRefused, match=r"identity\.create_api_key: refused"):
            portal.call("identity", "create_api_key", WS, "portal", "stolen key")
        # The channel the broker closed is back: the portal's own calls still work, and
        # reach identity (its typed answer, not the broker's refusal).
        with pytest.raises(Unauthorized):
            portal.call("identity", "resolve_session", "not-a-session")
        with pytest.raises(NotFound):
            portal.call("identity", "get_workspace", WS)
    finally:
        portal.close()


def test_the_admin_gateway_may_call_only_what_the_admin_api_uses(identity: None, users: ProcessUsers) -> None:
    admin = client_of(users, "admin")
    try:
        with pytest.raises(BrokerRefused):
            admin.call("identity", "create_workspace", {"name": "Mine now"}, "admin")
        with pytest.raises(BrokerRefused):
            admin.call("identity", "resolve_session", "not-a-session")  # the portal's, not the admin's
        with pytest.raises(NotFound):
            admin.call("identity", "get_workspace", WS)
    finally:
        admin.close()


def test_a_refused_call_fails_at_once_and_others_in_flight_are_answered(identity: None,
                                                                        users: ProcessUsers) -> None:
    portal = client_of(users, "portal")
    try:
        with pytest.raises(NotFound):
            portal.call("identity", "get_workspace", WS)  # connected and consuming
        for _ in range(3):  # refused again and again, recovered every time
            with pytest.raises(BrokerRefused):
                portal.call("identity", "create_api_key", WS, "portal", "again", timeout=30)
            with pytest.raises(NotFound):
                portal.call("identity", "get_workspace", WS)
    finally:
        portal.close()


@pytest.mark.parametrize("component, queue", [
    ("sharing", "rpc-identity"),
    ("notifications", "rpc-identity"),
    ("portal", "rpc-identity"),
    ("worker", "rpc-identity"),
])
def test_a_process_may_not_consume_another_services_queue(identity: None, users: ProcessUsers,
                                                          component: str, queue: str) -> None:
    with Connection(nameko_config(users.uri(component))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        with pytest.raises(refused(conn), match="ACCESS_REFUSED"):
            channel.basic_consume(queue, callback=lambda message: None)
    # identity itself may: its own queue is what it consumes.
    with Connection(nameko_config(users.uri("identity"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        tag = channel.basic_consume(queue, callback=lambda message: None)
        channel.basic_cancel(tag)


def test_a_service_may_not_publish_as_a_gateway_or_bind_another_services_calls(users: ProcessUsers) -> None:
    with Connection(nameko_config(users.uri("sharing"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        channel.queue_declare("rpc-sharing", durable=True, auto_delete=False)
        # Binding its own queue to identity's calls would let it read them.
        with pytest.raises(refused(conn), match="ACCESS_REFUSED"):
            channel.queue_bind("rpc-sharing", "nameko-rpc", routing_key="identity.*")


def test_without_rabbitmqctl_every_process_uses_the_given_address(monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("devtools.broker.shutil.which", lambda name: None)
    fallback = ProcessUsers("amqp://someone:pw@broker.example:5672/prod").create()
    assert not fallback.in_force
    assert fallback.uri("portal") == "amqp://someone:pw@broker.example:5672/prod"
    assert "least privilege on the broker is NOT in force" in caplog.text
    assert ":pw@" not in caplog.text


def test_a_task_sender_may_not_publish_through_the_default_exchange(users: ProcessUsers) -> None:
    # Write on the default exchange would put a message in any queue by its name: a forged
    # RPC straight into rpc-identity. Tasks go to the celery exchange instead (TASK_ROUTES).
    with Connection(nameko_config(users.uri("documents"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        message = channel.prepare_message(b'{"args": [], "kwargs": {}}', content_type="application/json")
        channel.basic_publish(message, exchange="", routing_key="rpc-identity")
        with pytest.raises(refused(conn), match="ACCESS_REFUSED"):
            # the refusal arrives by now
            channel.queue_declare("rpc-documents", durable=True, auto_delete=False)


def refused(conn: Connection) -> tuple[type[BaseException], ...]:
    """What py-amqp raises when the broker closes the channel or connection (kombu names
    them, so the test needs no import of the transitive ``amqp`` package)."""
    return (*conn.channel_errors, *conn.connection_errors)


def test_a_killed_runs_users_are_deleted_by_the_next_run(broker_uri: str) -> None:
    from devtools.broker import DEVTOOLS_TAG, _import_definitions
    from porchlight.operator.broker_access import definitions

    gone = subprocess.Popen(["true"])
    gone.wait()  # its process id now names no process
    vhost = unquote(urlsplit(broker_uri).path[1:])
    left = definitions(vhost, {"portal": "x" * 20}, suffix="killedrun1", components=("portal",),
                       tags=(DEVTOOLS_TAG, f"{DEVTOOLS_TAG}-pid-{gone.pid}"))
    _import_definitions(shutil.which("rabbitmqctl") or "rabbitmqctl", left)
    assert "porchlight-portal-killedrun1" in user_names()
    with ProcessUsers(broker_uri, components=("admin",)) as mine:
        names = user_names()
        assert "porchlight-portal-killedrun1" not in names
        assert f"porchlight-admin-{mine.suffix}" in names
    assert f"porchlight-admin-{mine.suffix}" not in user_names()


def user_names() -> set[str]:
    listed = subprocess.run([shutil.which("rabbitmqctl") or "rabbitmqctl", "-q", "list_users"],
                            capture_output=True, text=True, timeout=60, check=True)
    return {line.split("\t")[0] for line in listed.stdout.splitlines()}


def test_the_portals_read_model_may_bind_only_the_events_customers_see(users: ProcessUsers) -> None:
    with Connection(nameko_config(users.uri("portal"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        queue = f"events-{CLIENT_NAMES['portal']}-{uuid.uuid4().hex}"
        channel.exchange_declare("documents.events", "topic", passive=True)  # there; not its to make
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
        channel.queue_bind(queue, "documents.events", routing_key="estimate_sent")
        with pytest.raises(refused(conn), match="ACCESS_REFUSED"):
            channel.queue_bind(queue, "documents.events", routing_key="#")  # internal ones too


@pytest.mark.parametrize("attempt", ["delete nameko-rpc", "re-declare nameko-rpc as fanout",
                                     "delete documents.events", "declare documents.events",
                                     "bind identity's reply key", "bind the admin gateway's reply key"])
def test_the_portal_may_not_change_the_shared_exchanges_or_read_others_replies(
        users: ProcessUsers, attempt: str) -> None:
    """A portal that could re-declare nameko-rpc as fanout would receive every call (staff
    API keys included); deleting documents.events would silently drop office emails and
    inbox items; binding another's reply key would read the answers meant for it."""
    with Connection(nameko_config(users.uri("portal"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        mine = f"rpc.reply-{CLIENT_NAMES['portal']}-{uuid.uuid4().hex}"
        channel.queue_declare(mine, exclusive=True, auto_delete=True)
        actions = {
            "delete nameko-rpc": lambda: channel.exchange_delete("nameko-rpc"),
            "re-declare nameko-rpc as fanout": lambda: channel.exchange_declare(
                "nameko-rpc", "fanout", durable=True),
            "delete documents.events": lambda: channel.exchange_delete("documents.events"),
            "declare documents.events": lambda: channel.exchange_declare(
                "documents.events", "topic", durable=True),
            "bind identity's reply key": lambda: channel.queue_bind(
                mine, "nameko-rpc", routing_key=f"reply.identity.{uuid.uuid4()}"),
            "bind the admin gateway's reply key": lambda: channel.queue_bind(
                mine, "nameko-rpc", routing_key=f"reply.{CLIENT_NAMES['admin']}.{uuid.uuid4().hex}"),
        }
        with pytest.raises(refused(conn), match="ACCESS_REFUSED"):
            actions[attempt]()
    # Nothing changed: the exchanges are there as they were, and the portal's own reply key binds.
    with Connection(nameko_config(users.uri("portal"))["AMQP_URI"], connect_timeout=5) as conn:
        channel = conn.channel()
        channel.exchange_declare("nameko-rpc", "topic", passive=True)
        channel.exchange_declare("documents.events", "topic", passive=True)
        channel.queue_declare(mine, exclusive=True, auto_delete=True)
        own_key = f"reply.{CLIENT_NAMES['portal']}.{uuid.uuid4().hex}"
        channel.queue_bind(mine, "nameko-rpc", routing_key=own_key)


def test_the_printed_rabbitmqctl_commands_make_working_users(broker_uri: str, container_factory: Any,
                                                            service_config: dict[str, Any]) -> None:
    """``porchlight broker-users commands`` run by a shell as printed (the suffix keeps
    this run's users apart on a shared broker): identity runs as its user, and the
    portal's user calls a method it needs and is refused one it does not."""
    from porchlight.operator.broker_access import password_variable, rabbitmqctl_commands

    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs rabbitmqctl")
    parts = urlsplit(broker_uri)
    vhost, suffix = unquote(parts.path[1:]), uuid.uuid4().hex[:10]
    passwords = {password_variable(c): f"pw-{c}-{uuid.uuid4().hex}" for c in ("portal", "identity")}
    script = "set -e\n" + "\n".join(rabbitmqctl_commands(vhost, ("portal", "identity"), suffix=suffix))
    users = [f"porchlight-portal-{suffix}", f"porchlight-identity-{suffix}"]
    try:
        done = subprocess.run(["sh", "-c", script], env={**os.environ, **passwords}, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert not any(p in done.stdout + done.stderr for p in passwords.values())
        def uri(component: str) -> str:
            user, password = f"porchlight-{component}-{suffix}", passwords[password_variable(component)]
            return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))

        container_factory(IdentityService, {**service_config, "AMQP_URI": uri("identity")}).start()
        portal = AmqpClient(uri("portal"), timeout=5, name=CLIENT_NAMES["portal"])
        try:
            with pytest.raises(BrokerRefused):
                portal.call("identity", "create_api_key", WS, "portal", "stolen key")
            with pytest.raises(Unauthorized):  # identity's own answer
                portal.call("identity", "resolve_session", "not-a-session")
        finally:
            portal.close()
    finally:
        _delete_users(shutil.which("rabbitmqctl") or "rabbitmqctl", users)


def test_a_task_queued_before_any_worker_started_is_kept(users: ProcessUsers, broker_uri: str) -> None:
    """documents queues two tasks as its own user on a broker no worker has touched: the
    task queue is declared on the way (by name, not through the default exchange), so both
    wait for the worker instead of being refused or dropped."""
    from types import SimpleNamespace

    from porchlight.kit.task_queue import TaskQueue

    tasks = TaskQueue()
    tasks.container = SimpleNamespace(config={"AMQP_URI": nameko_config(users.uri("documents"))["AMQP_URI"]})
    tasks.setup()
    try:
        with Connection(nameko_config(broker_uri)["AMQP_URI"], connect_timeout=5) as admin:
            admin.channel().queue_delete("celery")  # as if no worker ever ran on this vhost
        assert tasks.enqueue("porchlight.render_signed_pdf", WS, "a" * 24)
        assert tasks.enqueue("porchlight.render_signed_pdf", WS, "b" * 24)
        with Connection(nameko_config(broker_uri)["AMQP_URI"], connect_timeout=5) as admin:
            _, waiting, _ = admin.channel().queue_declare("celery", passive=True)
        assert waiting == 2
    finally:
        tasks.stop()
        with Connection(nameko_config(broker_uri)["AMQP_URI"], connect_timeout=5) as admin:
            admin.channel().queue_delete("celery")  # no stray tasks for a later test's worker
