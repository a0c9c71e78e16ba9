"""argon2 under a process-wide bound (issue M-5): each hash holds 32 MiB for ~60 ms, so a
burst of password posts may not run them all at once. At most ``HASH_PERMITS`` run; a
request that waits ``HASH_WAIT`` without one is told to try again (429) with nothing
written, and a reset link refused that way still works."""

from __future__ import annotations

from typing import Any

import eventlet
import pytest
from eventlet import patcher

from porchlight.contracts.errors import TooManyRequests
from services.identity import ALIAS
from services.identity.accounts import passwords
from services.identity.accounts.models import Contact

real_threading = patcher.original("threading")  # the thread pool's threads are real ones
AT_ONCE = 20
PASSWORD = "correct horse battery staple"


class Meter:
    """How many argon2 computations run at once, at most."""

    def __init__(self) -> None:
        self.lock = real_threading.Lock()
        self.now = self.most = self.runs = 0

    def wrap(self, work: Any) -> Any:
        def measured(*args: Any) -> Any:
            with self.lock:
                self.now += 1
                self.runs += 1
                self.most = max(self.most, self.now)
            try:
                return work(*args)
            finally:
                with self.lock:
                    self.now -= 1
        return measured


def burst(count: int, call: Any) -> list[Any]:
    """``call()`` from ``count`` green threads at once; each one's result or exception."""
    def one() -> Any:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the test reads what each got
            return exc

    pool = eventlet.GreenPool(count)
    return list(pool.imap(lambda _: one(), range(count)))


def test_twenty_password_checks_at_once_run_at_most_the_permits_at_a_time(monkeypatch: Any) -> None:
    # Each waits its turn: how long is not the point here (a loaded machine once made the
    # tenth wait past the 2 s), how many run at once is.
    monkeypatch.setattr(passwords, "HASH_WAIT", 120.0)
    stored = passwords.hash_password(PASSWORD)
    meter = Meter()
    verify = meter.wrap(passwords.verify_password)
    results = burst(AT_ONCE, lambda: passwords.argon2(verify, stored, PASSWORD))
    assert results == [True] * AT_ONCE  # each waited its turn
    assert meter.runs == AT_ONCE and meter.most == passwords.HASH_PERMITS


def test_a_request_that_gets_no_permit_in_time_is_told_to_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASH_WAIT", 0.0)
    for _ in range(passwords.HASH_PERMITS):  # every permit taken by requests in flight
        assert passwords._permits.acquire(timeout=1)
    try:
        with pytest.raises(TooManyRequests) as busy:
            # The dummy check of an unknown address waits for a permit like any other.
            passwords.argon2(passwords.verify_password, None, PASSWORD)
        assert busy.value.args[0] == passwords.BUSY and busy.value.retry_after == 5
    finally:
        for _ in range(passwords.HASH_PERMITS):
            passwords._permits.release()
    assert passwords.argon2(passwords.verify_password, None, PASSWORD) is False  # free again


def test_a_reset_refused_for_want_of_a_permit_leaves_the_link_working(
        make_worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.identity.service import IdentityService
    from services.identity.store import IdentityRepository

    identity = make_worker(IdentityService, ALIAS, IdentityRepository)
    ws = identity.create_workspace({"name": "Acme Heating"})["workspace"]["id"]
    customer = identity.create_customer(
        ws, "staff", {"name": "Northwind Facilities", "email": "office@northwind.example"})["id"]
    contact = Contact(workspace_id=ws, customer_id=customer, name="Frances Meyer",
                      email="frances@northwind.example", email_key="frances@northwind.example",
                      email_slot="frances@northwind.example", role="owner", created_by="test").save()
    _, token, _ = identity.repo.accounts.issue(contact, "password_reset")
    monkeypatch.setattr(passwords, "HASH_WAIT", 0.0)
    for _ in range(passwords.HASH_PERMITS):
        assert passwords._permits.acquire(timeout=1)
    try:
        with pytest.raises(TooManyRequests):
            identity.reset_password(token, {"new_password": PASSWORD}, "203.0.113.9")
    finally:
        for _ in range(passwords.HASH_PERMITS):
            passwords._permits.release()
    assert Contact.objects.get(id=contact.id).password_hash is None  # nothing written
    session = identity.reset_password(token, {"new_password": PASSWORD}, "203.0.113.9")
    assert session["contact"]["email"] == "frances@northwind.example"
    assert passwords.verify_password(Contact.objects.get(id=contact.id).password_hash, PASSWORD)
