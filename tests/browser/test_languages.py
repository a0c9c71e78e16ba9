"""A customer who reads French, on a phone: the estimate link in French, money as France
writes it, the menu at the foot of the page turning it Spanish for the pages after, and
accepting in Spanish — axe-core checking every page photographed, ``lang`` included."""

from __future__ import annotations

from typing import Any

from porchlight.runtime import i18n
from tests.browser.test_signing import PHONE, SIGNER, totals_shown

# 1 127,60 net and 20 % tax: 1 353,12 in all.
LINES = [{"description": "Chaudière à condensation", "quantity": 1, "unit_price": "1127.60",
          "tax_rate": "20"}]


def in_french_then_spanish(page: Any, shots: Any, url: str, signer: str, words: dict[str, dict[str, str]]
                           ) -> dict[str, Any]:
    from playwright.sync_api import expect

    fr, es = words["fr"], words["es"]
    page.goto(url)
    french = {"lang": page.locator("html").get_attribute("lang"), "totals": totals_shown(page),
              "accept": page.get_by_role("button", name=fr["Accept estimate"]).count()}
    shots("french")
    page.get_by_label(fr["Language"]).select_option("es")
    page.get_by_role("button", name=fr["Change"]).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    spanish = {"url": page.url, "totals": totals_shown(page)}
    shots("spanish")
    page.get_by_label(es["Your full name"]).fill(signer)
    page.get_by_role("button", name=es["Accept estimate"]).click()
    expect(page.locator(".outcome-accepted")).to_be_visible()
    answered = {"lang": page.locator("html").get_attribute("lang"),
                "outcome": page.locator(".outcome-accepted").inner_text(), "url": page.url}
    shots("accepted in spanish")
    return {"french": french, "spanish": spanish, "answered": answered}


def test_a_french_customer_reads_the_estimate_in_french_and_answers_in_spanish(
        office: Any, browser: Any) -> None:
    customer = office.created("/customers", {"name": "Camille Durand", "email": "camille.durand@example.fr",
                                             "preferred_language": "fr"})
    sent = office.sent_estimate(LINES, customer_id=customer["id"])
    assert sent["estimate"]["currency"] == "EUR"
    words = {language: {english: i18n.translator(language)(english) for english in
                        ("Accept estimate", "Language", "Change", "Your full name")}
             for language in ("fr", "es")}
    assert words["fr"]["Accept estimate"] != "Accept estimate" != words["es"]["Accept estimate"]

    seen = browser.run(in_french_then_spanish, context=PHONE, url=sent["url"], signer=SIGNER, words=words)
    french, spanish, answered = seen["french"], seen["spanish"], seen["answered"]
    assert french["lang"] == "fr" and french["accept"] == 1
    # CLDR's French: a narrow no-break space between thousands, a comma, a no-break space before €.
    assert french["totals"]["total"] == "1\u202f353,12\xa0€"
    assert french["totals"]["tax"] == "225,52\xa0€"
    # Spanish as Spain writes it: the total the same sum, the page at the same address.
    assert spanish["url"] == sent["url"] and spanish["totals"]["total"] == "1.353,12\xa0€"
    assert answered["lang"] == "es" and answered["url"] == sent["url"]
    assert SIGNER in answered["outcome"] and "accepted" not in answered["outcome"]
    estimate = office.get(f"/estimates/{sent['estimate']['id']}").json
    assert estimate["status"] == "approved" and estimate["outcome"]["signer_name"] == SIGNER
