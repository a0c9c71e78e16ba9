"""Customer portal passwords: the argon2id hash, a login check that never raises and takes
as long without a hash, and the rules a new password must pass."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tomllib
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type

from porchlight.contracts.errors import InvalidInput
from services.identity.accounts import passwords
from services.identity.accounts.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)

ROOT = Path(__file__).resolve().parents[2]

# The sentences the person typing reads, spelled out here so a change to one is deliberate.
NOT_TEXT = "Enter a password."
TOO_SHORT = "Use at least 12 characters; a few unrelated words make a good password."
TOO_LONG = "Use at most 128 characters."
COMMON = "This is one of the most common passwords; choose one that is harder to guess."
COMMON_WITH_AFFIX = ("This is a common password with only numbers or symbols added; "
                     "choose one that is harder to guess.")
REPEATED = "Avoid repeating one character or a short pattern; choose something less predictable."
SEQUENCE = "Avoid sequences such as 12345, abcde or qwerty; choose something less predictable."
HAS_EMAIL = "Do not use your email address in your password."
HAS_NAME = "Do not use your name in your password."


# -- hashing and verifying ----------------------------------------------------------------

def test_the_hash_is_argon2id_and_salted():
    first = hash_password("correct horse battery staple")
    second = hash_password("correct horse battery staple")
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second
    assert "correct horse" not in first


def test_verify_accepts_the_password_and_refuses_another():
    stored = hash_password("correct horse battery staple")
    assert verify_password(stored, "correct horse battery staple") is True
    assert verify_password(stored, "correct horse battery stapler") is False
    assert verify_password(stored, "") is False


def test_the_password_is_normalized_before_hashing():
    composed, decomposed = "Café crème brûlée", unicodedata.normalize("NFD", "Café crème brûlée")
    assert composed != decomposed
    assert verify_password(hash_password(composed), decomposed) is True


@pytest.mark.parametrize("stored", [None, "", "garbage", "$argon2id$v=19$m=1,t=1,p=1$bad$bad", b"$argon2id$"])
def test_verify_is_false_without_raising_for_a_missing_or_malformed_hash(stored):
    assert verify_password(stored, "correct horse battery staple") is False


def test_verify_is_false_for_a_password_that_is_not_text():
    assert verify_password(hash_password("correct horse battery staple"), None) is False


class CountingHasher:
    """Stands in for the module's hasher and counts what it is asked to verify."""

    def __init__(self, real: PasswordHasher):
        self.real, self.verified = real, []

    def verify(self, stored, raw):
        self.verified.append(stored)
        return self.real.verify(stored, raw)


@pytest.mark.parametrize("stored", [None, "", "garbage"])
def test_without_a_usable_hash_a_dummy_hash_is_verified_to_spend_the_same_time(monkeypatch, stored):
    counting = CountingHasher(passwords._HASHER)
    monkeypatch.setattr(passwords, "_HASHER", counting)
    assert verify_password(stored, "correct horse battery staple") is False
    assert counting.verified[-1] == passwords._DUMMY_HASH


def test_the_dummy_hash_has_todays_parameters():
    # Otherwise an answer without a hash would take a different time than a wrong password.
    assert needs_rehash(passwords._DUMMY_HASH) is False


def test_needs_rehash_only_for_other_parameters():
    assert needs_rehash(hash_password("correct horse battery staple")) is False
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    assert needs_rehash(weaker.hash("correct horse battery staple")) is True
    assert needs_rehash("garbage") is True
    assert needs_rehash(None) is True


# -- a new password -----------------------------------------------------------------------

def refusal(raw, **person) -> str:
    with pytest.raises(InvalidInput) as info:
        check_new_password(raw, **person)
    assert info.value.message == "Choose another password."
    assert set(info.value.fields) == {"password"}
    return info.value.fields["password"]


@pytest.mark.parametrize(("raw", "person", "message"), [
    (None, {}, NOT_TEXT),
    (123456789012345, {}, NOT_TEXT),
    ("", {}, TOO_SHORT),
    ("Tr0ub4dor&3", {}, TOO_SHORT),
    # 12 code points typed, 11 once the composed accent is one: counted after NFKC.
    ("Cafe\u0301 cremes", {}, TOO_SHORT),
    ("x" * 100 + "correct horse" * 3, {}, TOO_LONG),
    ("é" * 2000, {}, TOO_LONG),
    ("password1234", {}, COMMON),  # on the list itself
    ("password2024!!", {}, COMMON_WITH_AFFIX),
    ("ILoveYou 1234", {}, COMMON_WITH_AFFIX),
    ("Password1234!", {}, COMMON_WITH_AFFIX),
    ("2024!Baseball", {}, COMMON_WITH_AFFIX),
    ("!!Jennifer1234", {}, COMMON_WITH_AFFIX),
    ("aaaaaaaaaaaa", {}, REPEATED),
    ("abcabcabcabc", {}, REPEATED),
    ("AbcAbcAbcAbc!", {}, REPEATED),
    ("123456789012", {}, SEQUENCE),
    ("abcdefghijkl", {}, SEQUENCE),
    ("lkjihgfedcba1", {}, SEQUENCE),
    ("Alex.Smith@Example.com", {"email": "alex.smith@example.com"}, HAS_EMAIL),
    ("my alex.smith is safe", {"email": "Alex.Smith@example.com"}, HAS_EMAIL),
    ("smithereens forever", {"email": "smith@example.com"}, HAS_EMAIL),
    ("ROSALIND wrote this", {"name": "Rosalind"}, HAS_NAME),
    ("mariagarcia rocks on", {"name": "Maria Garcia"}, HAS_NAME),
    ("the garcia family tree", {"name": "Maria Garcia"}, HAS_NAME),
])
def test_each_reason_is_refused_with_its_own_sentence(raw, person, message):
    assert refusal(raw, **person) == message


def test_a_common_password_is_refused_whatever_its_case():
    # A 12+ character entry, to pass the length rule first.
    long_common = sorted(w for w in passwords.common_passwords() if len(w) >= 12 and w.isalpha())[0]
    assert refusal(long_common.upper()) == COMMON


def test_short_email_parts_and_names_are_not_held_against_a_password():
    # A local part or name under 4 characters would refuse too many good passwords.
    check_new_password("a lot of mountains to climb", email="al@example.com", name="Al")
    check_new_password("a lot of mountains to climb", email="someone@example.com", name=None)


@pytest.mark.parametrize("raw", [
    "correct horse battery staple",
    "r7#Kq!v9Zp2w",
    "Über den Wolken, grüne Äpfel",
    "日本語のパスワードはとても長い",
    "Horse-battery-12",
])
def test_good_passwords_are_accepted(raw):
    check_new_password(raw, email="alex.smith@example.com", name="Alex Smith")


def test_a_password_of_exactly_the_bounds_is_accepted():
    check_new_password("kd8#mQ2!vZp9")
    longest = ("the quick brown fox jumps over the lazy dog while five boxing wizards jump quickly, "
               "and we pack my box with five dozen liquor jugs")[:128]
    assert len(longest) == 128
    check_new_password(longest)


# -- the list of common passwords ---------------------------------------------------------

def list_lines() -> list[str]:
    path = resources.files("services.identity.accounts").joinpath("common_passwords.txt")
    return path.read_text("utf-8").splitlines()


def test_the_list_is_sorted_lower_case_and_has_no_duplicates():
    header, *words = list_lines()
    assert header.startswith("# ") and "zxcvbn" in header and "MIT License" in header
    assert not any(w.startswith("#") for w in words)
    assert words == sorted(set(words))
    assert all(w == w.lower() == w.strip() and len(w) >= 4 for w in words)
    assert 20_000 <= len(words) <= 35_000
    assert {"password", "qwerty", "baseball", "iloveyou"} <= set(words)
    assert passwords.common_passwords() == frozenset(words)


def test_the_list_is_shipped_with_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "common_passwords.txt" in package_data["services.identity.accounts"]


def test_the_list_is_read_once_and_only_when_needed(monkeypatch):
    reads = []
    real = passwords._read_common_passwords
    monkeypatch.setattr(passwords, "_common", None)
    monkeypatch.setattr(passwords, "_read_common_passwords", lambda: reads.append(1) or real())
    for raw in ("correct horse battery staple", "password1234", "another good passphrase"):
        with pytest.raises(InvalidInput) if raw == "password1234" else contextlib.nullcontext():
            check_new_password(raw)
    assert passwords.common_passwords() is passwords.common_passwords()
    assert len(reads) == 1


def test_importing_the_module_does_not_read_the_list():
    code = ("import services.identity.accounts.passwords as p; assert p._common is None; "
            "p.check_new_password('correct horse battery staple'); assert p._common")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
