"""A customer signs a service report and accepts an estimate in a real browser: headless
Chromium on the portal served by the whole stack over HTTP.

Each test has two halves. Its *scenario* (a plain function under "in the browser")
runs in the browser's own process (see ``tests/browser/__init__.py``): it clicks, types
and draws like a customer, checks what the page shows, saves screenshots and returns what
it saw. The *test* prepares the records and checks the outcome through the admin API.
"""

from __future__ import annotations

import re
import time
from itertools import pairwise
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SIGNER = "Alex Morgan"
PAD_WIDTH, PAD_HEIGHT = 480, 160
# Two strokes, as fractions of the pad: a "V" and a zigzag. Whatever the pad's size
# on screen, the point at fraction (fx, fy) is (fx × 480, fy × 160) in the pad's space.
STROKES = [
    [(0.08, 0.25), (0.16, 0.80), (0.24, 0.25)],
    [(0.32, 0.70), (0.50, 0.30), (0.70, 0.65), (0.92, 0.20)],
]
SIGNED_HINT = "Signed. Use Clear to start again."
CONFIRMATION_GREEN = "rgb(218, 251, 225)"  # .signed-confirmation's background, #dafbe1
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}
FRAME_SECONDS = 1 / 60

# Recorded in the page (Playwright's evaluate is not subject to the page's CSP): which
# pointer events reached the pad, and from what kind of pointer.
RECORD_POINTERS = """pad => {
  window.pointerLog = [];
  for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel"]) {
    pad.addEventListener(type, e => window.pointerLog.push([e.type, e.pointerType, e.isTrusted]));
  }
}"""
PAD_GEOMETRY = """pad => ({cssWidth: pad.getBoundingClientRect().width,
  cssHeight: pad.getBoundingClientRect().height, width: pad.width, height: pad.height,
  ratio: window.devicePixelRatio, pageWidth: document.documentElement.scrollWidth,
  viewportWidth: window.innerWidth})"""
INK_PIXELS = """pad => {
  const data = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i]) { ink++; } }
  return ink;
}"""


# -- in the browser -------------------------------------------------------------------
def at(box: dict[str, float], fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def draw_with_mouse(page: Any, box: dict[str, float], stroke: list[tuple[float, float]]) -> None:
    page.mouse.move(*at(box, *stroke[0]))
    page.mouse.down()
    for point in stroke[1:]:
        page.mouse.move(*at(box, *point), steps=6)
    page.mouse.up()


def draw_with_finger(cdp: Any, box: dict[str, float], stroke: list[tuple[float, float]]) -> None:
    """One stroke as real touch input: Playwright has touchscreen.tap() but no touch-move,
    so the events go in through the DevTools protocol, as a phone's digitizer sends them.

    Paced one frame apart, as a digitizer reports (~60 Hz). Sent back to back, Chromium's
    gesture detection swallowed the next tap on the page (observed: touchstart and
    touchend on "Submit signature", but no click), as after an impossibly fast swipe."""
    def touch(kind: str, fx: float, fy: float) -> None:
        x, y = at(box, fx, fy)
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4, "force": 1}]})
        time.sleep(FRAME_SECONDS)  # a finger's pace, part of the gesture: not a wait for the page

    touch("touchStart", *stroke[0])
    for (ax, ay), (bx, by) in pairwise(stroke):
        for step in range(1, 7):
            t = step / 6
            touch("touchMove", ax + (bx - ax) * t, ay + (by - ay) * t)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def submit_and_see_confirmation(page: Any, signer: str, *, tap: bool = False) -> str:
    from playwright.sync_api import expect

    page.get_by_label("Your full name").fill(signer)
    button = page.get_by_role("button", name="Submit signature")
    button.tap() if tap else button.click()
    confirmation = page.locator(".signed-confirmation")
    expect(confirmation).to_contain_text(f"Signed by {signer}")
    expect(page.locator("#signature-pad")).to_have_count(0)
    return confirmation.evaluate("el => getComputedStyle(el).backgroundColor")


def sign_with_the_mouse(page: Any, shots: Any, url: str, signer: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(url)
    pad = page.locator("#signature-pad")
    expect(pad).to_be_visible()
    shots("opened")
    pad.evaluate(RECORD_POINTERS)
    box = pad.bounding_box()
    for stroke in STROKES:
        draw_with_mouse(page, box, stroke)
    expect(page.locator("#pad-hint")).to_have_text(SIGNED_HINT)
    sent_path = page.locator("#signature_path").input_value()
    ink = pad.evaluate(INK_PIXELS)
    pointers = page.evaluate("window.pointerLog")
    shots("drawn")
    colour = submit_and_see_confirmation(page, signer)
    shots("signed")
    return {"sent_path": sent_path, "ink": ink, "pointers": pointers, "colour": colour, "url": page.url}


def sign_with_a_finger(page: Any, shots: Any, url: str, signer: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(url)
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    expect(pad).to_be_visible()
    shots("opened")
    pad.evaluate(RECORD_POINTERS)
    geometry = pad.evaluate(PAD_GEOMETRY)
    box = pad.bounding_box()  # CSS pixels in the viewport: the space touch points use
    cdp = page.context.new_cdp_session(page)
    for stroke in STROKES:
        draw_with_finger(cdp, box, stroke)
    expect(page.locator("#pad-hint")).to_have_text(SIGNED_HINT)
    pointers = page.evaluate("window.pointerLog")
    sent_path = page.locator("#signature_path").input_value()
    shots("drawn")
    colour = submit_and_see_confirmation(page, signer, tap=True)
    shots("signed")
    return {"geometry": geometry, "pointers": pointers, "sent_path": sent_path, "colour": colour}


def clear_then_submit(page: Any, shots: Any, url: str, signer: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    posts: list[str] = []  # the answers posted (not the page's report that it was seen)
    page.on("request", lambda request: posts.append(request.url)
            if request.method == "POST" and not request.url.endswith("/portal/seen") else None)
    page.goto(url)
    pad = page.locator("#signature-pad")
    box = pad.bounding_box()
    draw_with_mouse(page, box, STROKES[0])
    hint = page.locator("#pad-hint")
    expect(hint).to_have_text(SIGNED_HINT)
    ink_drawn = pad.evaluate(INK_PIXELS)
    shots("drawn")
    page.get_by_role("button", name="Clear").click()
    expect(hint).to_have_text("Sign in the box above.")
    ink_cleared = pad.evaluate(INK_PIXELS)
    field_after_clear = page.locator("#signature_path").input_value()
    shots("cleared")
    page.get_by_label("Your full name").fill(signer)
    page.get_by_role("button", name="Submit signature").click()
    expect(hint).to_have_text("Please sign in the box before submitting.")
    page.wait_for_timeout(500)  # time for a submission that should not happen
    expect(page.get_by_role("button", name="Submit signature")).to_be_visible()
    shots("refused")
    return {"ink_drawn": ink_drawn, "ink_cleared": ink_cleared, "field_after_clear": field_after_clear,
            "posts": posts, "url": page.url}


def totals_shown(page: Any) -> dict[str, str]:
    return {key: page.locator(f"#{key}").inner_text() for key in ("subtotal", "tax", "total")}


def accept_with_an_option(page: Any, shots: Any, url: str, signer: str, option: str) -> dict[str, Any]:
    from playwright.sync_api import expect

    page.goto(url)
    before = totals_shown(page)
    shots("opened")
    box = page.get_by_role("checkbox", name=re.compile(re.escape(option)))
    expect(box).not_to_be_checked()
    box.check()  # fires "change": estimate.js recomputes the totals at once
    after = totals_shown(page)
    row_excluded = page.locator("tr.optional").evaluate("row => row.classList.contains('excluded')")
    shots("option-included")
    page.get_by_label("Your full name").fill(signer)
    page.get_by_role("button", name="Accept estimate").click()
    expect(page.locator(".outcome-accepted")).to_contain_text(f"you accepted this estimate as {signer}")
    after_answer = totals_shown(page)
    shots("accepted")
    return {"before": before, "after": after, "row_excluded": row_excluded, "after_answer": after_answer}


# -- the tests ------------------------------------------------------------------------
def strokes_of(path: str) -> list[list[tuple[float, float]]]:
    """The strokes of stored path data ("M x y L x y ... M x y ..."), read independently
    of the product's own parser."""
    assert re.fullmatch(r"M[0-9. ML]+", path), path
    return [[(float(x), float(y)) for x, y in re.findall(r"([0-9.]+) ([0-9.]+)", stroke)]
            for stroke in path.split("M")[1:]]


def assert_drawn_where_moved(strokes: list[list[tuple[float, float]]]) -> None:
    """Two strokes, every point inside the pad, each starting and ending where the pointer did."""
    assert len(strokes) == 2
    for points, drawn in zip(strokes, STROKES, strict=True):
        assert len(points) >= len(drawn)
        assert all(0 <= x <= PAD_WIDTH and 0 <= y <= PAD_HEIGHT for x, y in points), points
        for (x, y), (fx, fy) in ((points[0], drawn[0]), (points[-1], drawn[-1])):
            assert abs(x - fx * PAD_WIDTH) < 2 and abs(y - fy * PAD_HEIGHT) < 2, (x, y, fx, fy)


def signed_evidence(office: Any, report_id: str, signer: str) -> dict[str, Any]:
    report = office.get(f"/service-reports/{report_id}").json
    assert report["status"] == "signed" and report["signed_by"] == signer, report
    assert "Chrome/" in report["signed_user_agent"]
    evidence = office.get(f"/evidence/{report['certificate_id']}").json
    assert evidence["kind"] == "signature" and evidence["signer_name"] == signer
    assert evidence["signature_path"].count("M") == 2, evidence["signature_path"]
    return evidence


def test_sign_a_service_report_with_the_mouse(office, browser):
    done = office.report_awaiting_signature()
    seen = browser.run(sign_with_the_mouse, url=done["url"], signer=SIGNER)
    assert seen["url"] == done["url"]  # the answer redirects back to the same link
    assert seen["colour"] == CONFIRMATION_GREEN
    assert seen["ink"] > 0
    assert {(kind, pointer) for kind, pointer, _ in seen["pointers"]} >= {
        ("pointerdown", "mouse"), ("pointermove", "mouse"), ("pointerup", "mouse")}
    evidence = signed_evidence(office, done["service_report"]["id"], SIGNER)
    assert evidence["signature_path"] == seen["sent_path"]
    assert_drawn_where_moved(strokes_of(evidence["signature_path"]))


def test_sign_on_a_phone_with_a_finger(office, browser):
    done = office.report_awaiting_signature()
    seen = browser.run(sign_with_a_finger, context=PHONE, url=done["url"], signer=SIGNER)
    geometry = seen["geometry"]
    # The pad fits the phone: narrower than its 480-unit space, the page does not scroll
    # sideways, and its bitmap is sharp at the screen's 3 device pixels per CSS pixel.
    assert geometry["cssWidth"] < PAD_WIDTH and geometry["pageWidth"] <= geometry["viewportWidth"] == 390
    assert geometry["ratio"] == 3
    assert (geometry["width"], geometry["height"]) == (3 * PAD_WIDTH, 3 * PAD_HEIGHT)
    # Real pointer events of a finger, not a mouse.
    assert {pointer for _, pointer, _ in seen["pointers"]} == {"touch"}
    assert all(trusted for _, _, trusted in seen["pointers"])
    assert [kind for kind, _, _ in seen["pointers"]].count("pointerdown") == 2
    assert seen["colour"] == CONFIRMATION_GREEN
    evidence = signed_evidence(office, done["service_report"]["id"], SIGNER)
    assert evidence["signature_path"] == seen["sent_path"]
    strokes = strokes_of(evidence["signature_path"])
    assert_drawn_where_moved(strokes)
    # Mapped into the pad's space, not left in CSS pixels: the last point (at 92 % of the
    # width) lies beyond the pad's on-screen width.
    assert strokes[1][-1][0] > geometry["cssWidth"]


def test_clear_empties_the_pad_and_an_empty_pad_is_not_submitted(office, browser):
    done = office.report_awaiting_signature()
    seen = browser.run(clear_then_submit, url=done["url"], signer=SIGNER)
    assert seen["ink_drawn"] > 0 and seen["ink_cleared"] == 0
    assert seen["field_after_clear"] == ""
    assert seen["posts"] == [] and seen["url"] == done["url"]
    report = office.get(f"/service-reports/{done['service_report']['id']}").json
    assert report["status"] == "awaiting_signature"
    assert report["signed_by"] is None and report["certificate_id"] is None


LINE_ITEMS = [
    {"description": "Labour", "quantity": "0.5", "unit_price": "97.35", "tax_rate": "21"},
    {"description": "Fittings", "quantity": 3, "unit_price": "0.10", "tax_rate": "21"},
    {"description": "Magnetic system filter", "quantity": 1, "unit_price": "84.99", "tax_rate": "21",
     "optional": True},
]
# By hand, in cents, rounding half up per line (porchlight/contracts/money.py):
#   Labour    0.5 × 97.35 = 48.675 → 48.68;   tax 21 % of 48.68 = 10.2228 → 10.22
#   Fittings  3 × 0.10    =  0.30;            tax 21 % of 0.30  =  0.063  →  0.06
#   without the option: subtotal 48.98, tax 10.28, total  59.26
#   Filter    1 × 84.99   = 84.99;            tax 21 % of 84.99 = 17.8479 → 17.85
#   with the option:    subtotal 133.97, tax 28.13, total 162.10
WITHOUT_OPTION = {"subtotal": "€48.98", "tax": "€10.28", "total": "€59.26"}
WITH_OPTION = {"subtotal": "€133.97", "tax": "€28.13", "total": "€162.10"}


def test_accept_an_estimate_with_an_optional_line(office, browser):
    sent = office.sent_estimate(LINE_ITEMS)
    optional = [line for line in sent["estimate"]["line_items"] if line["optional"]]
    assert [line["description"] for line in optional] == ["Magnetic system filter"]
    seen = browser.run(accept_with_an_option, url=sent["url"], signer=SIGNER,
                       option="Magnetic system filter")
    assert seen["before"] == WITHOUT_OPTION
    assert seen["after"] == WITH_OPTION and seen["row_excluded"] is False
    assert seen["after_answer"] == WITH_OPTION  # the answered page shows what was accepted
    estimate = office.get(f"/estimates/{sent['estimate']['id']}").json
    outcome = estimate["outcome"]
    assert estimate["status"] == "approved" and outcome["response"] == "accept"
    assert outcome["signer_name"] == SIGNER
    assert outcome["included_optional"] == [optional[0]["id"]]
    assert estimate["currency"] == "EUR" and f"€{outcome['total']}" == seen["after"]["total"]  # en-GB
    assert outcome["total_minor"] == 16210
