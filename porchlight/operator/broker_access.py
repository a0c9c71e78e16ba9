"""Who may do what on the broker: one RabbitMQ user per kind of process, and its rights.

This module is the one definition. ``make run`` and the tests create their users from it
(``devtools.broker.ProcessUsers``), production creates them from it (``porchlight
broker-users commands|apply``, ``deploy/rabbitmq/README.md``). The RPCs a gateway or the
worker may publish are the ones it declares in its typed module
(``porchlight.contracts.callers``), the only way it calls.

RabbitMQ checks three regular expressions per user and virtual host, each against the
*name* of an exchange or queue (whatever its type):

- **configure**: declare or delete it (``exchange.declare``, ``queue.declare``);
- **write**: publish to an exchange; bind *to* a queue (``queue.bind`` needs write on the
  queue);
- **read**: consume from a queue; bind *from* an exchange (read on the exchange).

and, per topic exchange, two more against the *routing key* (topic authorisation): write
for ``basic.publish``, read for ``queue.bind``. Both are set on ``nameko-rpc``, where an
RPC's routing key is ``<service>.<method>``: that is what limits a gateway and the worker
to the methods they declare, and a service's replies and calls to reply keys and the services it asks;
and on the event exchanges the portal reads, where they limit its bindings to the events
customers can see.

The shared exchanges — ``nameko-rpc`` and every service's ``S.events`` (``SHARED_EXCHANGES``)
— are declared once, with the users (``definitions``, ``broker-users apply`` and
``commands``), and no process may declare, re-type or delete them: a process that could
would receive every call published to a ``nameko-rpc`` it re-declared as ``fanout`` (staff
API keys included), or silently drop every email by deleting ``documents.events``. Every
process only checks they exist (a passive declare, which needs no right).

What each process does on the broker (nameko 2.14, aio-pika client, Celery 5):

- a **service** ``S`` declares its queue ``rpc-S``, binds it to ``nameko-rpc`` with ``S.*``
  and consumes it; answers by publishing to ``nameko-rpc`` under the caller's reply key;
  its ``RpcProxy`` declares ``rpc.reply-S-<uuid>``, bound with its own reply key
  ``reply.S.<uuid>`` (``porchlight.kit.service_rpc``), and publishes ``<target>.<method>``;
  its ``EventDispatcher`` publishes to ``S.events``; an ``event_handler`` declares a queue
  ``evt-X-<event>--S.<method>`` bound to the source's ``X.events``; a ``TaskQueue``
  declares Celery's ``celery`` exchange and queue, binds them and publishes.
- the **worker** (Celery with beat in one process) consumes ``celery``, runs its pidbox
  (``celery.pidbox``, ``<node>.celery.pidbox``, ``reply.celery.pidbox``) and event
  (``celeryev``) exchanges and queues, and calls services through an ``AmqpClient``
  named ``worker``, only the methods its tasks declare.
- a **gateway** (``AmqpClient`` named after its Flask app) declares its exclusive reply
  queue ``rpc.reply-<app>-<32 hex>`` bound with its reply key ``reply.<app>.<32 hex>``,
  publishes its calls; the portal also declares its exclusive ``events-<app>-<32 hex>``
  queue, bound to the ``X.events`` exchanges of the services whose events feed its read
  model. A gateway never answers an RPC, so it may publish no reply key.

Reply keys name their owner (``reply.<component>.<uuid>``), and each process may bind only
its own: none can read the answers meant for another.

Known limits of RabbitMQ's model, accepted and written down:

- a regex cannot tell an exchange from a queue of the same name: Celery names both
  ``celery``, so a service that queues tasks (which binds, needing read on the exchange)
  could also read the task queue; and Celery's own exchanges are declared by the processes
  that use them.
- a service may publish any reply key, as it must answer whoever called it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from porchlight.contracts.calls import (
    ADMIN,
    PORTAL,
    RPC_METHODS,
    SERVICE_CALLS,
    SERVICE_HANDLES,
    SERVICE_HANDOVERS,
    SERVICES,
    TASK_SENDERS,
    WORKER,
    reply_key,
)
from porchlight.contracts.events import CUSTOMER_VISIBLE
from porchlight.runtime.settings import operator_environment

RPC_EXCHANGE = "nameko-rpc"
# One user per kind of process (the team's convention: ``porchlight-<component>``).
COMPONENTS = (*SERVICES, WORKER, PORTAL, ADMIN)
# Not a process: the person or job running ``porchlight`` CLI commands (workspace
# creation, API keys), which no gateway may call. Created only where it is asked for.
OPERATOR = "operator"
USER_PREFIX = "porchlight-"
PASSWORD_VARIABLE = "PORCHLIGHT_BROKER_PASSWORD_{}"

# The AmqpClient names its queues after its ``name``: the gateways pass their Flask app's
# name (the module, gateway.<x>.app), the worker "worker" (workers/tasks.py).
CLIENT_NAMES = {PORTAL: "gateway.portal.app", ADMIN: "gateway.admin.app", WORKER: "worker"}
CLI_CLIENT_NAME = "porchlight-cli"

# The exchanges every process shares, all topic and durable: declared once with the users,
# never by a process at run time.
SHARED_EXCHANGES = (RPC_EXCHANGE, *(f"{service}.events" for service in SERVICES))

# Queue names and reply keys carry AmqpClient's uuid4().hex or nameko's str(uuid4()).
_HEX_KEY = "[0-9a-f]{32}"
_NAMEKO_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_METHOD = "[a-z_][a-z0-9_]*"
# Any reply key (a service answers whoever called it); ``reply_key`` makes one.
_ANY_REPLY_KEY = "reply\\.[a-z0-9_.-]+\\.([0-9a-f]{32}|[0-9a-f-]{36})"

# The services whose events feed the portal's read model.
PORTAL_EVENT_SOURCES = tuple(sorted(CUSTOMER_VISIBLE))


@dataclass(frozen=True)
class Grant:
    """One user's rights on one virtual host: the three resource regexes, and the topic
    regexes on ``nameko-rpc`` (routing keys it may publish, and bind its queues with)."""

    component: str
    configure: str
    write: str
    read: str
    rpc_write: str
    rpc_read: str
    # Topic rights on other exchanges: (exchange, write, read). The portal's read model may
    # bind only the events customers can see, not a service's internal ones.
    event_topics: tuple[tuple[str, str, str], ...] = ()

    def topic_permissions(self) -> list[tuple[str, str, str]]:
        """Every (exchange, write regex, read regex) of this user, ``nameko-rpc`` first."""
        return [(RPC_EXCHANGE, self.rpc_write, self.rpc_read), *self.event_topics]

    @property
    def user(self) -> str:
        return user_name(self.component)


def user_name(component: str, suffix: str = "") -> str:
    """``porchlight-<component>``; the local stack adds a run's suffix so that runs on one
    broker never share (or delete) each other's users."""
    return f"{USER_PREFIX}{component}" + (f"-{suffix}" if suffix else "")


def _any(*names: str) -> str:
    """``^(a|b|c)$`` from regex fragments (already escaped)."""
    return "^(" + "|".join(names) + ")$"


def _rpc_keys(methods: Mapping[str, tuple[str, ...]]) -> str:
    parts = [f"{re.escape(svc)}\\.({'|'.join(sorted(names))})" for svc, names in sorted(methods.items())]
    return _any(*parts) if parts else "^$"


def _service_grant(service: str) -> Grant:
    s = re.escape(service)
    own_queue = f"rpc-{s}"
    reply_queue = f"rpc\\.reply-{s}-{_NAMEKO_KEY}"
    sources = SERVICE_HANDLES.get(service, ())
    handler_queues = [f"evt-{re.escape(src)}-{_METHOD}--{s}\\.{_METHOD}" for src in sources]
    source_exchanges = [f"{re.escape(src)}\\.events" for src in sources]
    celery = ["celery"] if service in TASK_SENDERS else []
    queues = [own_queue, reply_queue, *handler_queues]
    calls = (*SERVICE_CALLS.get(service, ()), *SERVICE_HANDOVERS.get(service, ()))
    return Grant(
        component=service,
        configure=_any(*queues, *celery),
        write=_any(RPC_EXCHANGE, f"{s}\\.events", *queues, *celery),
        read=_any(RPC_EXCHANGE, *source_exchanges, *queues, *celery),
        # Replies to any caller, and calls to the services it asks (any of their methods:
        # a service is trusted with its neighbours' whole API).
        rpc_write=_any(_ANY_REPLY_KEY, *(f"{re.escape(t)}\\.{_METHOD}" for t in calls)),
        rpc_read=_any(f"{s}\\.\\*", re.escape(reply_key(service, "")) + _NAMEKO_KEY),
    )


def _client_queues(component: str, *, events: bool) -> list[str]:
    name = re.escape(CLIENT_NAMES[component])
    queues = [f"rpc\\.reply-{name}-{_HEX_KEY}"]
    if events:
        queues.append(f"events-{name}-{_HEX_KEY}")
    return queues


def _own_reply_keys(component: str) -> str:
    """The reply keys a client (a gateway, the worker) may bind: its own name's."""
    return _any(re.escape(reply_key(CLIENT_NAMES[component], "")) + _HEX_KEY)


def _gateway_grant(component: str) -> Grant:
    events = component == PORTAL
    queues = _client_queues(component, events=events)
    exchanges = [f"{re.escape(src)}\\.events" for src in PORTAL_EVENT_SOURCES] if events else []
    return Grant(
        component=component,
        configure=_any(*queues),
        write=_any(RPC_EXCHANGE, *queues),
        read=_any(RPC_EXCHANGE, *exchanges, *queues),
        rpc_write=_rpc_keys(RPC_METHODS[component]),
        rpc_read=_own_reply_keys(component),
        event_topics=tuple(
            (f"{src}.events", "^$", _any(*(re.escape(e) for e in CUSTOMER_VISIBLE[src])))
            for src in PORTAL_EVENT_SOURCES) if events else (),
    )


def _worker_grant() -> Grant:
    # Celery's own names: the task queue and exchange, the remote-control mailbox (an
    # exchange, a queue per worker node ``<name>@<host>.celery.pidbox`` and the replies'
    # exchange), and the event exchange with the queues of gossip and mingle.
    celery = ["celery", "celery\\.pidbox", "reply\\.celery\\.pidbox", "[^.]+@[^ ]+\\.celery\\.pidbox",
              f"{_NAMEKO_KEY}\\.reply\\.celery\\.pidbox", "celeryev", "celeryev\\..+"]
    queues = _client_queues(WORKER, events=False)
    return Grant(
        component=WORKER,
        configure=_any(*celery, *queues),
        write=_any(RPC_EXCHANGE, *celery, *queues),
        read=_any(RPC_EXCHANGE, *celery, *queues),
        # Exactly the calls its tasks declare (``porchlight.contracts.callers.worker``).
        rpc_write=_rpc_keys(RPC_METHODS[WORKER]),
        rpc_read=_own_reply_keys(WORKER),
    )


def _operator_grant() -> Grant:
    # The CLI: an AmqpClient named porchlight-cli, calling any service's method.
    name = re.escape(CLI_CLIENT_NAME)
    queue = f"rpc\\.reply-{name}-{_HEX_KEY}"
    return Grant(
        component=OPERATOR,
        configure=_any(queue),
        write=_any(RPC_EXCHANGE, queue),
        read=_any(RPC_EXCHANGE, queue),
        rpc_write=_any(*(f"{re.escape(s)}\\.{_METHOD}" for s in SERVICES)),
        rpc_read=_any(re.escape(reply_key(CLI_CLIENT_NAME, "")) + _HEX_KEY),
    )


def grant(component: str) -> Grant:
    if component in SERVICES:
        return _service_grant(component)
    if component in (PORTAL, ADMIN):
        return _gateway_grant(component)
    if component == WORKER:
        return _worker_grant()
    if component == OPERATOR:
        return _operator_grant()
    raise ValueError(f"unknown component {component!r}; one of {', '.join((*COMPONENTS, OPERATOR))}")


def grants(components: tuple[str, ...] = COMPONENTS) -> list[Grant]:
    return [grant(c) for c in components]


# -- production: rabbitmqctl commands and the management API -------------------------------

def password_variable(component: str) -> str:
    return PASSWORD_VARIABLE.format(component.upper())


def rabbitmqctl_commands(vhost: str, components: tuple[str, ...] = COMPONENTS, suffix: str = "") -> list[str]:
    """Shell lines that create every user and its rights on ``vhost``; each password is a
    reference to its environment variable, never a value. ``suffix`` names the users apart
    (``porchlight-portal-<suffix>``; the tests, on a shared broker)."""
    q = shlex.quote
    exchanges = json.dumps({"exchanges": exchange_definitions(vhost)})
    lines = [
        f"rabbitmqctl add_vhost {q(vhost)} || true  # already there",
        "# The shared exchanges, declared once here: no process may declare or delete them.",
        'porchlight_exchanges="$(mktemp -d)/exchanges.json"',
        f"printf '%s' {q(exchanges)} > \"$porchlight_exchanges\"",
        'chmod -R a+rX "$(dirname "$porchlight_exchanges")"  # rabbitmqctl may read it as rabbitmq',
        'rabbitmqctl import_definitions "$porchlight_exchanges"',
    ]
    for g in grants(components):
        password = '"$' + password_variable(g.component) + '"'
        user = user_name(g.component, suffix)
        lines += [
            f"rabbitmqctl add_user {q(user)} {password} || "
            f"rabbitmqctl change_password {q(user)} {password}",
            f"rabbitmqctl set_permissions -p {q(vhost)} {q(user)} "
            f"{q(g.configure)} {q(g.write)} {q(g.read)}",
        ]
        lines += [f"rabbitmqctl set_topic_permissions -p {q(vhost)} {q(user)} {q(exchange)} "
                  f"{q(write)} {q(read)}" for exchange, write, read in g.topic_permissions()]
    return lines


class BrokerUsersError(RuntimeError):
    """Applying the users failed, or a credential is missing; the message says which."""


def _check_password(name: str, value: str | None) -> str:
    if not value:
        raise BrokerUsersError(f"{name} is not set")
    if value == "guest":
        raise BrokerUsersError(f"{name} is 'guest'; set a long random value")
    return value


def component_passwords(environ: Mapping[str, str],
                        components: tuple[str, ...] = COMPONENTS) -> dict[str, str]:
    """Every component's password from ``PORCHLIGHT_BROKER_PASSWORD_<COMPONENT>``; refuses
    a missing one or ``guest``, naming every such variable at once."""
    problems, passwords = [], {}
    for component in components:
        name = password_variable(component)
        try:
            passwords[component] = _check_password(name, environ.get(name))
        except BrokerUsersError as exc:
            problems.append(str(exc))
    if problems:
        raise BrokerUsersError("; ".join(problems))
    return passwords


def management_requests(vhost: str, passwords: Mapping[str, str],
                        components: tuple[str, ...] = COMPONENTS) -> list[tuple[str, str, dict[str, Any]]]:
    """The management HTTP API requests (method, path, JSON body) that create ``vhost``,
    the users with their passwords, and their rights. Every one is an idempotent PUT."""
    v = quote(vhost, safe="")
    plan: list[tuple[str, str, dict[str, Any]]] = [("PUT", f"/api/vhosts/{v}", {})]
    plan += [("PUT", f"/api/exchanges/{v}/{quote(e['name'], safe='')}",
              {key: e[key] for key in ("type", "durable", "auto_delete", "internal", "arguments")})
             for e in exchange_definitions(vhost)]
    for g in grants(components):
        u = quote(g.user, safe="")
        plan += [
            ("PUT", f"/api/users/{u}", {"password": passwords[g.component], "tags": ""}),
            ("PUT", f"/api/permissions/{v}/{u}",
             {"configure": g.configure, "write": g.write, "read": g.read}),
        ]
        # One PUT per exchange: the API keeps a user's topic rights per exchange.
        plan += [("PUT", f"/api/topic-permissions/{v}/{u}",
                  {"exchange": exchange, "write": write, "read": read})
                 for exchange, write, read in g.topic_permissions()]
    return plan


def apply_with_management_api(management_url: str, vhost: str, environ: Mapping[str, str] | None = None,
                              components: tuple[str, ...] = COMPONENTS, timeout: float = 30.0) -> int:
    """Create (or update) the users and rights through RabbitMQ's management API, with the
    administrator from ``RABBITMQ_ADMIN_USER``/``RABBITMQ_ADMIN_PASSWORD``. Returns the
    number of requests made. Never prints or logs a password."""
    environ = operator_environment() if environ is None else environ
    admin = environ.get("RABBITMQ_ADMIN_USER")
    problems = []
    if not admin:
        problems.append("RABBITMQ_ADMIN_USER is not set")
    try:
        admin_password = _check_password("RABBITMQ_ADMIN_PASSWORD", environ.get("RABBITMQ_ADMIN_PASSWORD"))
    except BrokerUsersError as exc:
        problems.append(str(exc))
    try:
        passwords = component_passwords(environ, components)
    except BrokerUsersError as exc:
        problems.append(str(exc))
    if problems:
        raise BrokerUsersError("; ".join(problems))
    auth = "Basic " + base64.b64encode(f"{admin}:{admin_password}".encode()).decode()
    base = management_url.rstrip("/")
    plan = management_requests(vhost, passwords, components)
    for method, path, body in plan:
        request = urllib.request.Request(
            base + path, data=json.dumps(body).encode(), method=method,
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator's URL
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response's socket
            # The path names the user, never its password.
            raise BrokerUsersError(f"{method} {path}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise BrokerUsersError(f"{method} {path}: {exc}") from None
    return len(plan)


def definitions(vhost: str, passwords: Mapping[str, str], suffix: str = "",
                components: tuple[str, ...] = COMPONENTS, salt: bytes | None = None,
                tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A RabbitMQ definitions document (``rabbitmqctl import_definitions``) with the users,
    their rights on ``vhost`` and their topic rights: one import instead of dozens of
    rabbitmqctl runs. Passwords go in as RabbitMQ's salted SHA-256 hash."""
    users, permissions, topic_permissions = [], [], []
    for g in grants(components):
        name = user_name(g.component, suffix)
        users.append({"name": name, "password_hash": password_hash(passwords[g.component], salt),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": list(tags)})
        permissions.append({"user": name, "vhost": vhost, "configure": g.configure,
                            "write": g.write, "read": g.read})
        topic_permissions += [{"user": name, "vhost": vhost, "exchange": exchange, "write": write,
                               "read": read} for exchange, write, read in g.topic_permissions()]
    return {"users": users, "permissions": permissions, "topic_permissions": topic_permissions,
            "exchanges": exchange_definitions(vhost)}


def exchange_definitions(vhost: str) -> list[dict[str, Any]]:
    """``SHARED_EXCHANGES`` as RabbitMQ defines them: topic, durable, never auto-deleted."""
    return [{"name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
             "internal": False, "arguments": {}} for name in SHARED_EXCHANGES]


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))
    with a 4-byte salt."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode()


# -- the command line: ``porchlight broker-users`` ------------------------------------------

def add_commands(sub: Any) -> None:
    """``porchlight broker-users commands|apply``, added to the CLI's subparsers."""
    users = sub.add_parser(
        "broker-users", help="RabbitMQ users and rights of every Porchlight process",
        description="Print the rabbitmqctl commands that create one RabbitMQ user per kind of "
                    "process with its rights (passwords as $PORCHLIGHT_BROKER_PASSWORD_<COMPONENT>), "
                    "or apply them through the management HTTP API.")
    users.add_argument("action", choices=("commands", "apply"))
    users.add_argument("--vhost", required=True, help="the virtual host Porchlight uses")
    users.add_argument("--management-url", help="with apply: e.g. http://rabbitmq:15672")
    users.add_argument("--with-operator", action="store_true",
                       help="also the porchlight-operator user, for the staff command line")
    users.set_defaults(func=_cmd_broker_users)


def _cmd_broker_users(args: Any) -> int:
    import sys

    components = (*COMPONENTS, OPERATOR) if args.with_operator else COMPONENTS
    if args.action == "commands":
        print("\n".join(rabbitmqctl_commands(args.vhost, components)))
        return 0
    if not args.management_url:
        print("porchlight: broker-users apply needs --management-url", file=sys.stderr)
        return 2
    try:
        made = apply_with_management_api(args.management_url, args.vhost, components=components)
    except BrokerUsersError as exc:
        print(f"porchlight: {exc}", file=sys.stderr)
        return 2
    print(f"{len(components)} users and their rights on vhost {args.vhost!r} applied ({made} requests)")
    return 0
