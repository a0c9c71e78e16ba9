"""The one formatting module, against what a reader in each locale writes — expectations
written by hand (CLDR's spaces spelled out: U+00A0 no-break, U+202F narrow no-break) —
and the templates, which must leave every number to it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from porchlight.runtime import formatting

NBSP, NNBSP = "\u00a0", "\u202f"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("minor", "currency", "locale", "expected"), [
    (135312, "GBP", "en_GB", "£1,353.12"),
    (135312, "GBP", "fr_FR", f"1{NNBSP}353,12{NBSP}£GB"),  # the French write which pound
    (135312, "EUR", "de_DE", f"1.353,12{NBSP}€"),
    (135312, "EUR", "es_ES", f"1.353,12{NBSP}€"),
    (135312, "USD", "en_US", "$1,353.12"),
    (1353, "JPY", "en_GB", "JP¥1,353"),  # no decimals in yen
    (-2050, "GBP", "en_GB", "-£20.50"),
    (1234, "BHD", "en_GB", "BHD1.234"),  # three decimals in dinars
])
def test_money_has_the_symbol_grouping_and_decimals_of_the_reader(minor, currency, locale, expected):
    assert formatting.money(minor, currency, locale) == expected


def test_an_amount_in_a_column_has_no_symbol_and_its_currencys_decimals():
    assert formatting.amount(135310, "GBP", "en_GB") == "1,353.10"
    assert formatting.amount(135310, "EUR", "de_DE") == "1.353,10"
    assert formatting.amount(135310, "EUR", "fr_FR") == f"1{NNBSP}353,10"
    assert formatting.amount(1353, "JPY", "en_GB") == "1,353"


def test_a_day_is_written_in_the_readers_words_and_order():
    assert formatting.day("2026-12-24", "en_GB") == "24 December 2026"
    assert formatting.day("2026-12-24", "en_US") == "December 24, 2026"
    assert formatting.day("2026-12-24", "fr_FR") == "24 décembre 2026"
    assert formatting.day("2026-12-24", "de_DE") == "24. Dezember 2026"
    assert formatting.day("2026-12-24", "es_ES") == "24 de diciembre de 2026"
    assert formatting.day(None, "en_GB") == ""


def test_a_moment_is_in_the_workspaces_zone_with_its_name_across_a_dst_change():
    # Paris moves its clocks forward at 02:00 on 29 March 2026: the same 23:30 UTC is
    # 00:30 the night before and 01:30 the night after.
    assert formatting.moment("2026-03-28T23:30:00Z", "Europe/Paris", "en_GB") == "29 March 2026, 00:30 CET"
    assert formatting.moment("2026-03-29T23:30:00Z", "Europe/Paris", "en_GB") == "30 March 2026, 01:30 CEST"
    assert formatting.moment("2026-03-29T23:30:00Z", "Europe/Paris", "fr_FR") == "30 mars 2026, 01:30 CEST"
    assert formatting.moment("2026-12-24T14:05:00Z", "America/New_York", "en_US") == (
        f"December 24, 2026, 9:05{NNBSP}AM EST")
    assert formatting.moment(None, "Europe/London", "en_GB") == ""


def test_relative_times_percentages_quantities_and_file_sizes():
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert formatting.relative(now + timedelta(days=2), now, "en_GB") == "in 2 days"
    assert formatting.relative(now - timedelta(hours=3), now, "fr_FR") == "il y a 3 heures"
    assert formatting.relative(now + timedelta(days=2), now, "es_ES") == "dentro de 2 días"
    assert formatting.percent("21", "en_GB") == "21%"
    assert formatting.percent("5.5", "fr_FR") == f"5,5{NBSP}%"
    assert formatting.quantity("1.5", "de_DE") == "1,5"
    assert formatting.quantity("3", "en_GB") == "3"
    assert formatting.file_size(2_400_000, "en_GB") == "2.4 MB"
    assert formatting.file_size(2_400_000, "fr_FR") == f"2,4{NNBSP}Mo"
    assert formatting.file_size(512, "de_DE") == "512 Byte"


def test_a_tag_works_like_a_locale_name_and_an_unknown_one_falls_back_to_the_default():
    assert formatting.money(100, "EUR", "de-DE") == formatting.money(100, "EUR", "de_DE")
    assert formatting.money(100, "GBP", "xx-YY") == formatting.money(100, "GBP", formatting.DEFAULT_LOCALE)
    assert formatting.money(100, "GBP", None) == "£1.00"


# Formatting by hand in a template: strftime, a currency code glued to a number, or the %
# operator (a sentence's named values for the catalog, "%(number)s", are not formatting).
HAND_FORMATTED = re.compile(r"strftime|\.currency\s*\}\}\s*\{\{|currency\s*~|\|\s*round\b"
                            r"|%\s*\((?!\w+\)[sd])")


def test_no_page_or_email_template_formats_a_number_or_a_moment_by_hand():
    templates = [*ROOT.glob("gateway/portal/templates/**/*.html"),
                 *ROOT.glob("services/notifications/templates/**/*.*")]
    assert len(templates) > 40
    offending = [f"{path.relative_to(ROOT)}: {line.strip()}" for path in templates
                 for line in path.read_text().splitlines() if HAND_FORMATTED.search(line)]
    assert offending == []


def test_a_reader_gets_the_workspaces_locale_when_it_is_of_their_language():
    assert formatting.locale_for("en", "en-US") == "en_US"  # an English reader of a US business
    assert formatting.locale_for("en", None) == "en_GB"
    assert formatting.locale_for("fr", "en-US") == "fr"  # French as written in France
    assert formatting.locale_for("fr", "fr-CA") == "fr_CA"
    assert formatting.locale_for(None, "de-AT") == "de_AT"
    assert formatting.day("2026-12-24", formatting.locale_for("en", "en-US")) == "December 24, 2026"
