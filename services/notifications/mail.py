"""Emails as text: each is a Jinja2 trio under ``templates/`` — ``<name>.subject``,
``<name>.txt`` (a plain-text part that reads well on its own) and ``<name>.html`` (the same
words, branded with the workspace's name, colour and logo through ``layout.html``) —
written once, in English, and read in the recipient's language from the catalogs
(``porchlight.runtime.i18n``).

Every word is the catalog's: ``{{ _("…") }}``, with values ``{{ _("Hello %(name)s,",
name=…) }}``, and ``{% trans %}`` for a longer sentence, whose lines are joined. The
environment drops the line break after a block tag, so a ``.txt`` paragraph that ends with
``{% endtrans %}`` writes ``{% endtrans +%}`` to keep it. In an ``.html`` part a value is
escaped and markup stays out of the sentences: a number in bold is the sentence's value,
``{% set number %}<strong>…</strong>{% endset %}``. An office email's item (what the inbox
shows in English) is written from the same facts in the reader's language by the
``item_title`` and ``item_summary`` filters (``services.notifications.inbox``).

A link or a code is rendered as its placeholder (``porchlight.runtime.mail_secrets``): what is
stored in the outbox is the email as sent, minus its secrets, and the worker puts them in
just before sending. A secret never has to be found and cut out of a stored body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from porchlight.runtime import formatting, i18n
from porchlight.runtime.i18n import language_for
from porchlight.runtime.mail_secrets import PLACEHOLDERS
from services.notifications import inbox

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_SPACES = re.compile(r"\s+")


def _locale(context: Any) -> str:
    return context.get("locale") or formatting.DEFAULT_LOCALE


def _language(context: Any) -> str | None:
    return context.get("language")


@pass_context
def _item_title(context: Any, item: dict[str, Any]) -> str:
    return inbox.title(item, i18n.translator(_language(context)))


@pass_context
def _item_summary(context: Any, item: dict[str, Any]) -> str:
    return inbox.summary(item, i18n.translator(_language(context)))


_env.filters.update(formatting.jinja_filters(_locale))
# An office email's inbox item in its reader's language (the item keeps English).
_env.filters.update(item_title=_item_title, item_summary=_item_summary)
i18n.install(_env, _language)


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


def render(name: str, language: str | None, context: dict[str, Any]) -> Rendered:
    """The email ``name`` in the recipient's language (``language_for``). The subject is
    one line: whatever the data holds, no newline can reach the header."""
    workspace_locale = (context.get("workspace") or {}).get("locale")
    language = language_for(language, workspace_locale)
    context = {**PLACEHOLDERS, "locale": formatting.locale_for(language, workspace_locale),
               "language": language, **context}

    def part(suffix: str) -> str:
        return _env.get_template(f"{name}.{suffix}").render(context)

    subject = _SPACES.sub(" ", part("subject")).strip()
    return Rendered(language, subject, part("txt"), part("html"))

