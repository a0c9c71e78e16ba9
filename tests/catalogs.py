"""Catalogs for tests: a few sentences of a language, compiled as ``make catalogs``
compiles the real ones (Babel's ``.mo`` writer) and read as ``porchlight.runtime.i18n``
reads them, so a test can show that a page, an email or a PDF takes its words from the
catalog; every sentence the sources hold, read as ``make messages`` reads them; and a
pseudo-language that marks each sentence where it is shown."""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from porchlight.runtime import i18n

ROOT = Path(__file__).resolve().parent.parent
# What the pseudo-language writes around every sentence it translates.
OPEN, CLOSE = "⟦", "⟧"


def compiled(language: str, words: dict[Any, Any]) -> GNUTranslations:
    """The catalog of ``language`` holding ``words`` (English → translation; a sentence
    with plural forms: its forms → theirs)."""
    catalog = Catalog(locale=language)
    for english, translated in words.items():
        catalog.add(english, translated)
    return _loaded(catalog)


def _loaded(catalog: Catalog) -> GNUTranslations:
    compiled_mo = io.BytesIO()
    write_mo(compiled_mo, catalog)
    compiled_mo.seek(0)
    return GNUTranslations(compiled_mo)


def install(monkeypatch: pytest.MonkeyPatch, language: str, words: dict[Any, Any]) -> None:
    """Read ``language`` from a catalog holding ``words`` for the rest of the test; every
    other language as shipped. What ``i18n`` keeps of translated messages is kept apart
    for the test, so no other test sees it."""
    shipped = i18n.catalog
    test_catalog = compiled(language, words)
    monkeypatch.setattr(i18n, "catalog", lambda asked: test_catalog if asked == language else shipped(asked))
    for name in ("translate", "_with_values"):
        kept = getattr(i18n, name)
        monkeypatch.setattr(i18n, name, lru_cache(maxsize=kept.cache_info().maxsize)(kept.__wrapped__))


def _messages(folder: str, templates: str | None) -> Iterable[tuple[str, Any]]:
    """Every message ``make messages`` would find under ``folder`` (as babel.cfg says:
    Python with ``_``, ``gettext``, ``N_``; Jinja templates trimmed), as (message, file)."""
    method_map = [("**.py", "python")]
    options_map: dict[str, dict[str, str]] = {}
    if templates:
        method_map.insert(0, (templates, "jinja2"))
        options_map[templates] = {"trimmed": "true"}
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map=method_map, options_map=options_map, keywords=keywords):
        yield message, filename


def sentences(folder: str, *, templates: str | None = None) -> Iterable[tuple[str, Any]]:
    """Every sentence ``make messages`` would find under ``folder``, as (English, where);
    each form of a sentence with plural forms on its own."""
    for message, filename in _messages(folder, templates):
        for english in (message if isinstance(message, tuple) else (message,)):
            if english:
                yield english, f"{folder}/{filename}"


def plurals(folder: str, *, templates: str | None = None) -> Iterable[tuple[str, ...]]:
    """Every sentence with plural forms ``make messages`` would find under ``folder``, as
    its English forms."""
    for message, _filename in _messages(folder, templates):
        if isinstance(message, tuple) and len(message) > 1 and all(message):
            yield tuple(message)


def extracted(folder: Path) -> Catalog:
    """Every sentence the sources mark for translation, as ``make messages`` extracts
    them (``folder``: where to write the template)."""
    pot = folder / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(i18n.CATALOGS / "babel.cfg"),
                                "-k", "N_", "--no-location", "-o", str(pot), str(ROOT)])
    with pot.open("rb") as read:
        return read_po(read)


def pseudo(sources: Catalog) -> GNUTranslations:
    """A language in which every sentence reads as in English between ``OPEN`` and
    ``CLOSE``: a page in it shows at once any words that bypassed the catalog."""
    catalog = Catalog(locale="en")
    for message in sources:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(f"{OPEN}{form}{CLOSE}" for form in message.id), flags=message.flags)
        else:
            catalog.add(message.id, f"{OPEN}{message.id}{CLOSE}", flags=message.flags)
    return _loaded(catalog)
