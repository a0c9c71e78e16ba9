"""A link's view is counted when a person's browser shows the page: headless Chromium on
the portal served by the whole stack, its script's report allowed by the page's CSP.
A bare fetch of the same page — what a mail scanner makes — counts nothing."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.running_stack import eventually

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


# -- in the browser -------------------------------------------------------------------
def open_link(page: Any, shots: Any, url: str, times: int) -> dict[str, Any]:
    """Open the page ``times`` times, each time waiting for its report of being shown."""
    statuses, refused = [], []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
    for _ in range(times):
        with page.expect_response(lambda r: r.url.endswith("/portal/seen")) as seen:
            page.goto(url)
        statuses.append(seen.value.status)
    shots("opened")
    return {"statuses": statuses, "refused": refused,
            "visibility": page.evaluate("document.visibilityState")}


# -- the tests ------------------------------------------------------------------------
def test_a_page_shown_in_a_browser_counts_once_per_showing_and_a_bare_fetch_never(office, browser):
    wo = office.work_order(title="Leaking radiator")
    minted = office.share(wo["id"])
    for _ in range(3):  # a mail scanner: the page, without running it
        assert requests.get(minted["url"], timeout=10).status_code == 200
    seen = browser.run(open_link, context=PHONE, url=minted["url"], times=2)
    assert seen["statuses"] == [204, 204] and seen["visibility"] == "visible"
    assert seen["refused"] == []  # nothing refused by the CSP
    counted = eventually(lambda: office.tokens(wo["id"])[0]["access_count"] >= 2, within=10)
    assert counted and office.tokens(wo["id"])[0]["access_count"] == 2


def test_an_estimate_and_a_report_page_report_being_shown(office, browser):
    sent = office.sent_estimate([{"description": "Labour", "quantity": 1, "unit_price": "80"}])
    done = office.report_awaiting_signature()
    for url, kind, record_id in ((sent["url"], "estimate", sent["estimate"]["id"]),
                                 (done["url"], "service_report", done["service_report"]["id"])):
        assert browser.run(open_link, url=url, times=1)["statuses"] == [204]

        def counted(kind: str = kind, record_id: str = record_id) -> bool:
            return office.tokens(record_id, kind)[0]["access_count"] == 1
        assert eventually(counted, within=10)
