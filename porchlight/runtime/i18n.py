"""The words a customer reads, in their language: gettext catalogs, one per language.

English is the language the words are written in; every other language is a catalog,
``porchlight/translations/<code>/LC_MESSAGES/messages.po``, compiled to ``messages.mo`` by
``make catalogs`` (which ``make setup`` runs). One catalog serves the portal's pages, the
emails and the signed PDF. Templates use Jinja2's i18n extension (``{{ _("…") }}``,
``{% trans %}``, ``ngettext``) in the language their context names (``install``); code writes
``_("…")`` with ``_ = translator(language)``.

Messages a service sends (an error, a field's problem) travel in English, as written in
the code and marked with ``N_``; whoever shows them to a customer translates them
(``translate``). A message with a value in it is matched against the catalog's sentences
that take values: "Must be at most 120 characters." is "Must be at most %(max_length)s
characters." with 120, in any language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context

from porchlight.contracts.languages import LANGUAGES, SOURCE_LANGUAGE
from porchlight.runtime import formatting

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class CatalogMissing(RuntimeError):
    """A shipped language's compiled catalog is not there: ``make catalogs`` writes it."""


def shipped(language: str | None) -> bool:
    return language in LANGUAGES


def language_for(preferred: str | None, workspace_locale: str | None = None) -> str:
    """The reader's language when Porchlight is written in it, else the language of the
    workspace's locale when it is, else English: the last word for a page, an email and
    the signed PDF alike."""
    if shipped(preferred):
        return str(preferred)
    language = formatting.locale_of(workspace_locale).language
    return language if shipped(language) else SOURCE_LANGUAGE


@lru_cache(maxsize=len(LANGUAGES) + 4)
def catalog(language: str | None) -> NullTranslations:
    """The compiled catalog of a shipped language; English (and a language not shipped)
    is the words as written."""
    if language == SOURCE_LANGUAGE or not shipped(language):
        return NullTranslations()
    path = CATALOGS / str(language) / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as compiled:
            return GNUTranslations(compiled)
    except FileNotFoundError:
        raise CatalogMissing(f"{path} is missing: run `make catalogs` to compile the catalogs.") from None


def translator(language: str | None) -> Callable[..., str]:
    """``_`` for code that writes for one reader: ``_("Signed by")``, and with values
    ``_("Work order %(number)s", number=…)`` (``make catalogs`` finds each ``_("…")``)."""
    words = catalog(language)

    def _(message: str, **values: Any) -> str:
        text = words.gettext(message)
        return text % values if values else text

    return _


@lru_cache(maxsize=len(LANGUAGES) + 4)
def _with_values(language: str | None) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The catalog's sentences that take values, each as the pattern its English matches."""
    known = getattr(catalog(language), "_catalog", {})
    found = []
    for message in known:
        if isinstance(message, str) and _PLACEHOLDER.search(message):
            pattern = "".join(f"(?P<{part}>.+?)" if index % 2 else re.escape(part)
                              for index, part in enumerate(_PLACEHOLDER.split(message)))
            found.append((re.compile(pattern, re.DOTALL), message))
    return tuple(found)


@lru_cache(maxsize=2048)
def translate(language: str | None, text: str | None) -> str:
    """A message as a service or a view wrote it in English, in ``language``: the same
    text when the catalog does not hold it (a name, a number, a sentence not yet there)."""
    if not text:
        return text or ""
    words = catalog(language)
    said = words.gettext(text)
    if said != text or type(words) is NullTranslations:
        return said
    for pattern, message in _with_values(language):
        matched = pattern.fullmatch(text)
        if matched:
            return words.gettext(message) % matched.groupdict()
    return text


def install(env: Environment, language_from: Callable[[Any], str | None]) -> None:
    """Jinja2's i18n extension on ``env``, in the language ``language_from(context)`` says:
    ``_``/``gettext``, ``ngettext``, ``{% trans %}`` (whitespace trimmed, so a sentence may
    span lines in a template) and the ``translated`` filter for a message that came from
    elsewhere."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True

    @pass_context
    def _gettext(context: Any, message: str) -> str:
        return catalog(language_from(context)).gettext(message)

    @pass_context
    def _ngettext(context: Any, singular: str, plural: str, count: int) -> str:
        return catalog(language_from(context)).ngettext(singular, plural, count)

    @pass_context
    def _translated(context: Any, text: str | None) -> str:
        return translate(language_from(context), text)

    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["translated"] = _translated
