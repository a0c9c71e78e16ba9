"""The whole stack on per-process broker users: every child connects as its own user
(devtools.broker.ProcessUsers), and the stack still does its work (tests/e2e/test_stack.py)."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import unquote, urlsplit

import pytest
import requests

from porchlight.operator.broker_access import COMPONENTS
from tests.running_stack import eventually

pytestmark = pytest.mark.e2e


def connected_users(vhost: str) -> set[str]:
    listed = subprocess.run([shutil.which("rabbitmqctl") or "rabbitmqctl", "-q", "list_connections",
                             "user", "vhost"], capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in listed.stdout.splitlines() if "\t" in line]
    return {user for user, host in rows if host == vhost}


def test_every_process_connects_as_its_own_user(stack, office):
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("no rabbitmqctl for this broker: the stack runs on one user")
    assert stack.users is not None and stack.users.in_force
    users = {component: unquote(urlsplit(stack.users.uri(component)).username or "")
             for component in COMPONENTS}
    assert len(set(users.values())) == len(COMPONENTS)
    for component, user in users.items():
        assert user.startswith(f"porchlight-{component}-")
        _, env = stack.command(component)
        assert unquote(urlsplit(env["PORCHLIGHT_AMQP_URI"]).username or "") == user
    vhost = unquote(urlsplit(stack.amqp_uri).path[1:])
    # A gateway connects on its first call: the admin's, and a portal page that asks.
    assert office.get("/work-orders").status_code == 200
    page = requests.get(office.share(office.work_order(title="Boiler")["id"])["url"], timeout=10)
    assert page.status_code == 200
    seen = eventually(lambda: set(users.values()) <= connected_users(vhost) or None, within=20)
    assert seen
