"""The sign-in limits hold when the guesses come all at once (issue M-4): a try at a code is
spent before the code is compared, and an attempt is counted by one atomic upsert, so no
number of simultaneous requests gets more than the limit. The interleaving is forced: every
thread has read the state before any of them writes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import TooManyRequests
from services.identity import ALIAS
from services.identity.accounts import rules
from services.identity.accounts.models import Attempt, Contact, SignInCode

AT_ONCE = 50
ADDRESS = "frances@northwind.example"


@pytest.fixture
def accounts(make_worker: Any) -> Any:
    from services.identity.service import IdentityService
    from services.identity.store import IdentityRepository

    return make_worker(IdentityService, ALIAS, IdentityRepository).repo.accounts


def all_at_once(work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in AT_ONCE threads started together; each one's result or exception."""
    results: list[Any] = [None] * AT_ONCE
    start = threading.Barrier(AT_ONCE)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test reads what each got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def a_code(accounts: Any) -> tuple[SignInCode, str]:
    contact = Contact(workspace_id="a" * 24, customer_id="c" * 24, name="Frances", email=ADDRESS,
                      email_key=rules.email_key(ADDRESS), email_slot=rules.email_key(ADDRESS),
                      role="owner", created_by="test").save()
    record, _, code = accounts.issue(contact, "sign_in")
    return record, code


def test_fifty_simultaneous_guesses_get_five_comparisons_and_the_code_dies(
        accounts: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    record, code = a_code(accounts)
    compared: list[str] = []
    real_hash = rules.code_hash

    def counted(record_id: str, guess: str) -> str:
        compared.append(guess)
        return real_hash(record_id, guess)

    monkeypatch.setattr(rules, "code_hash", counted)
    # Every guesser lists the live code before any of them spends a try.
    listed = threading.Barrier(AT_ONCE)
    real_live = accounts.live_codes

    def live_then_wait(*args: Any) -> Any:
        found = real_live(*args)
        listed.wait(timeout=20)
        return found

    monkeypatch.setattr(accounts, "live_codes", live_then_wait)
    wrong = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(AT_ONCE)]
    results = all_at_once(lambda i: accounts.redeem_code(ADDRESS, wrong[i], ("sign_in",), utcnow()))

    assert results == [None] * AT_ONCE
    assert len(compared) == rules.MAX_WRONG_CODES  # not fifty
    assert SignInCode.objects.get(id=record.id).wrong_codes == rules.MAX_WRONG_CODES
    monkeypatch.setattr(accounts, "live_codes", real_live)
    assert accounts.redeem_code(ADDRESS, code, ("sign_in",), utcnow()) is None  # dead, right code or not


def test_the_right_code_among_wrong_ones_works_once(accounts: Any) -> None:
    record, code = a_code(accounts)
    assert accounts.redeem_code(ADDRESS, "000000" if code != "000000" else "111111", ("sign_in",),
                                utcnow()) is None
    used = accounts.redeem_code(ADDRESS, code, ("sign_in",), utcnow())
    assert used is not None and used.used_at is not None and used.wrong_codes == 1
    assert accounts.redeem_code(ADDRESS, code, ("sign_in",), utcnow()) is None


def test_a_stolen_database_does_not_give_the_codes_back(accounts: Any, settings_env: Any) -> None:
    """A million codes are tried in a moment against a plain hash; the stored one is keyed
    with a key the database does not hold, so without it no code matches."""
    import hashlib
    import secrets

    record, code = a_code(accounts)
    stored = SignInCode.objects.get(id=record.id).code_hash
    plain = {hashlib.sha256(f"{record.id}:{guess:06d}".encode()).hexdigest() for guess in range(1_000_000)}
    assert stored not in plain
    settings_env(grant_key=secrets.token_hex(32))  # another deployment's key
    assert rules.code_hash(str(record.id), code) != stored


def test_fifty_simultaneous_attempts_let_exactly_the_limit_through(accounts: Any) -> None:
    limit, now = 10, utcnow()
    results = all_at_once(lambda i: accounts.count_attempt({"ip:203.0.113.9": limit}, now))
    passed = [r for r in results if r is None]
    refused = [r for r in results if isinstance(r, TooManyRequests)]
    assert (len(passed), len(refused)) == (limit, AT_ONCE - limit)
    # Refused attempts took their count back: the window holds exactly the limit.
    [counter] = Attempt.objects(key="ip:203.0.113.9")
    assert counter.count == limit
    assert 1 <= refused[0].retry_after <= rules.ATTEMPT_WINDOW.total_seconds() + 1


def test_a_refusal_on_one_key_counts_against_none(accounts: Any) -> None:
    now = utcnow()
    keys = {"email:frances@northwind.example": 1, "ip:203.0.113.9": 50}
    accounts.count_attempt(keys, now)
    with pytest.raises(TooManyRequests):
        accounts.count_attempt(keys, now)
    assert {a.key: a.count for a in Attempt.objects} == {
        "email:frances@northwind.example": 1, "ip:203.0.113.9": 1}


def test_the_next_window_starts_from_nothing(accounts: Any) -> None:
    now = utcnow()
    accounts.count_attempt({"ip:203.0.113.9": 1}, now)
    with pytest.raises(TooManyRequests):
        accounts.count_attempt({"ip:203.0.113.9": 1}, now)
    accounts.count_attempt({"ip:203.0.113.9": 1}, now + rules.ATTEMPT_WINDOW + timedelta(seconds=1))


@pytest.mark.parametrize("ip, bucket", [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:bbbb:cccc::9", "2001:db8:1:2::/64"),  # the same subscriber's next address
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next /64 is someone else
])
def test_ipv6_addresses_count_against_their_64(ip: str, bucket: str) -> None:
    from services.identity.accounts.rules import limits

    assert limits(None, ip) == {f"ip:{bucket}": rules.ATTEMPTS_PER_IP}
