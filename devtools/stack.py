"""Run the whole Porchlight stack on one machine: every service, the worker, both gateways.

Used by ``make run`` (``devtools.run``, with a demo workspace), the benchmark and the
end-to-end tests (on a virtual host of their own, without the demo). Every child runs in
its own process group, and stopping the stack stops them all. Children get their settings
as ``PORCHLIGHT_*`` variables, like any deployment.

Unless the environment names a mail server (``PORCHLIGHT_SMTP_URL``), the stack runs one
of its own in this process (``stack.mail``, a ``devtools.mail_server.MailServer``) and
points the worker at it: every email is kept in memory and as an ``.eml`` file in the
``mail`` directory beside the logs (``.stack/mail/`` for ``make run``).

Replicas of a service must share its data. When some service runs more than one process
and ``PORCHLIGHT_MONGODB_URI`` names no MongoDB, the stack starts the local store
(``devtools.store_server``: the embedded in-memory store behind MongoDB's protocol, as the
process ``store``, logging to ``store.log``) and gives every service its address.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from devtools import store_server
from devtools.broker import ProcessUsers, declare_shared_exchanges
from devtools.mail_server import MailServer
from porchlight.kit import grants
from porchlight.runtime.settings import get_settings, nameko_config

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("identity", "sharing", "documents", "signatures", "notifications")
# ``module:Class`` — nameko must not scan the module: inspecting a mongoengine model's
# ``objects`` attribute would touch a database before the service has opened it.
SERVICE_CLASSES = {
    "identity": "services.identity.service:IdentityService",
    "sharing": "services.sharing.service:SharingService",
    "documents": "services.documents.service:DocumentsService",
    "signatures": "services.signatures.service:SignaturesService",
    "notifications": "services.notifications.service:NotificationsService",
}
# The Celery worker (signed PDFs, emails, timed sweeps) runs beside them.
WORKER = "worker"


def _secret_key() -> str | None:
    key = get_settings().secret_key
    return key.get_secret_value() if key else None


def _grant_key() -> str | None:
    key = get_settings().grant_key
    return key.get_secret_value() if key else None


# Ports for the children are picked below the kernel's ephemeral range: a port the OS
# hands out for port 0 is an ephemeral one, and an outbound connection of any process (a
# client reaching the broker) can take it between our pick and the child's own bind.
_PICK_FROM = 20000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Every port this process has handed out: a port picked for one child is free until the
# child binds it, so without this a second pick in the meantime could draw it again (a
# stack of a dozen processes then once in a few hundred starts failed "address in use").
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on and that this process has not handed out before, outside
    the ephemeral range when there is room below it."""
    top = _ephemeral_start() - 1
    for _ in range(200 if top > _PICK_FROM else 0):
        port = secrets.randbelow(top - _PICK_FROM) + _PICK_FROM
        if port not in _handed_out and _port_free(host, port):
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _through(uri: str, address: str) -> str:
    """``uri`` with its host and port replaced by ``address`` ("host:port"), the rest kept."""
    parts = urlsplit(uri)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=userinfo + at + address))


def kind_of(name: str) -> str:
    """``documents`` for the process ``documents-2``: what a replica runs."""
    kind, _, number = name.rpartition("-")
    return kind if kind and number.isdigit() else name


@dataclass
class Stack:
    amqp_uri: str = field(default_factory=lambda: get_settings().amqp_uri)
    host: str = "127.0.0.1"
    portal_port: int = 8000
    admin_port: int = 8001
    log_dir: Path = ROOT / ".stack" / "logs"
    gateway_workers: int = 2
    # Threads per gateway worker (PORCHLIGHT_GATEWAY_THREADS); None: the environment's.
    gateway_threads: int | None = None
    rpc_timeout: float = field(default_factory=lambda: get_settings().rpc_timeout)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: _secret_key() or secrets.token_hex(32))
    # Held by the services that sign and check customers' grants, and by no other process.
    grant_key: str = field(default_factory=lambda: _grant_key() or secrets.token_hex(32))
    # Run a local mail server for the worker: None (the default) only when
    # PORCHLIGHT_SMTP_URL names no server; True always (the tests: never a real one).
    local_mail: bool | None = None
    # The local mail server the worker sends through, while the stack runs; None when
    # PORCHLIGHT_SMTP_URL names a server.
    mail: MailServer | None = None
    # Each process's ops port (/metrics; /livez and /readyz for the services and the
    # worker): a free one per process name, kept across restarts of that process.
    ops_ports: dict[str, int] = field(default_factory=dict)
    # PORCHLIGHT_LOG_FORMAT for every child ("json": as in the images); None: the environment's.
    log_format: str | None = None
    # How many processes of a service or the worker to run (default one each): the second
    # ``documents`` is the process ``documents-2``, with a log and an ops port of its own.
    # Replicas of a service share its queue, so RabbitMQ spreads the calls over them; they
    # share data only through a real MongoDB (each in-memory store is its process's own).
    replicas: dict[str, int] = field(default_factory=dict)
    # Each kind of child's own broker user (replicas share their kind's), made by start()
    # and deleted by stop(); the tests' and the demo's clients keep ``amqp_uri`` (all
    # rights on the vhost).
    users: ProcessUsers | None = None
    # Run the local store for the services when PORCHLIGHT_MONGODB_URI names no MongoDB:
    # None (the default) only if some service runs replicas; True always; False never.
    shared_store: bool | None = None
    # The local store's process and address while it runs (None when the services use
    # PORCHLIGHT_MONGODB_URI or each its own in-memory store).
    store: subprocess.Popen | None = None
    store_uri: str | None = None
    # PORCHLIGHT_TRUSTED_PROXIES for the gateways; None: the environment's. The tests trust
    # loopback, so a test can speak for many clients (X-Forwarded-For) from one machine.
    trusted_proxies: str | None = None
    # Where a kind of child reaches the broker instead of ``amqp_uri``'s host and port: a
    # "host:port" per kind ("documents", "portal", …), "*" for every kind without its own
    # entry; the same user, password and vhost. The fault tests put a proxy there that
    # cuts or delays the connection (tests/faults/proxy.py); a child started after a change
    # (``start_process``) connects where it says.
    broker_via: dict[str, str] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        """Where the local mail server keeps every email it accepts."""
        return self.log_dir.parent / "mail"

    @property
    def portal_url(self) -> str:
        return f"http://{self.host}:{self.portal_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.admin_port}"

    def _stopped(self, name: str) -> bool:
        return name not in self.processes or self.processes[name].poll() is not None

    def ops_url(self, name: str) -> str:
        """The ops endpoint of process ``name`` (a service, ``worker``, ``portal`` or ``admin``)."""
        if name not in self.ops_ports:
            self.ops_ports[name] = free_port(self.host)
        elif self._stopped(name) and not _port_free(self.host, self.ops_ports[name]):
            # Its process stopped and something else (an outgoing connection's ephemeral
            # port, another stack) took the port meanwhile: the restart gets a new one.
            self.ops_ports[name] = free_port(self.host)
        return f"http://{self.host}:{self.ops_ports[name]}"

    def env(self, name: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        uri = self.users.uri(name) if self.users and name else self.amqp_uri
        if name and (via := self.broker_via.get(name, self.broker_via.get("*"))):
            uri = _through(uri, via)
        env.update({
            "PORCHLIGHT_AMQP_URI": nameko_config(uri)["AMQP_URI"],
            "PORCHLIGHT_PORTAL_BASE_URL": self.portal_url,
            "PORCHLIGHT_RPC_TIMEOUT": str(self.rpc_timeout),
            "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::UserWarning",
            "PYTHONUNBUFFERED": "1",
            # One key for every gateway process, so a form served by one is accepted by another.
            "PORCHLIGHT_SECRET_KEY": self.secret_key,
        })
        return env

    def process_names(self) -> list[str]:
        """Every process the stack runs, replicas included, in start order."""
        names = []
        for kind in (*SERVICES, WORKER, "portal", "admin"):
            count = self.replicas.get(kind, 1) if kind not in ("portal", "admin") else 1
            names += [kind] + [f"{kind}-{n}" for n in range(2, count + 1)]
        return names

    def command(self, name: str) -> tuple[list[str], dict[str, str]]:
        env = self.env(kind_of(name))  # a replica connects as its kind's broker user
        self.ops_url(name)  # picks its port
        env.update({"PORCHLIGHT_OPS_HOST": self.host, "PORCHLIGHT_OPS_PORT": str(self.ops_ports[name])})
        process, name = name, kind_of(name)  # a replica runs what its first process runs
        env["PORCHLIGHT_SERVICE_NAME"] = name  # the "service" of its log lines
        if self.log_format:
            env["PORCHLIGHT_LOG_FORMAT"] = self.log_format
        if name not in SERVICES:
            env.pop("PORCHLIGHT_MONGODB_URI", None)  # only the services own data, as in deploy/
        env.pop("PORCHLIGHT_GRANT_KEY", None)
        if name in grants.HOLDERS:
            env["PORCHLIGHT_GRANT_KEY"] = self.grant_key
        if name in SERVICES:
            if self.store_uri:
                env["PORCHLIGHT_MONGODB_URI"] = self.store_uri
            return [_bin("nameko"), "run", "--config", str(ROOT / "config.yml"),
                    SERVICE_CLASSES[name]], env
        if name == WORKER:
            # Beat's schedule file is per process: two workers never write one file.
            env["PORCHLIGHT_CELERY_BEAT_SCHEDULE"] = str(self.log_dir / f"celerybeat-schedule-{process}")
            # Beat runs in the first worker only: two would queue every sweep twice.
            env["PORCHLIGHT_WORKER_BEAT"] = "true" if process == WORKER else "false"
            if self.mail is not None:
                env["PORCHLIGHT_SMTP_URL"] = self.mail.url
            # Each worker's node name is its own (``worker-2@host``): Celery's control queue
            # is exclusive to one node name, so two workers named alike could not both start.
            return [sys.executable, "-m", "workers", "--hostname", f"{process}@%h"], env
        if self.trusted_proxies is not None:
            env["PORCHLIGHT_TRUSTED_PROXIES"] = self.trusted_proxies
        port = self.portal_port if name == "portal" else self.admin_port
        env.update({"PORCHLIGHT_GATEWAY_HOST": self.host, "PORCHLIGHT_GATEWAY_PORT": str(port),
                    "PORCHLIGHT_GATEWAY_WORKERS": str(self.gateway_workers)})
        if self.gateway_threads is not None:
            env["PORCHLIGHT_GATEWAY_THREADS"] = str(self.gateway_threads)
        return [_bin("gunicorn"), "--config", str(ROOT / "gateway" / "gunicorn_conf.py"),
                f"gateway.{name}.app:create_app()"], env

    # -- lifecycle --------------------------------------------------------------------
    def start_process(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd, env = self.command(name)
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
            self.processes[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop_process(self, name: str, timeout: float = 10.0) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def start_mail(self) -> None:
        """The local mail server (port 0: a free one), unless the environment names a real
        server and ``local_mail`` does not insist."""
        wanted = self.local_mail if self.local_mail is not None else get_settings().smtp_url is None
        if wanted and self.mail is None:
            self.mail = MailServer(directory=self.mail_dir).start()

    def stop_mail(self) -> None:
        if self.mail is not None:
            self.mail.stop()
            self.mail = None

    def start_store(self) -> None:
        """The local store the services share, when ``shared_store`` asks for it (see above)."""
        wanted = self.shared_store
        if wanted is None:
            wanted = any(self.replicas.get(kind, 1) > 1 for kind in SERVICES)
        if wanted and self.store is None and get_settings().mongodb_uri is None:
            # On loopback whatever ``host`` the gateways get: the store has no authentication.
            port = free_port("127.0.0.1")
            self.store = store_server.start("127.0.0.1", port, self.log_dir / "store.log")
            self.store_uri = f"mongodb://127.0.0.1:{port}/"

    def stop_store(self) -> None:
        store, self.store, self.store_uri = self.store, None, None
        if store is not None and store.poll() is None:
            store.terminate()
            store.wait(timeout=10)

    def start(self, timeout: float = 60.0) -> None:
        try:
            self.start_mail()  # before the worker, which is given its address
            self.start_store()  # before the services, which are given its address
            if self.users is None:
                self.users = ProcessUsers(self.amqp_uri).create()
            # As broker-users does in production: no process may declare them itself.
            declare_shared_exchanges(nameko_config(self.amqp_uri)["AMQP_URI"])
            names = self.process_names()
            for name in names:
                self.start_process(name)
            self.wait_ready(timeout, names=tuple(names))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every child: SIGTERM to all at once, then wait; SIGKILL what lingers. The
        local store and mail server stop last, once no service or worker can use them."""
        for proc in list(self.processes.values()):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name in list(self.processes):
            self.stop_process(name)
        self.stop_store()  # once no service can write to it
        self.stop_mail()
        if self.users is not None:
            self.users.delete()
            self.users = None

    def dead(self) -> list[str]:
        """The children that have exited, the local store included."""
        stopped = [name for name, proc in self.processes.items() if proc.poll() is not None]
        return stopped + (["store"] if self.store is not None and self.store.poll() is not None else [])

    def wait_ready(self, timeout: float = 60.0, names: tuple[str, ...] | None = None) -> None:
        """Until every named process answers 200 on its ``/readyz``: a service or the worker
        is connected to the broker (its queues consumed) and, for a service, its database
        answers; a gateway's AMQP client is connected."""
        names = names or tuple(self.processes)
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not ready after {timeout:.0f}s: {', '.join(pending)} "
                    f"(logs in {self.log_dir})"
                )
            if crashed := [n for n in self.dead() if n in pending]:
                raise RuntimeError(f"{', '.join(crashed)} exited; see {self.log_dir}")
            pending = [n for n in pending if not self._ready(n)]
            if pending:
                time.sleep(0.2)

    def readiness_url(self, name: str) -> str:
        if name in ("portal", "admin"):  # the gateways answer it on their own port
            return (self.portal_url if name == "portal" else self.admin_url) + "/readyz"
        return self.ops_url(name) + "/readyz"

    def _ready(self, name: str) -> bool:
        try:
            return requests.get(self.readiness_url(name), timeout=3).status_code == 200
        except requests.RequestException:
            return False
