"""The catalogs are complete: every sentence the code and the templates hold (read from
them as ``make messages`` reads them) is translated in every shipped language — no entry
empty, none fuzzy, every value placeholder kept — and what the programs load (the
compiled ``.mo``) is the catalog as written."""

from __future__ import annotations

import gettext
import re

import pytest
from babel.messages.pofile import read_po

from porchlight.contracts.languages import LANGUAGES, SOURCE_LANGUAGE
from porchlight.runtime import i18n
from tests import catalogs

TRANSLATED = sorted(set(LANGUAGES) - {SOURCE_LANGUAGE})


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):
    return catalogs.extracted(tmp_path_factory.mktemp("catalogs"))


def _catalog(language: str):
    with (i18n.CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as read:
        return read_po(read, locale=language)


def test_the_sources_hold_the_sentences_customers_read(extracted) -> None:
    ids = {message.id if isinstance(message.id, str) else message.id[0]
           for message in extracted if message.id}
    # One from each kind of source: a page, an email, the PDF, a service's message.
    for known in ("Accept estimate", "Signed by", "Some fields need attention.",
                  "That code is not right, or it is no longer valid. Ask for a new one."):
        assert known in ids, known
    assert len(ids) > 200


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_is_translated_in_every_shipped_language(extracted, language: str) -> None:
    catalog = _catalog(language)
    missing, empty, fuzzy = [], [], []
    for message in extracted:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None:
            missing.append(message.id)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            empty.append(message.id)
        if entry.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"not in the {language} catalog (run make messages, then translate): {missing[:10]}"
    assert not empty, f"untranslated in {language}: {empty[:10]}"
    assert not fuzzy, f"fuzzy in {language} (check the translation, then drop the flag): {fuzzy[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_values_it_is_given(language: str) -> None:
    problems = [(message.id, [str(error) for error in errors])
                for message, errors in _catalog(language).check() if errors]
    assert not problems, problems[:10]


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_catalog_as_written(language: str) -> None:
    compiled = i18n.catalog(language)
    assert isinstance(compiled, gettext.GNUTranslations)
    for message in _catalog(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, (
                f"{language}: {message.id!r} differs from the .po: run make catalogs")


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_holds_the_markup_of_its_sentence_and_nothing_more(language: str) -> None:
    """Templates show a translation as it is written (it may hold a sentence's markup), so
    a translation holds exactly its sentence's tags, and no straight double quote where
    the sentence has none (it may be shown inside an attribute)."""
    tags = re.compile(r"<[^>]*>")
    wrong = []
    for message in _catalog(language):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if sorted(tags.findall(string)) != sorted(tags.findall(sources[0])):
                wrong.append((message.id, string))
            elif '"' in tags.sub("", string) and '"' not in tags.sub("", sources[0]):
                wrong.append((message.id, string))
    assert not wrong, wrong[:10]
