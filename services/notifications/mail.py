"""Emails as text: each is a Jinja2 trio under ``templates/<language>/`` — ``<name>.subject``,
``<name>.txt`` (a plain-text part that reads well on its own) and ``<name>.html`` (the same
words, branded with the workspace's name, colour and logo through ``layout.html``).

A link or a code is rendered as its placeholder (``porchlight.runtime.mail_secrets``): what is
stored in the outbox is the email as sent, minus its secrets, and the worker puts them in
just before sending. A secret never has to be found and cut out of a stored body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from porchlight.runtime import formatting
from porchlight.runtime.mail_secrets import PLACEHOLDERS

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en"

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


_env.filters.update(formatting.jinja_filters(_locale))


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


def languages() -> tuple[str, ...]:
    """The languages there are templates for."""
    return tuple(sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir()))


def language_for(preferred: str | None) -> str:
    """The recipient's language if the emails are written in it, else English."""
    return preferred if preferred in languages() else DEFAULT_LANGUAGE


def render(name: str, language: str | None, context: dict[str, Any]) -> Rendered:
    """The email ``name`` in the recipient's language (or English). The subject is one
    line: whatever the data holds, no newline can reach the header."""
    language = language_for(language)
    workspace_locale = (context.get("workspace") or {}).get("locale")
    context = {**PLACEHOLDERS, "locale": formatting.locale_for(language, workspace_locale), **context}

    def part(suffix: str) -> str:
        return _env.get_template(f"{language}/{name}.{suffix}").render(context)

    subject = _SPACES.sub(" ", part("subject")).strip()
    return Rendered(language, subject, part("txt"), part("html"))

