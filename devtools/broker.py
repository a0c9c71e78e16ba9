"""Finding a RabbitMQ to talk to, and giving each test run a virtual host of its own.

``python -m devtools.broker`` (what ``make test`` and ``make bench`` run first) makes sure
a broker answers at ``PORCHLIGHT_AMQP_URI``, or says what to do.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

from kombu import Connection

from porchlight.settings import redact_uri

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
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))

    def __exit__(self, *exc: object) -> None:
        if self.name:
            subprocess.run(
                [shutil.which("rabbitmqctl") or "rabbitmqctl", "-q", "delete_vhost", self.name],
                check=False, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )


def main() -> int:
    """``python -m devtools.broker``: make sure a broker answers, or say what to do."""
    logging.basicConfig(level=logging.WARNING)
    return require_broker()


def require_broker() -> int:
    """0 when a broker answers at the configured address (started or installed if need be);
    otherwise the reason on stderr and the exit code a command should end with."""
    import sys

    from porchlight.settings import SettingsError, get_settings

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
