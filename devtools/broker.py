"""Finding a RabbitMQ to talk to, and giving each test run a virtual host of its own.

``python -m devtools.broker`` (what ``make test`` and ``make bench`` run first) makes sure
a broker answers at ``PORCHLIGHT_AMQP_URI``, or says what to do.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from kombu import Connection

from porchlight.operator.broker_access import COMPONENTS, definitions, exchange_definitions, user_name
from porchlight.runtime.settings import redact_uri

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    pass


def reachable(uri: str, timeout: float = 3.0) -> bool:
    try:
        with Connection(uri, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _is_local(uri: str) -> bool:
    return (urlsplit(uri).hostname or "localhost") in ("localhost", "127.0.0.1", "::1")


def _run(cmd: list[str], timeout: float = 600) -> bool:
    log.info("running: %s", " ".join(cmd))
    try:
        return subprocess.run(cmd, timeout=timeout, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_broker(uri: str, *, wait: float = 90.0) -> None:
    """Make sure RabbitMQ answers at ``uri``: use it if it does; otherwise, for a local
    address, start the local ``rabbitmq-server`` (installing it with apt-get as root when
    it is missing). Raise ``BrokerUnavailable`` saying what to do when none of that works."""
    if reachable(uri):
        return
    if not _is_local(uri):
        raise BrokerUnavailable(
            f"RabbitMQ does not answer at {redact_uri(uri)}. Start it, or set PORCHLIGHT_AMQP_URI to "
            "a broker that runs (e.g. amqp://guest:guest@localhost:5672/)."
        )
    if shutil.which("rabbitmq-server") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print("RabbitMQ is not installed; installing it with apt-get …", flush=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "rabbitmq-server"], env=env, check=False
            )
        if shutil.which("rabbitmq-server") is None:
            raise BrokerUnavailable(
                "RabbitMQ is not running and not installed. Install it "
                "(as root: apt-get install -y rabbitmq-server) and start it "
                "(rabbitmq-server -detached), or set PORCHLIGHT_AMQP_URI to a broker that runs."
            )
    print("RabbitMQ does not answer; starting the local rabbitmq-server …", flush=True)
    if not _run(["rabbitmq-server", "-detached"], timeout=60) and shutil.which("service"):
        _run(["service", "rabbitmq-server", "start"], timeout=120)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if reachable(uri):
            return
        time.sleep(1)
    raise BrokerUnavailable(
        f"Started rabbitmq-server but it still does not answer at {redact_uri(uri)} after "
        f"{wait:.0f}s. Check its log (/var/log/rabbitmq/) or set PORCHLIGHT_AMQP_URI to another broker."
    )


def declare_shared_exchanges(uri: str) -> None:
    """Declare the exchanges every process shares, as the user of ``uri`` (who needs the
    right to): what ``porchlight broker-users`` does in production, for a vhost of the
    tests or of ``make run``. No Porchlight process declares them itself."""
    parts = urlsplit(uri)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    with Connection(uri, connect_timeout=10) as conn:
        channel = conn.channel()
        for exchange in exchange_definitions(vhost):
            channel.exchange_declare(exchange["name"], exchange["type"], durable=exchange["durable"],
                                     auto_delete=exchange["auto_delete"])


class IsolatedVhost:
    """A RabbitMQ virtual host made for one test run and deleted after it, so queues of
    concurrent runs on the same broker never meet. Needs ``rabbitmqctl`` (a local broker);
    without it the run uses ``base_uri`` as it is and says so."""

    def __init__(self, base_uri: str) -> None:
        self.base_uri = base_uri
        self.name: str | None = None

    def __enter__(self) -> str:
        ctl = shutil.which("rabbitmqctl")
        if ctl is None or not _is_local(self.base_uri):
            log.warning("no rabbitmqctl for %s: tests share its default vhost", redact_uri(self.base_uri))
            declare_shared_exchanges(self.base_uri)
            return self.base_uri
        name = f"porchlight-test-{uuid.uuid4().hex[:12]}"
        user = urlsplit(self.base_uri).username or "guest"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([ctl, "-q", "add_vhost", name], check=True, timeout=60, **quiet)
        subprocess.run(
            [ctl, "-q", "set_permissions", "-p", name, user, ".*", ".*", ".*"],
            check=True, timeout=60, **quiet,
        )
        self.name = name
        parts = urlsplit(self.base_uri)
        uri = urlunsplit(parts._replace(path="/" + quote(name, safe="")))
        declare_shared_exchanges(uri)
        return uri

    def __exit__(self, *exc: object) -> None:
        if self.name:
            subprocess.run(
                [shutil.which("rabbitmqctl") or "rabbitmqctl", "-q", "delete_vhost", self.name],
                check=False, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )


def _import_definitions(ctl: str, document: dict) -> None:
    """``rabbitmqctl import_definitions`` of ``document``. rabbitmqctl 3.10 cannot read
    standard input, and run as root it drops to the ``rabbitmq`` user: the file (password
    hashes) lives in a private directory that user owns, gone right after."""
    with tempfile.TemporaryDirectory(prefix="porchlight-users-") as directory:
        path = Path(directory) / "definitions.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        path.chmod(0o600)
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("rabbitmq")
            except KeyError:
                owner = None
            if owner is not None:
                os.chown(directory, owner.pw_uid, owner.pw_gid)
                os.chown(path, owner.pw_uid, owner.pw_gid)
        done = subprocess.run([ctl, "-q", "import_definitions", str(path)], check=False, timeout=120,
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise BrokerUnavailable(f"rabbitmqctl import_definitions failed: {done.stderr.strip()[:500]}")


DEVTOOLS_TAG = "porchlight-devtools"


def _orphans(ctl: str) -> list[str]:
    """Users a local stack made whose process is gone (killed before it could delete them)."""
    listed = subprocess.run([ctl, "-q", "list_users", "--formatter", "json"], capture_output=True,
                            text=True, timeout=60, check=False)
    try:
        users = json.loads(listed.stdout or "[]")
    except ValueError:
        return []
    orphans = []
    for user in users:
        tags = user.get("tags") or []
        tags = tags.split(",") if isinstance(tags, str) else tags
        pids = [t.rsplit("-", 1)[1] for t in tags if t.startswith(f"{DEVTOOLS_TAG}-pid-")]
        if DEVTOOLS_TAG in tags and pids and pids[0].isdigit() and not _alive(int(pids[0])):
            orphans.append(user["user"])
    return orphans


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_users(ctl: str, users: list[str]) -> None:
    """Delete ``users``: one ``rabbitmqctl eval`` for all (a run of rabbitmqctl costs half a
    second; the names are ours: letters, digits and dashes), else one ``delete_user`` each,
    in parallel."""
    users = [user for user in users if re.fullmatch(r"[a-z0-9-]+", user)]
    if not users:
        return
    names = ", ".join(f'<<"{user}">>' for user in users)
    expression = (f'[catch rabbit_auth_backend_internal:delete_user(U, <<"{DEVTOOLS_TAG}">>)'
                  f" || U <- [{names}]], ok.")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        done = subprocess.run([ctl, "-q", "eval", expression], timeout=60, check=False, **quiet)
        if done.returncode == 0:
            return
    except (OSError, subprocess.TimeoutExpired):
        pass
    running = [subprocess.Popen([ctl, "-q", "delete_user", user], **quiet) for user in users]
    for proc in running:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ProcessUsers:
    """One RabbitMQ user per process of a local stack, with the rights
    ``porchlight.operator.broker_access`` gives its kind, on the vhost of ``base_uri``; deleted again
    when the stack stops.

    Names carry a random suffix (``porchlight-portal-<run>``), so stacks and test runs on
    one broker never share, reset or delete each other's users; passwords are random per
    run and never printed. Users carry their creator's process id as a tag: the next run
    deletes those of a run that was killed before it could. Everything is created by one
    ``rabbitmqctl import_definitions`` (a run of rabbitmqctl costs half a second). Without
    ``rabbitmqctl`` (a remote broker) every process uses ``base_uri`` and a warning says that
    least privilege is not in force.
    """

    def __init__(self, base_uri: str, components: tuple[str, ...] = COMPONENTS) -> None:
        self.base_uri = base_uri
        self.components = components
        self.suffix = uuid.uuid4().hex[:10]
        self.uris: dict[str, str] = {}
        self._users: list[str] = []

    @property
    def in_force(self) -> bool:
        return bool(self._users)

    def uri(self, component: str) -> str:
        """The address ``component`` connects with: its own user, or ``base_uri``."""
        return self.uris.get(component, self.base_uri)

    def create(self) -> ProcessUsers:
        ctl = shutil.which("rabbitmqctl")
        if ctl is None or not _is_local(self.base_uri):
            log.warning("no rabbitmqctl for %s: every process uses that one user; least privilege "
                        "on the broker is NOT in force", redact_uri(self.base_uri))
            return self
        _delete_users(ctl, _orphans(ctl))
        parts = urlsplit(self.base_uri)
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        passwords = {c: secrets.token_urlsafe(24) for c in self.components}
        # Tagged with this process's id: a later run deletes what a killed run left behind.
        document = definitions(vhost, passwords, self.suffix, self.components,
                               tags=(DEVTOOLS_TAG, f"{DEVTOOLS_TAG}-pid-{os.getpid()}"))
        _import_definitions(ctl, document)
        self._users = [user["name"] for user in document["users"]]
        host = parts.hostname or "localhost"
        host = f"[{host}]" if ":" in host else host
        for component in self.components:
            name = user_name(component, self.suffix)
            netloc = f"{quote(name, safe='')}:{quote(passwords[component], safe='')}@{host}"
            self.uris[component] = urlunsplit(parts._replace(
                netloc=netloc + (f":{parts.port}" if parts.port else "")))
        return self

    def describe(self) -> str:
        """One line for a person: whose users the processes run as."""
        if self.in_force:
            return (f"Broker: one RabbitMQ user per process (porchlight-<component>-{self.suffix}), "
                    "deleted when the stack stops.")
        return (f"Broker: every process uses {redact_uri(self.base_uri)} (no rabbitmqctl): least "
                "privilege is NOT in force.")

    def delete(self) -> None:
        """Delete the users; the broker closes their connections."""
        users, self._users, self.uris = self._users, [], {}
        _delete_users(shutil.which("rabbitmqctl") or "rabbitmqctl", users)

    def __enter__(self) -> ProcessUsers:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.delete()


def main() -> int:
    """``python -m devtools.broker``: make sure a broker answers, or say what to do."""
    logging.basicConfig(level=logging.WARNING)
    return require_broker()


def require_broker() -> int:
    """0 when a broker answers at the configured address (started or installed if need be);
    otherwise the reason on stderr and the exit code a command should end with."""
    import sys

    from porchlight.runtime.settings import SettingsError, get_settings

    try:
        ensure_broker(get_settings().amqp_uri)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokerUnavailable as exc:
        print(f"porchlight: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
