"""Every page a customer can reach is written from the catalog: shown in a pseudo-language
that marks each translated sentence, no page holds a visible word outside the marks but
the data it shows (names, titles, numbers) and each language's own name in the switcher.
And the language a page is written in is the one the reader chose, else their
customer's, else their browser's."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from porchlight.contracts.languages import LANGUAGES
from porchlight.runtime import formatting, i18n
from tests import catalogs
from tests.gateway.test_portal_accounts import csrf, people, sign_in_by_code
from tests.gateway.test_portal_information_requests import answer as answer_item
from tests.gateway.test_portal_information_requests import sent_request
from tests.gateway.test_portal_projects import MANAGER, shared_project

PSEUDO = "xx"
LINE = {"description": "Gutter guards, 20 m", "quantity": 1, "unit_price": "120.00", "tax_rate": "20"}
OPTION = {"description": "Downpipe clean", "quantity": 2, "unit_price": "15.50", "tax_rate": "20",
          "optional": True}
# Attributes a person reads (or hears, with a screen reader).
READ_ATTRIBUTES = ("alt", "aria-label", "placeholder", "title")
_MARKED = re.compile(f"{catalogs.OPEN}[^{catalogs.OPEN}{catalogs.CLOSE}]*{catalogs.CLOSE}")
_LETTER = re.compile(r"[^\W\d_]")


class VisibleText(HTMLParser):
    """The text a person reads on a page: its text outside scripts, styles and ``<time>``
    elements (a moment is written by the formatting module, not the catalog), and the
    attributes read aloud."""

    SKIPPED = ("script", "style", "time")

    def __init__(self) -> None:
        super().__init__()
        self.skipping, self.texts = 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        self.texts.extend(value for name, value in attrs if name in READ_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(data)


def unmarked(html: str, data: tuple[str, ...]) -> list[str]:
    """The visible texts with words that are neither the catalog's nor the page's data."""
    parser = VisibleText()
    parser.feed(html)
    # One text, the pieces kept apart: a sentence may hold markup, so its marks may open
    # in one piece and close in another.
    text = "\x00".join(parser.texts)
    while _MARKED.search(text):  # innermost first: a sentence may hold a translated value
        text = _MARKED.sub(" ", text)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return [piece.strip() for piece in text.split("\x00") if _LETTER.search(piece)]


@pytest.fixture(scope="module")
def pseudo_words(tmp_path_factory: pytest.TempPathFactory):
    return catalogs.pseudo(catalogs.extracted(tmp_path_factory.mktemp("pseudo")))


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch, pseudo_words: Any) -> None:
    """The pseudo-language, shipped for this test: chosen by its cookie."""
    real = i18n.catalog
    monkeypatch.setitem(LANGUAGES, PSEUDO, "Pseudo")
    monkeypatch.setattr(i18n, "catalog",
                        lambda language: pseudo_words if language == PSEUDO else real(language))
    i18n.translate.cache_clear()
    i18n._with_values.cache_clear()
    yield
    i18n.translate.cache_clear()
    i18n._with_values.cache_clear()


def test_every_page_a_customer_can_reach_is_written_from_the_catalog(
        pseudo: None, staff: Any, portal: Any, worker: Any, mail_server: Any) -> None:
    who = people(staff, worker)
    customer_id = who["customer"]["id"]
    estimate = staff.sent_estimate([LINE, OPTION], title="Gutter guards", customer_id=customer_id)
    worker.queued(1)
    report = staff.report_awaiting_signature()
    wo = staff.work_order(title="Clear the gutters", customer_id=customer_id)
    link = staff.share(wo["id"])
    data = ("Acme Heating", "Northwind Facilities", "Frances Marsh", "frances@northwind.example",
            "Gutter guards", "Downpipe clean", "Clear the gutters", "Fix the boiler", "Boiler repair",
            "Replaced the circulation pump.", "12 Orchard Lane", "Olive Owner",
            estimate["estimate"]["number"], report["service_report"]["number"], wo["number"],
            LINE["description"], OPTION["description"], *LANGUAGES.values(), "GBP", "EUR")
    portal.set_cookie("porchlight_language", PSEUDO)

    pages = {
        "work order link": f"/portal/fsm/{link['token']}",
        "estimate link": "/portal/fsm/estimate/" + estimate["url"].rsplit("/", 1)[1],
        "report link": "/portal/fsm/service-report/" + report["url"].rsplit("/", 1)[1],
        "sign-in": "/portal/sign-in",
        "forgot password": "/portal/forgot-password",
        "verify": "/verify",
        "not found": "/portal/fsm/wo_" + "f" * 40,
    }
    seen = {}
    for name, path in pages.items():
        page = portal.get(path)
        assert page.status_code in (200, 404), (name, page.status_code)
        seen[name] = page.text
    form = portal.get("/portal/sign-in")
    sent = portal.post("/portal/sign-in", data={"csrf_token": csrf(form.text), "email": "nobody@example.org"})
    seen["sign-in code"] = sent.text

    signed = sign_in_by_code(portal, worker, mail_server, who["contact"]["email"])
    assert signed.status_code == 303
    # A project shared with the customer (once someone of theirs has signed in).
    shared = shared_project(staff, customer_id)
    data += (shared["project"]["number"], "Loft conversion", "Dormer loft conversion with an en-suite.",
             "Second line of the brief.", *MANAGER.values(), "Strip out", "Steel beams", "Plaster", "Robin",
             "Kai")
    # An information request on it, one item answered and returned with a note.
    asked = sent_request(staff, worker, shared["project"]["id"], ("Land registry extract", "Tile colour"))
    content = b"%PDF-1.7\n" + b"0" * 50
    assert answer_item(portal, asked, 0, "Attached", [(content, "extract.pdf")]).status_code == 303
    item = asked["items"][0]["id"]
    assert staff.post(f"/information-requests/{asked['id']}/items/{item}/return",
                      {"note": "Last year"}).status_code == 200
    data += (asked["number"], "Documents for the permit", "Land registry extract", "Tile colour", "Attached",
             "extract.pdf", "Last year",
             # a size is written by the formatting module, in the locale's own units
             formatting.file_size(len(content), formatting.locale_for(PSEUDO, "en-GB")))
    for name, path in {"projects": "/portal/projects",
                       "a project": f"/portal/projects/{shared['project']['id']}",
                       "information requests": "/portal/information-requests",
                       "completed information requests": "/portal/information-requests?tab=completed",
                       "an information request": f"/portal/information-requests/{asked['id']}"}.items():
        page = portal.get(path)
        assert page.status_code == 200, (name, page.status_code)
        seen[name] = page.text
    for name, path in {"dashboard": "/portal", "work orders": "/portal/work-orders",
                       "estimates": "/portal/estimates", "reports": "/portal/service-reports",
                       "profile": "/portal/profile", "team": "/portal/team",
                       "a filter that is not one": "/portal/estimates?status=nonsense"}.items():
        page = portal.get(path)
        assert page.status_code in (200, 422), (name, page.status_code)
        seen[name] = page.text

    for name, html in seen.items():
        assert f'<html lang="{PSEUDO}"' in html, name
        assert catalogs.OPEN in html, name
        assert unmarked(html, data) == [], name


def test_a_link_page_is_in_its_customers_language_until_the_visitor_chooses_another(
        staff: Any, portal: Any) -> None:
    customer = staff.created("/customers", {"name": "Camille Durand", "email": "camille@example.fr",
                                            "preferred_language": "fr"})
    sent = staff.sent_estimate([LINE], customer_id=customer["id"])
    path = "/portal/fsm/estimate/" + sent["url"].rsplit("/", 1)[1]
    french = portal.get(path, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="fr"' in french.text
    assert i18n.translator("fr")("Accept estimate") in french.text

    chosen = portal.get(path + "?language=es", headers={"Sec-Fetch-Site": "same-origin"})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith(path)
    cookie = chosen.headers["Set-Cookie"]
    assert "porchlight_language=es" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    spanish = portal.get(path)
    assert '<html lang="es"' in spanish.text and i18n.translator("es")("Accept estimate") in spanish.text
    assert "Set-Cookie" not in spanish.headers  # a link page still sets no cookie


def test_a_link_without_a_customer_language_follows_the_browser(staff: Any, portal: Any) -> None:
    link = staff.share(staff.work_order()["id"])
    path = f"/portal/fsm/{link['token']}"
    assert '<html lang="de"' in portal.get(path, headers={"Accept-Language": "de-CH, fr;q=0.5"}).text
    assert '<html lang="en"' in portal.get(path, headers={"Accept-Language": "nl, pt;q=0.5"}).text
    # A customer for whom no language was said: their browser's too.
    unsaid = staff.created("/customers", {"name": "Alex Morgan", "email": "alex@example.org"})
    assert unsaid["preferred_language"] is None
    sent = staff.sent_estimate([LINE], customer_id=unsaid["id"])
    estimate = "/portal/fsm/estimate/" + sent["url"].rsplit("/", 1)[1]
    assert '<html lang="es"' in portal.get(estimate, headers={"Accept-Language": "es-MX"}).text


def test_the_switcher_goes_back_only_to_a_page_of_the_portal_and_refuses_a_language_not_shipped(
        portal: Any) -> None:
    for elsewhere in ("https://evil.example/x", "//evil.example/x", "javascript:alert(1)", "", "/\\evil"):
        chosen = portal.post("/portal/language", data={"language": "de", "next": elsewhere})
        assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/portal/sign-in"), elsewhere
    refused = portal.post("/portal/language", data={"language": "nl", "next": "/portal/sign-in"})
    assert refused.status_code == 422
    assert "Set-Cookie" not in refused.headers
    for name in LANGUAGES.values():
        assert name in refused.text
