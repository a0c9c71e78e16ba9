"""Customer portal passwords: hashing, checking a login, and judging a new password.

Passwords are NFKC-normalized before they are hashed or checked, so the same password
typed on another keyboard or system (composed or decomposed accents, full-width digits)
is still the same password.

``common_passwords.txt`` beside this module holds the most frequent leaked passwords. It
was generated once from the ``zxcvbn`` package's password frequency list (MIT License):
entries of 4+ characters, lower-cased, deduplicated and sorted, under a one-line header.
``zxcvbn`` is not a dependency of the project; only the text file is shipped.
"""

from __future__ import annotations

import re
import string
import threading
import unicodedata
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

from porchlight.contracts.errors import InvalidInput, TooManyRequests
from porchlight.contracts.words import N_

T = TypeVar("T")

MIN_LENGTH = 12
MAX_LENGTH = 128

# argon2id above OWASP's minimum (m=19 MiB, t=2, p=1): 32 MiB and two passes cost about
# 60 ms per hash. parallelism=1 because the server has 2 cores: each login then occupies
# one core and 32 MiB, so two logins at once still fit, and a burst of them cannot take
# all the memory. Raising these later is safe: needs_rehash() tells when to rehash.
# The hash runs in C for those 60 ms without yielding to eventlet's other green threads.
_HASHER = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1, type=Type.ID)

# A hash, with the parameters above, of a random password nobody knows. It is verified
# when an account has no (usable) hash, so that answer takes as long as a wrong password
# and timing does not tell whether an account has a password.
# (tests/unit/test_passwords.py checks it still matches _HASHER's parameters.)
_DUMMY_HASH = (
    "$argon2id$v=19$m=32768,t=2,p=1$u4k1kPF9ce2Ng3aZsEfpyA$"
    "Bs45DGoZEDc1W6PfSxcBplSEESuA0rnEacDDhw2Juto"
)

_COMMON_FILE = "common_passwords.txt"
_common: frozenset[str] | None = None

# What people put before or after a common word: digits, punctuation, spaces.
_AFFIX = string.digits + string.punctuation + " "
# Runs that count as a plain sequence, forwards or backwards, wrapping round.
_SEQUENCES = ("0123456789", string.ascii_lowercase, "qwertyuiop", "asdfghjkl", "zxcvbnm")
# A pattern is only judged on a part of the password at least this long.
_MIN_PATTERN = 8

TOO_SHORT = N_("Use at least %(min_length)s characters; a few unrelated words make a good password.") % {
    "min_length": MIN_LENGTH}
TOO_LONG = N_("Use at most %(max_length)s characters.") % {"max_length": MAX_LENGTH}
NOT_TEXT = N_("Enter a password.")
COMMON = N_("This is one of the most common passwords; choose one that is harder to guess.")
COMMON_WITH_AFFIX = N_("This is a common password with only numbers or symbols added; "
                       "choose one that is harder to guess.")
REPEATED = N_("Avoid repeating one character or a short pattern; choose something less predictable.")
SEQUENCE = N_("Avoid sequences such as 12345, abcde or qwerty; choose something less predictable.")
HAS_EMAIL = N_("Do not use your email address in your password.")
HAS_NAME = N_("Do not use your name in your password.")
CHOOSE_ANOTHER = N_("Choose another password.")


# At most this many argon2 computations at once in one identity process: each holds 32 MiB
# for its ~60 ms, so a burst of password posts costs at most HASH_PERMITS × 32 MiB on top
# of the process's baseline (the memory limit in deploy/k8s/base/identity.yaml is sized
# from it) instead of one 32 MiB block per request in flight. A request waits up to
# HASH_WAIT seconds for a permit, then is told to try again (429).
HASH_PERMITS = 2
HASH_WAIT = 2.0
BUSY = N_("Many people are signing in right now; please try again in a few seconds.")
_permits = threading.BoundedSemaphore(HASH_PERMITS)


def argon2(work: Callable[..., T], *args: Any) -> T:
    """Run ``hash_password`` or ``verify_password`` (the unknown address's dummy check
    included) in the thread pool — argon2 holds a core without yielding — under the
    process's permits; ``TooManyRequests`` after HASH_WAIT without one."""
    if not _permits.acquire(timeout=HASH_WAIT):
        raise TooManyRequests(BUSY, 5)
    try:
        return tpool.execute(work, *args)
    finally:
        _permits.release()


def _normalize(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw)


def hash_password(raw: str) -> str:
    """An argon2id hash of the password (with its own random salt and parameters)."""
    return _HASHER.hash(_normalize(raw))


def verify_password(stored_hash: str | None, raw: str) -> bool:
    """Whether ``raw`` is the password of ``stored_hash``. False, never an exception, for a
    wrong password and for a missing or malformed hash."""
    if not isinstance(raw, str):
        _spend_the_time("")
        return False
    if not isinstance(stored_hash, str) or not stored_hash:
        _spend_the_time(raw)
        return False
    try:
        return _HASHER.verify(stored_hash, _normalize(raw))
    except InvalidHashError:
        _spend_the_time(raw)
        return False
    except VerificationError:  # a mismatch, or a hash argon2 could not use
        return False


def _spend_the_time(raw: str) -> None:
    try:
        _HASHER.verify(_DUMMY_HASH, _normalize(raw))
    except VerificationError:
        pass


def needs_rehash(stored_hash: str | None) -> bool:
    """Whether the hash was made with other parameters than today's (after a successful
    login, store ``hash_password(raw)`` in its place). True for a malformed hash."""
    if not isinstance(stored_hash, str):
        return True
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def common_passwords() -> frozenset[str]:
    """The list of common passwords, read from the package on first use."""
    global _common
    if _common is None:
        _common = _read_common_passwords()
    return _common


def _read_common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath(_COMMON_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_new_password(raw: object, *, email: str | None = None, name: str | None = None) -> None:
    """Refuse a password that is too short or long, common, a plain pattern, or made of the
    person's email address or name, with one sentence saying why."""
    problem = _problem(raw, email=email, name=name)
    if problem:
        raise InvalidInput(CHOOSE_ANOTHER, {"password": problem})


def _problem(raw: object, *, email: str | None, name: str | None) -> str | None:
    if not isinstance(raw, str):
        return NOT_TEXT
    # NFKC can compose a few code points into one, never many: anything this long is too
    # long whatever it normalizes to, and is not worth normalizing.
    if len(raw) > 8 * MAX_LENGTH:
        return TOO_LONG
    password = _normalize(raw)
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    folded = password.casefold()
    if email and _contains_any(folded, _email_fragments(email)):
        return HAS_EMAIL
    if name and _contains_any(folded, _fragments(name)):
        return HAS_NAME
    lowered = password.lower()
    core = lowered.strip(_AFFIX)
    candidates = {lowered, lowered.strip(string.punctuation + " "), core}
    candidates = {c for c in candidates if len(c) >= _MIN_PATTERN}
    if any(_is_repeated(c) for c in candidates):
        return REPEATED
    if any(_is_sequence(c) for c in candidates):
        return SEQUENCE
    common = common_passwords()
    if lowered in common:
        return COMMON
    if any(word in common for word in _without_affixes(lowered)):
        return COMMON_WITH_AFFIX
    return None


def _without_affixes(text: str) -> set[str]:
    """Every way of taking digits, punctuation and spaces off the start and the end."""
    lead = len(text) - len(text.lstrip(_AFFIX))
    trail = len(text) - len(text.rstrip(_AFFIX))
    found = set()
    for i in range(lead + 1):
        for j in range(trail + 1):
            word = text[i:len(text) - j]
            if len(word) >= 4 and word != text:
                found.add(word)
    return found


def _is_repeated(text: str) -> bool:
    """One character or a short pattern, repeated at least twice (the last time perhaps
    only in part): "aaaaaaaaaaaa", "abcabcabcabc"."""
    n = len(text)
    return any((text[:size] * (n // size + 1))[:n] == text for size in range(1, n // 2 + 1))


def _is_sequence(text: str) -> bool:
    """A run of the digits, the alphabet or a keyboard row: "123456789012", "abcdefghijkl"."""
    for run in _SEQUENCES:
        for way in (run, run[::-1]):
            if text in way * (len(text) // len(way) + 2):
                return True
    return False


def _fold(text: str) -> str:
    return _normalize(text).casefold().strip()


def _fragments(text: str) -> set[str]:
    """What of a name or an email's local part is too personal to be in a password: the
    whole (4+ characters), the whole without spaces or punctuation, each word of 4+."""
    folded = _fold(text)
    words = [w for w in re.split(r"[\W_]+", folded) if w]
    found = {folded, "".join(words), *words}
    return {f for f in found if len(f) >= 4}


def _email_fragments(email: str) -> set[str]:
    folded = _fold(email)
    found = {folded} if folded else set()
    local = folded.rpartition("@")[0] if "@" in folded else ""
    if local:
        found |= _fragments(local)
    return found


def _contains_any(password: str, fragments: set[str]) -> bool:
    return any(fragment in password for fragment in fragments)
