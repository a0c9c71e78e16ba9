"""Translating what a service said: a sentence as written, and one with values in it,
matched against the catalog's sentence that takes them."""

from __future__ import annotations

import pytest

from porchlight.runtime import i18n
from tests import catalogs


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> None:
    catalogs.install(monkeypatch, "de", {
        "Please sign in.": "Bitte melden Sie sich an.",
        "Must be at most %(max_length)s characters.": "Höchstens %(max_length)s Zeichen.",
        "If %(address)s has an account, we have emailed it.":
            "Falls %(address)s ein Konto hat, ging eine E-Mail dorthin.",
    })


def test_a_sentence_as_written_is_looked_up(german) -> None:
    assert i18n.translate("de", "Please sign in.") == "Bitte melden Sie sich an."


def test_a_sentence_with_values_is_matched_and_keeps_them(german) -> None:
    assert i18n.translate("de", "Must be at most 120 characters.") == "Höchstens 120 Zeichen."
    assert (i18n.translate("de", "If dana@example.org has an account, we have emailed it.")
            == "Falls dana@example.org ein Konto hat, ging eine E-Mail dorthin.")


def test_what_the_catalog_does_not_hold_is_shown_as_it_came(german) -> None:
    assert i18n.translate("de", "Boiler service, 2nd floor") == "Boiler service, 2nd floor"
    assert i18n.translate("de", "Must be at most many characters, really.") == (
        "Must be at most many characters, really.")
    assert i18n.translate("de", None) == ""


def test_english_and_a_language_not_shipped_are_the_words_as_written() -> None:
    assert i18n.translate("en", "Please sign in.") == "Please sign in."
    assert i18n.translate("nl", "Please sign in.") == "Please sign in."
    assert i18n.translator("en")("Work order %(number)s", number="WO-7") == "Work order WO-7"
    assert not i18n.shipped("nl") and i18n.shipped("fr")


def test_a_shipped_language_without_its_compiled_catalog_says_how_to_make_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(i18n.CatalogMissing, match="make catalogs"):
            i18n.catalog("fr")
    finally:
        i18n.catalog.cache_clear()
