"""The one definition of broker rights (porchlight/operator/broker_access.py) against the code it
governs, and the two ways production applies it (rabbitmqctl lines, management API)."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import shlex
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from porchlight.contracts.callers import declared
from porchlight.contracts.callers.admin import AdminServices
from porchlight.contracts.callers.portal import PortalServices
from porchlight.contracts.callers.worker import WorkerServices
from porchlight.operator import broker_access as access
from porchlight.operator.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]


def _callee(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def allowed(component: str, service: str, method: str) -> bool:
    return re.fullmatch(access.grant(component).rpc_write, f"{service}.{method}") is not None


@pytest.mark.parametrize("component, declaration", [
    ("portal", PortalServices), ("admin", AdminServices), ("worker", WorkerServices)])
def test_a_process_may_publish_exactly_the_calls_it_declares(component: str, declaration: type) -> None:
    calls = declared(declaration)
    assert calls and access.RPC_METHODS[component] == calls
    for service, methods in calls.items():
        for method in methods:
            assert allowed(component, service, method), (service, method)
    # Nothing else: not another method of a service it calls, nor a service it never calls.
    for service in access.SERVICES:
        assert not allowed(component, service, "ping_x")
        if service not in calls:
            assert not allowed(component, service, "get_workspace")


@pytest.mark.parametrize("component, service, method", [
    ("portal", "identity", "create_api_key"),
    ("portal", "identity", "create_workspace"),
    ("portal", "sharing", "mint_token"),
    ("portal", "notifications", "list_inbox"),
    ("admin", "identity", "create_api_key"),
    ("admin", "identity", "create_workspace"),
    ("admin", "documents", "sign_service_report"),
    ("admin", "identity", "resolve_session"),
    ("worker", "identity", "create_api_key"),
    ("worker", "documents", "sign_service_report"),
    ("worker", "notifications", "resend_email"),
])
def test_a_process_may_not_publish_what_it_never_declares(component: str, service: str,
                                                             method: str) -> None:
    assert not allowed(component, service, method)
    # Nor a look-alike key that a loose pattern would let through.
    assert not allowed(component, service, method + ".x")
    assert not allowed(component, "identity", "resolve_session_x")


def test_no_gateway_may_publish_a_reply_key() -> None:
    for component in ("portal", "admin", "worker", "operator"):
        assert not re.fullmatch(access.grant(component).rpc_write, "reply.identity." + NAMEKO_UUID)
        assert not re.fullmatch(access.grant(component).rpc_write, "reply.gateway.admin.app." + "0" * 32)


NAMEKO_UUID = "6f1c2a3e-0000-4000-8000-000000000000"


def test_each_process_may_bind_only_its_own_reply_keys() -> None:
    """A process that could bind another's reply key would read the answers meant for it
    (a staff key's workspace, a customer's grant)."""
    own = {"portal": "reply.gateway.portal.app." + "0" * 32, "admin": "reply.gateway.admin.app." + "0" * 32,
           "worker": "reply.worker." + "0" * 32, "operator": "reply.porchlight-cli." + "0" * 32,
           **{service: f"reply.{service}.{NAMEKO_UUID}" for service in access.SERVICES}}
    for component, key in own.items():
        rights = access.grant(component).rpc_read
        assert re.fullmatch(rights, key), component
        for other, their_key in own.items():
            if other != component:
                assert not re.fullmatch(rights, their_key), (component, other)
        assert not re.fullmatch(rights, "0" * 32) and not re.fullmatch(rights, NAMEKO_UUID)
        assert not re.fullmatch(rights, "#") and not re.fullmatch(rights, "reply.#")


def test_no_process_may_declare_or_delete_a_shared_exchange() -> None:
    """Configure on an exchange is the right to delete it or declare it anew as another
    type (a fanout ``nameko-rpc`` would hand its declarer every call)."""
    assert set(access.SHARED_EXCHANGES) == {"nameko-rpc", *(f"{s}.events" for s in access.SERVICES)}
    for component in (*access.COMPONENTS, access.OPERATOR):
        for exchange in access.SHARED_EXCHANGES:
            assert not re.fullmatch(access.grant(component).configure, exchange), (component, exchange)


def test_the_shared_exchanges_are_declared_with_the_users_everywhere_users_are_made() -> None:
    made = {e["name"] for e in access.definitions("porchlight", dict.fromkeys(access.COMPONENTS, "x" * 20))
            ["exchanges"]}
    assert made == set(access.SHARED_EXCHANGES)
    puts = {path for method, path, _ in access.management_requests(
        "porchlight", dict.fromkeys(access.COMPONENTS, "x" * 20)) if path.startswith("/api/exchanges/")}
    assert puts == {f"/api/exchanges/porchlight/{name}" for name in access.SHARED_EXCHANGES}
    script = "\n".join(access.rabbitmqctl_commands("porchlight"))
    assert "rabbitmqctl import_definitions" in script
    assert all(f'"name": "{name}"' in script for name in access.SHARED_EXCHANGES)
    for exchange in access.exchange_definitions("porchlight"):
        # Never auto-deleted: no process could declare it again.
        assert exchange["type"] == "topic" and exchange["durable"] and not exchange["auto_delete"]


def test_the_portal_subscribes_to_the_event_exchanges_it_may_read() -> None:
    from gateway.portal.reads import CUSTOMER_VISIBLE

    read = access.grant("portal").read
    for source in CUSTOMER_VISIBLE:
        assert re.fullmatch(read, f"{source}.events")
    assert not re.fullmatch(read, "notifications.events") or "notifications" in CUSTOMER_VISIBLE


# -- services: their own queues only --------------------------------------------------------

def test_a_service_reads_only_its_own_queues() -> None:
    for service in access.SERVICES:
        read = access.grant(service).read
        assert re.fullmatch(read, f"rpc-{service}")
        assert re.fullmatch(read, f"rpc.reply-{service}-6f1c2a3e-0000-4000-8000-000000000000")
        for other in access.SERVICES:
            if other != service:
                assert not re.fullmatch(read, f"rpc-{other}"), (service, other)
                assert not re.fullmatch(read, f"rpc.reply-{other}-6f1c2a3e-0000-4000-8000-000000000000")
        assert not re.fullmatch(read, "rpc.reply-gateway.portal.app-" + "0" * 32)
        assert not re.fullmatch(access.grant(service).rpc_read, "identity.*") or service == "identity"


def test_nameko_event_handler_queues_are_the_handlers_own() -> None:
    notifications = access.grant("notifications")
    queue = "evt-documents-estimate_approved--notifications.on_estimate_approved"
    assert re.fullmatch(notifications.configure, queue) and re.fullmatch(notifications.read, queue)
    assert re.fullmatch(notifications.read, "documents.events")
    assert not re.fullmatch(access.grant("sharing").read, queue)


def test_a_service_calls_only_the_services_it_asks_and_answers_any_caller() -> None:
    identity = access.grant("identity").rpc_write
    assert re.fullmatch(identity, "notifications.send_email")
    assert not re.fullmatch(identity, "documents.get_work_order")
    assert re.fullmatch(identity, "reply.gateway.portal.app." + "0" * 32)
    assert re.fullmatch(identity, "reply.documents." + NAMEKO_UUID)
    assert not re.fullmatch(identity, "0" * 32)  # a bare key is nobody's
    assert not re.fullmatch(access.grant("signatures").rpc_write, "identity.create_api_key")


# -- production: rabbitmqctl lines, the management API ------------------------------------

def test_the_rabbitmqctl_lines_name_password_variables_never_values() -> None:
    lines = access.rabbitmqctl_commands("porchlight")
    text = "\n".join(lines)
    for component in access.COMPONENTS:
        assert f'"$PORCHLIGHT_BROKER_PASSWORD_{component.upper()}"' in text
        assert f"porchlight-{component} " in text
    portal = next(line for line in lines if line.startswith("rabbitmqctl set_topic_permissions")
                  and "porchlight-portal " in line)
    words = shlex.split(portal)
    assert words[:7] == ["rabbitmqctl", "set_topic_permissions", "-p", "porchlight", "porchlight-portal",
                         "nameko-rpc", access.grant("portal").rpc_write]


def test_the_cli_prints_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["broker-users", "commands", "--vhost", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == access.rabbitmqctl_commands("prod")


def _environment_passwords() -> dict[str, str]:
    return {c: "x" for c in access.COMPONENTS}


def _environment(**extra: str) -> dict[str, str]:
    env = {access.password_variable(c): f"pw-{c}-0123456789" for c in access.COMPONENTS}
    env.update(RABBITMQ_ADMIN_USER="ops", RABBITMQ_ADMIN_PASSWORD="admin-secret-0123")
    env.update(extra)
    return env


@pytest.mark.parametrize("change, named", [
    ({"PORCHLIGHT_BROKER_PASSWORD_PORTAL": "guest"}, "PORCHLIGHT_BROKER_PASSWORD_PORTAL"),
    ({"PORCHLIGHT_BROKER_PASSWORD_WORKER": ""}, "PORCHLIGHT_BROKER_PASSWORD_WORKER"),
    ({"RABBITMQ_ADMIN_PASSWORD": "guest"}, "RABBITMQ_ADMIN_PASSWORD"),
    ({"RABBITMQ_ADMIN_USER": ""}, "RABBITMQ_ADMIN_USER"),
])
def test_apply_refuses_a_missing_or_guest_credential(change: dict[str, str], named: str,
                                                     management: ManagementApi) -> None:
    with pytest.raises(access.BrokerUsersError, match=named) as caught:
        access.apply_with_management_api(management.url, "prod", _environment(**change))
    assert "pw-" not in str(caught.value)
    assert management.requests == []


class ManagementApi:
    """A stand-in for RabbitMQ's management API that records what it was asked."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.requests: list[tuple[str, str, str, dict]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                owner.requests.append(("PUT", self.path, self.headers["Authorization"], body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def management() -> Iterator[ManagementApi]:
    api = ManagementApi()
    yield api
    api.close()


def test_apply_puts_the_vhost_users_and_rights(management: ManagementApi) -> None:
    made = access.apply_with_management_api(management.url, "prod/eu", _environment())
    # A vhost, the shared exchanges, then per user: itself, its rights, one topic right per
    # exchange.
    topics = sum(len(g.topic_permissions()) for g in access.grants())
    exchanges = len(access.SHARED_EXCHANGES)
    assert made == len(management.requests) == 1 + exchanges + 2 * len(access.COMPONENTS) + topics
    auth = "Basic " + base64.b64encode(b"ops:admin-secret-0123").decode()
    assert {r[2] for r in management.requests} == {auth}
    bodies: dict[str, list[dict]] = {}
    for _, path, _, body in management.requests:
        bodies.setdefault(path, []).append(body)
    assert bodies["/api/vhosts/prod%2Feu"] == [{}]
    assert bodies["/api/exchanges/prod%2Feu/nameko-rpc"] == [
        {"type": "topic", "durable": True, "auto_delete": False, "internal": False, "arguments": {}}]
    # Before any user's rights name them.
    paths = [path for _, path, _, _ in management.requests]
    assert paths.index("/api/exchanges/prod%2Feu/documents.events") < paths.index(
        "/api/users/porchlight-identity")
    assert bodies["/api/users/porchlight-portal"] == [{"password": "pw-portal-0123456789", "tags": ""}]
    portal = access.grant("portal")
    assert bodies["/api/permissions/prod%2Feu/porchlight-portal"] == [
        {"configure": portal.configure, "write": portal.write, "read": portal.read}]
    portal_topics = bodies["/api/topic-permissions/prod%2Feu/porchlight-portal"]
    assert portal_topics[0] == {"exchange": "nameko-rpc", "write": portal.rpc_write, "read": portal.rpc_read}
    documents = next(t for t in portal_topics if t["exchange"] == "documents.events")
    assert re.fullmatch(documents["read"], "estimate_sent")
    assert not re.fullmatch(documents["read"], "estimate_created")  # not a customer's concern
    assert documents["write"] == "^$"


def test_apply_names_the_request_the_broker_refused_without_its_password() -> None:
    api = ManagementApi(status=401)
    try:
        with pytest.raises(access.BrokerUsersError, match=r"PUT /api/vhosts/prod: HTTP 401") as caught:
            access.apply_with_management_api(api.url, "prod", _environment())
    finally:
        api.close()
    assert "pw-" not in str(caught.value) and "admin-secret" not in str(caught.value)


def test_the_cli_applies_and_refuses_without_credentials(management: ManagementApi,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["broker-users", "apply", "--management-url", management.url, "--vhost", "prod"]
    assert cli_main(argv) == 2
    assert "RABBITMQ_ADMIN_USER" in capsys.readouterr().err
    for name, value in _environment().items():
        monkeypatch.setenv(name, value)
    assert cli_main(argv) == 0
    out = capsys.readouterr()
    assert len(management.requests) == len(access.management_requests("prod", _environment_passwords()))
    assert "pw-" not in out.out + out.err


def test_definitions_hash_passwords_the_way_rabbitmq_checks_them() -> None:
    document = access.definitions("v", {c: f"pw-{c}" for c in access.COMPONENTS}, suffix="run1",
                                  salt=b"\x01\x02\x03\x04")
    portal = next(u for u in document["users"] if u["name"] == "porchlight-portal-run1")
    raw = base64.b64decode(portal["password_hash"])
    assert raw[:4] == b"\x01\x02\x03\x04"
    assert raw[4:] == hashlib.sha256(b"\x01\x02\x03\x04" + b"pw-portal").digest()
    assert "pw-portal" not in json.dumps(document)
    assert {p["user"] for p in document["topic_permissions"]} == {
        f"porchlight-{c}-run1" for c in access.COMPONENTS}


def test_every_celery_app_sends_tasks_to_the_celery_exchange_by_name() -> None:
    from types import SimpleNamespace

    from porchlight.kit.task_queue import TaskQueue
    from workers.celery_app import celery

    publisher = TaskQueue()
    publisher.container = SimpleNamespace(config={"AMQP_URI": "pyamqp://guest:guest@localhost:5672/"})
    publisher.setup()  # builds the app; connects only when it sends
    for app in (celery, publisher.app):
        route = app.amqp.router.route({}, "porchlight.deliver_email")
        # Both named: Celery turns a route missing either into the default exchange.
        assert (route["exchange"], route["routing_key"]) == ("celery", "celery")


def _client_names(path: str) -> set[str]:
    """The ``name=`` of every ``AmqpClient(...)`` made in ``path``, as source text."""
    tree = ast.parse((ROOT / path).read_text())
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and (_callee(n) or "").endswith("AmqpClient")]
    return {ast.unparse(k.value) for call in calls for k in call.keywords if k.arg == "name"}


def test_the_queue_names_the_rights_expect_are_the_names_the_clients_use() -> None:
    # A client's queues are named after it: rights for another name would refuse it at start.
    assert _client_names("workers/tasks.py") == {repr(access.CLIENT_NAMES["worker"])}
    assert _client_names("porchlight/operator/cli.py") == {"broker_access.CLI_CLIENT_NAME"}
    assert re.fullmatch(access.grant("operator").configure, "rpc.reply-porchlight-cli-" + "a" * 32)
    assert _client_names("gateway/web.py") == {"app.name"}
    for gateway in ("portal", "admin"):
        source = (ROOT / "gateway" / gateway / "app.py").read_text()
        assert "Flask(__name__)" in source  # so app.name is the module's name
        assert access.CLIENT_NAMES[gateway] == f"gateway.{gateway}.app"
