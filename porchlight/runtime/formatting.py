"""Every number, sum of money and moment a person reads, written as the reader writes them.

One module for the portal's pages, the emails and the signed PDF, built on Babel (CLDR):
the currency's symbol, grouping and decimals (none for JPY, three for BHD), dates in the
locale's words and order, times in the workspace's time zone with the zone's name,
relative times ("in 2 days"), percentages and file sizes. Templates call these (as Jinja
filters), never ``strftime`` or an f-string with a currency code: a test reads the
templates for either.

A *locale* is a Babel locale name (``en_GB``, ``fr_FR``) or a tag (``fr-FR``); an unknown
one falls back to ``DEFAULT_LOCALE``. Parsed locales are kept, and so are the last texts
written (a page served from memory writes the same sums and days again and again: Babel
takes 10–30 µs a number, the cache well under one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units
from jinja2 import pass_context

from porchlight.contracts.clock import parse_iso
from porchlight.contracts.money import exponent

DEFAULT_LOCALE = "en_GB"
# Texts kept per function, the least recently written going first.
CACHED = 4096
# Bytes in each unit CLDR names, largest first (file sizes are decimal: 1 MB = 10⁶ bytes).
_SIZES = (("digital-gigabyte", 10**9), ("digital-megabyte", 10**6), ("digital-kilobyte", 10**3))


@lru_cache(maxsize=64)
def locale_of(name: str | None) -> Locale:
    """The Babel locale a name or tag stands for; the default when it names none."""
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=256)
def locale_for(language: str | None, workspace_locale: str | None = None) -> str:
    """The locale a reader of ``language`` gets: the workspace's when it is of that
    language (``en-US`` for an English reader of a US business), else the default when
    that is (English: ``en_GB``), else the language's own (``fr``: as written in France)."""
    place = locale_of(workspace_locale)
    if not language or language == place.language:
        return str(place)
    if language == locale_of(DEFAULT_LOCALE).language:
        return DEFAULT_LOCALE
    return str(locale_of(language))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    """The zone named, or UTC for a name no zone has."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


@lru_cache(maxsize=CACHED)
def money(minor: int, currency: str, locale: str | None) -> str:
    """A sum in minor units with its currency's symbol: ``£1,353.12`` (en_GB),
    ``1 353,12 £GB`` (fr_FR), ``¥1,353`` (JPY in en_US)."""
    return babel_numbers.format_currency(_major(minor, currency), currency, locale=locale_of(locale))


@lru_cache(maxsize=CACHED)
def amount(minor: int, currency: str, locale: str | None) -> str:
    """A sum in minor units without a symbol, to its currency's decimals: ``1,353.10``
    (en_GB), ``1.353,10`` (de_DE) — for a column headed by the currency."""
    places = exponent(currency)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return babel_numbers.format_decimal(_major(minor, currency), format=pattern, locale=locale_of(locale))


@lru_cache(maxsize=CACHED)
def day(value: str | date | None, locale: str | None) -> str:
    """A calendar date in words: ``24 December 2026``, ``24 décembre 2026``; an ISO
    ``YYYY-MM-DD`` (what follows it is not read) or a ``date``. Empty for none."""
    if not value:
        return ""
    when = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return babel_dates.format_date(when, "long", locale=locale_of(locale))


@lru_cache(maxsize=CACHED)
def moment(value: str | datetime | None, timezone: str, locale: str | None) -> str:
    """An instant in the workspace's time zone, with the zone: ``24 December 2026, 14:05
    GMT``, ``24 décembre 2026 14:05 GMT``. Empty for none."""
    if not value:
        return ""
    when = (parse_iso(value) if isinstance(value, str) else value).astimezone(_zone(timezone))
    found = locale_of(locale)
    joined = babel_dates.get_datetime_format("medium", locale=found)
    text = (joined.replace("{1}", babel_dates.format_date(when, "long", locale=found))
            .replace("{0}", babel_dates.format_time(when, "short", locale=found)))
    return f"{text} {when.tzname()}"


def relative(value: str | datetime, now: datetime, locale: str | None) -> str:
    """How far ``value`` is from ``now``, in words: ``in 2 days``, ``il y a 3 heures``."""
    when = parse_iso(value) if isinstance(value, str) else value
    return babel_dates.format_timedelta(when - now, add_direction=True, threshold=1,
                                        locale=locale_of(locale))


@lru_cache(maxsize=CACHED)
def percent(rate: Decimal | str | int, locale: str | None) -> str:
    """A rate given in percent (``"21"``, as tax rates are kept): ``21%``, ``21 %``,
    with as many decimals as it has."""
    return babel_numbers.format_percent(Decimal(str(rate)) / 100, locale=locale_of(locale),
                                        decimal_quantization=False)


@lru_cache(maxsize=CACHED)
def quantity(value: Decimal | str | int, locale: str | None) -> str:
    """A plain number, up to three decimals as given: ``1.5``, ``1,5``."""
    return babel_numbers.format_decimal(Decimal(str(value)), format="#,##0.###", locale=locale_of(locale))


@lru_cache(maxsize=CACHED)
def file_size(size: int, locale: str | None) -> str:
    """A file's size: ``2.4 MB``, ``2,4 Mo``; bytes below a kilobyte."""
    found = locale_of(locale)
    for unit, bytes_in in _SIZES:
        if size >= bytes_in:
            shown = (Decimal(size) / bytes_in).quantize(Decimal("0.1"))
            return babel_units.format_unit(shown, unit, length="short", locale=found)
    return babel_units.format_unit(size, "digital-byte", length="short", locale=found)


def jinja_filters(locale_from: Callable[[Any], str]) -> dict[str, Callable[..., str]]:
    """This module's formatting as Jinja filters — for the portal's pages and the emails
    alike — each in the locale ``locale_from(context)`` says; ``moment`` is in the zone
    given, else the context's ``workspace.timezone``, else UTC."""

    def in_locale(format_with: Callable[..., str]) -> Callable[..., str]:
        return pass_context(lambda context, *args: format_with(*args, locale_from(context)))

    @pass_context
    def in_zone(context: Any, value: str | datetime | None, timezone: str | None = None) -> str:
        zone = timezone or (context.get("workspace") or {}).get("timezone") or "UTC"
        return moment(value, zone, locale_from(context))

    @pass_context
    def large_sum(context: Any, currency: str) -> str:
        # 1,234,567 of a currency as the reader writes it: a page's script learns the
        # locale's grouping from it (gateway/portal/static/estimate.js).
        return money(1234567 * 10 ** exponent(currency), currency, locale_from(context))

    return {"moment": in_zone, "large_sum": large_sum, **{name: in_locale(globals()[name]) for name in (
        "money", "amount", "day", "percent", "quantity", "file_size")}}
