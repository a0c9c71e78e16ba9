"""The languages Porchlight's pages and emails are written in, and the locales a workspace
may choose to write numbers and dates in. Adding a language is its catalog and one line
here."""

from __future__ import annotations

from typing import Annotated, Literal

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, Field, StrictStr

from porchlight.contracts.fields import patterned, refuse

# Each language by its code, named as its speakers name it. English is the language the
# words are written in; each other one is a catalog, porchlight/translations/<code>/.
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "de": "Deutsch"}
SOURCE_LANGUAGE = "en"
DEFAULT_LOCALE_TAG = "en-GB"

# A language Porchlight is written in (anything else is refused, naming these).
Language = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]



def _known_locale(tag: str) -> str:
    language = tag.split("-", 1)[0]
    if language not in LANGUAGES:
        raise refuse(f"Must be a locale of a language Porchlight is written in: "
                         f"{', '.join(LANGUAGES)} (for example en-GB, en-US, fr-FR, es-ES, de-DE).")
    try:
        known = str(Locale.parse(tag.replace("-", "_"))) == tag.replace("-", "_")
    except (UnknownLocaleError, ValueError):
        known = False
    if not known:
        raise refuse(f"{tag} is not a locale Porchlight knows (for example en-GB, fr-FR).")
    return tag


LocaleTag = Annotated[StrictStr, Field(
    pattern=patterned(r"^[a-z]{2}-[A-Z]{2}$",
                      "Must be a locale like en-GB: a language, a dash and a country."),
    description=f"A locale: one of the languages Porchlight is written in ({', '.join(LANGUAGES)}), "
                "a dash and a country, e.g. en-GB or en-US."), AfterValidator(_known_locale)]
