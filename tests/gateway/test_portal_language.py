"""The language a portal page is written in: every page's words go through the catalog,
and the switcher at the foot of every page — without a form token for a visitor, without
ever writing the address of a page whose address is a secret (a share link)."""

from __future__ import annotations

import re
from gettext import NullTranslations
from typing import Any

import pytest

from porchlight.runtime import i18n
from tests.gateway.test_portal_accounts import people, sign_in_by_code
from tests.gateway.test_portal_answers import LINES, path_of
from tests.mail import Worker
from tests.running_stack import csrf
from tests.staff import StaffApi

SWITCHER = re.compile(r'<form method="(get|post)"(?: action="([^"]*)")? class="language">(.*?)</form>', re.S)


def switcher(html: str) -> tuple[str, str, str]:
    """The switcher's method, where it posts ("" for the page's own address) and its fields."""
    [(method, action, fields)] = SWITCHER.findall(html)
    return method, action, fields


def test_a_link_page_switches_language_without_ever_writing_its_address(staff: StaffApi, portal: Any) -> None:
    token = staff.share(staff.work_order()["id"])["token"]
    page = portal.get(f"/portal/fsm/{token}")
    assert '<html lang="en">' in page.text and "Set-Cookie" not in page.headers
    method, action, fields = switcher(page.text)
    assert (method, action) == ("get", "") and "csrf_token" not in fields and 'name="next"' not in fields
    assert token not in page.text
    for code, name in (("en", "English"), ("fr", "Français"), ("es", "Español"), ("de", "Deutsch")):
        selected = " selected" if code == "en" else ""
        assert f'<option value="{code}" lang="{code}"{selected}>{name}</option>' in fields
    assert '<label for="page-language">Language</label>' in fields and ">Change</button>" in fields

    # The form asks for the same address again: the choice is remembered, then the page again.
    chosen = portal.get(f"/portal/fsm/{token}?language=fr", headers={"Sec-Fetch-Site": "same-origin"})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith(f"/portal/fsm/{token}")
    assert "porchlight_language=fr" in chosen.headers["Set-Cookie"]
    again = portal.get(f"/portal/fsm/{token}").text
    assert '<html lang="fr">' in again and '<option value="fr" lang="fr" selected>' in again


def test_a_language_in_a_link_from_another_site_changes_nothing(staff: StaffApi, portal: Any) -> None:
    token = staff.share(staff.work_order()["id"])["token"]
    for site in ("cross-site", "same-site"):
        sent = portal.get(f"/portal/fsm/{token}?language=de", headers={"Sec-Fetch-Site": site})
        assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/portal/fsm/{token}")
        assert "Set-Cookie" not in sent.headers
    assert '<html lang="en">' in portal.get(f"/portal/fsm/{token}").text
    # Only an address of the portal's own is gone back to: a path, never another host.
    sent = portal.get("/", query_string={"language": "fr"},
                      environ_overrides={"PATH_INFO": "//elsewhere.example/"})
    assert sent.headers["Location"] == "/elsewhere.example/"


def test_a_visitors_choice_is_posted_with_no_form_token_and_goes_back_to_the_page(portal: Any) -> None:
    method, action, fields = switcher(portal.get("/portal/forgot-password?from=mail").text)
    assert (method, action) == ("post", "/portal/language") and "csrf_token" not in fields
    assert '<input type="hidden" name="next" value="/portal/forgot-password?from=mail">' in fields
    method, action, fields = switcher(portal.get("/portal/forgot-password").text)
    assert '<input type="hidden" name="next" value="/portal/forgot-password">' in fields  # no bare "?"

    chosen = portal.post("/portal/language", data={"language": "es", "next": "/portal/forgot-password"},
                         headers={"Sec-Fetch-Site": "same-origin"})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/portal/forgot-password")
    assert '<html lang="es">' in portal.get("/portal/forgot-password").text


def test_the_not_found_page_writes_no_address_in_its_switcher(portal: Any) -> None:
    one, other = portal.get("/portal/fsm/wo_" + "f" * 40), portal.get("/portal/nowhere?at=all")
    assert one.status_code == other.status_code == 404 and one.get_data() == other.get_data()
    assert switcher(one.text)[:2] == ("get", "")


def test_a_signed_in_contacts_choice_is_posted_to_their_profile_with_the_form_token(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker)
    sign_in_by_code(portal, worker, mail_server, "frances@northwind.example")
    listed = "/portal/work-orders?status=scheduled"
    page = portal.get(listed)
    method, action, fields = switcher(page.text)
    assert (method, action) == ("post", "/portal/profile/language")
    assert f'name="csrf_token" value="{csrf(page.text)}"' in fields
    assert f'<input type="hidden" name="next" value="{listed}">' in fields
    chosen = portal.post(action, data={"csrf_token": csrf(page.text), "language": "de", "next": listed})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith(listed)
    assert '<html lang="de">' in portal.get("/portal/profile").text  # saved on their profile
    assert portal.post(action, data={"language": "fr", "next": "/portal"}).status_code == 400  # no token
    assert portal.post(action, data={"csrf_token": csrf(page.text), "language": "nl",
                                     "next": "/portal"}).status_code == 422
    assert '<html lang="de">' in portal.get("/portal").text


class Marked(NullTranslations):
    """A catalog that marks every sentence it is asked for: what is not marked on a page
    did not go through the catalog."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{singular if n == 1 else plural}⟧"


@pytest.fixture
def marked(monkeypatch: Any) -> Any:
    """French is the marking catalog for the test."""
    i18n.translate.cache_clear()
    i18n._with_values.cache_clear()
    monkeypatch.setattr(i18n, "catalog",
                        lambda language: Marked() if language == "fr" else NullTranslations())
    yield
    i18n.translate.cache_clear()
    i18n._with_values.cache_clear()


def test_a_pages_words_and_the_messages_it_shows_come_from_the_catalog(
        staff: StaffApi, portal: Any, marked: Any) -> None:
    sent = staff.sent_estimate(LINES)
    portal.set_cookie("porchlight_language", "fr")
    page = portal.get(path_of(sent["url"])).text
    assert '<html lang="fr">' in page
    for words in ("⟦Accept estimate⟧", "⟦Decline this estimate⟧", "⟦Subtotal⟧", "⟦Optional⟧",
                  "⟦Amount (EUR)⟧", "⟦Estimate <span class=\"number\">EST-0001</span>⟧",
                  "⟦Valid until <time datetime=", "⟦Secure customer link · please do not forward it⟧",
                  "⟦Language⟧", "⟦Change⟧"):
        assert words in page, words
    badge = re.search(r'<span class="badge badge-est-sent">(.*?)</span>', page).group(1)
    assert badge.startswith("⟦") and badge.endswith("⟧")  # the service's label, translated where shown
    # An answer refused by the service: the page's own message and the service's, translated.
    refused = portal.post(path_of(sent["url"]), data={
        "csrf_token": csrf(page), "response": "accept", "revision": "1", "signer_name": ""})
    assert refused.status_code == 422
    assert '<p class="alert" role="alert">⟦Please check the form.⟧</p>' in refused.text
    assert re.search(r'<p class="field-error" id="signer_name-error">⟦[^<]+⟧</p>', refused.text)
    # English is the words as written.
    portal.set_cookie("porchlight_language", "en")
    assert "⟦" not in portal.get(path_of(sent["url"])).text
