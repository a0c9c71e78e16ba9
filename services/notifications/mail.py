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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

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


@pass_context
def day(context: Any, value: str | date | None) -> str:
    """An ISO day as the reader writes it: ``21 November 2026``, ``21 novembre 2026``."""
    return formatting.day(str(value)[:10] if isinstance(value, str) else value, _locale(context))


@pass_context
def moment(context: Any, value: str | datetime | None) -> str:
    """A UTC moment in the workspace's time zone, with the zone's name."""
    zone = (context.get("workspace") or {}).get("timezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = "UTC"
    return formatting.moment(value, zone, _locale(context))


@pass_context
def money(context: Any, minor: int, currency: str) -> str:
    """A sum in minor units with its currency's symbol, as the reader writes it."""
    return formatting.money(minor, currency, _locale(context))


_env.filters.update(day=day, moment=moment, money=money)


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

