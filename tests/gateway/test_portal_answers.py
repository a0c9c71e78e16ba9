"""Estimates and service reports in the portal, through Flask's test client, against the
real services: what the customer sees, what their answers record, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest

from porchlight.contracts.clock import parse_iso, utcnow
from tests.running_stack import csrf

LINES = [
    {"description": "Labour", "quantity": "0.5", "unit_price": "97.35", "tax_rate": "21"},
    {"description": "Fittings", "quantity": 3, "unit_price": "0.10", "tax_rate": "21"},
    {"description": "Descale the boiler", "quantity": 1, "unit_price": "45.00", "tax_rate": "9",
     "optional": True},
]
PATH = "M10 20 L30 40 L50 45 M60 60 L70 80"


NOTES = "We will **replace** the pump.\n\n<script>alert(1)</script>"


def sent_estimate(staff):
    return staff.sent_estimate(LINES, notes=NOTES)


def path_of(url: str) -> str:
    return url.replace("http://portal.test", "")


def test_estimate_page_shows_the_offer_and_renders_notes_safely(staff, portal):
    sent = sent_estimate(staff)
    assert sent["url"].startswith("http://portal.test/portal/fsm/estimate/est_")
    page = portal.get(path_of(sent["url"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("EST-0001", "Boiler repair", "<strong>replace</strong>", "Optional",
                 "Descale the boiler", ">48.68<", "€59.26", "Accept estimate", "Decline"):
        assert text in html, text
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'src="/static/estimate.js"' in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_the_estimate_page_writes_money_dates_and_rates_as_its_reader_does(staff, portal):
    sent = staff.sent_estimate([
        {"description": "Heat pump", "quantity": "1.5", "unit_price": "1128.80", "tax_rate": "5.5"},
        {"description": "Survey", "quantity": 1, "unit_price": "0.99", "tax_rate": "0", "optional": True},
    ], currency="GBP", valid_until="2030-12-24")
    html = portal.get(path_of(sent["url"])).text
    # 1.5 × 1,128.80 = 1,693.20; 5.5 % of it = 93.126 → 93.13; total 1,786.33 (en_GB).
    for text in ("£1,693.20", "£93.13", "£1,786.33", ">1,128.80<", ">1,693.20<", ">0.99<", ">1.5<",
                 "+ 5.5% tax", "24 December 2030", 'data-money-unit="£0.01"',
                 'data-money-large="£1,234,567.00"'):
        assert text in html, text
    assert "GBP 1" not in html and "2030-12-24<" not in html


def test_including_an_optional_line_by_get_changes_totals_but_nothing_else(staff, portal):
    sent = sent_estimate(staff)
    html = portal.get(path_of(sent["url"]) + "?include=l3").get_data(as_text=True)
    assert "€108.31" in html
    assert staff.get(f"/estimates/{sent['estimate']['id']}").json["status"] == "sent"
    # A hand-edited choice naming a required line just shows the plain offer.
    assert portal.get(path_of(sent["url"]) + "?include=l1").status_code == 200


def test_accepting_with_an_optional_line_records_the_outcome(staff, portal):
    sent = sent_estimate(staff)
    url = path_of(sent["url"])
    token = csrf(portal.get(url).get_data(as_text=True))
    answer = portal.post(url, data={"csrf_token": token, "response": "accept", "revision": "1",
                                    "signer_name": "Alex Morgan", "include": "l3"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(url)
    after = portal.get(url).get_data(as_text=True)
    assert "you accepted this estimate as Alex Morgan" in after
    assert "Accept estimate" not in after and "Decline this estimate" not in after
    estimate = staff.get(f"/estimates/{sent['estimate']['id']}").json
    assert estimate["status"] == "approved" and estimate["outcome"]["total"] == "108.31"
    assert estimate["outcome"]["ip"] == "127.0.0.1"
    evidence = staff.get(f"/evidence/{estimate['outcome']['certificate_id']}").json
    assert evidence["kind"] == "acceptance" and evidence["snapshot"]["total_minor"] == 10831
    assert evidence["snapshot_sha256"] == estimate["outcome"]["snapshot_sha256"]
    # A repeat (double tap, back button) changes nothing and shows the outcome.
    again = portal.post(url, data={"csrf_token": token, "response": "decline", "revision": "1"})
    assert again.status_code == 303
    assert staff.get(f"/estimates/{sent['estimate']['id']}").json["status"] == "approved"


def test_decline_with_a_reason(staff, portal):
    sent = sent_estimate(staff)
    url = path_of(sent["url"])
    token = csrf(portal.get(url).get_data(as_text=True))
    portal.post(url, data={"csrf_token": token, "response": "decline", "revision": "1",
                           "reason": "We found someone closer."})
    assert "You declined this estimate" in portal.get(url).get_data(as_text=True)
    estimate = staff.get(f"/estimates/{sent['estimate']['id']}").json
    assert estimate["status"] == "rejected" and estimate["outcome"]["reason"] == "We found someone closer."


def test_a_stale_revision_is_refused_with_a_message(staff, portal):
    sent = sent_estimate(staff)
    url = path_of(sent["url"])
    token = csrf(portal.get(url).get_data(as_text=True))
    assert staff.patch(f"/estimates/{sent['estimate']['id']}", {"title": "Boiler replacement"}).json[
        "revision"] == 2
    answer = portal.post(url, data={"csrf_token": token, "response": "accept", "revision": "1",
                                    "signer_name": "Alex Morgan"})
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "review the new version" in html and "Boiler replacement" in html
    assert staff.get(f"/estimates/{sent['estimate']['id']}").json["status"] == "sent"


def test_answers_need_a_name_and_a_csrf_token(staff, portal):
    sent = sent_estimate(staff)
    url = path_of(sent["url"])
    token = csrf(portal.get(url).get_data(as_text=True))
    missing_name = portal.post(url, data={"csrf_token": token, "response": "accept", "revision": "1"})
    assert missing_name.status_code == 422 and "This field is required" in missing_name.get_data(as_text=True)
    forged = portal.post(url, data={"response": "accept", "revision": "1", "signer_name": "Mallory"})
    assert forged.status_code == 400
    assert staff.get(f"/estimates/{sent['estimate']['id']}").json["status"] == "sent"


def test_a_view_only_estimate_link_cannot_answer(staff, portal):
    sent = sent_estimate(staff)
    view_only = staff.post("/share-tokens", {"entity": {"type": "estimate", "id": sent["estimate"]["id"]},
                                             "permissions": ["view"]}).json
    url = path_of(view_only["url"])
    html = portal.get(url).get_data(as_text=True)
    assert "Accept estimate" not in html
    with portal.session_transaction() as session:
        session["csrf_token"] = "x"
    answer = portal.post(url, data={"csrf_token": csrf(portal.get(path_of(sent["url"])).get_data(
        as_text=True)), "response": "accept", "revision": "1", "signer_name": "Alex"})
    assert answer.status_code == 404
    assert staff.get(f"/estimates/{sent['estimate']['id']}").json["status"] == "sent"


def test_convert_an_accepted_estimate(staff, portal):
    sent = sent_estimate(staff)
    est_id = sent["estimate"]["id"]
    assert staff.post(f"/estimates/{est_id}/convert").status_code == 409
    url = path_of(sent["url"])
    portal.post(url, data={"csrf_token": csrf(portal.get(url).get_data(as_text=True)),
                           "response": "accept", "revision": "1", "signer_name": "Alex"})
    converted = staff.post(f"/estimates/{est_id}/convert").json
    assert converted["estimate"]["status"] == "converted"
    assert converted["work_order"]["estimate_id"] == est_id
    assert converted["estimate"]["work_order_id"] == converted["work_order"]["id"]


# -- service reports ------------------------------------------------------------------
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def test_signing_a_service_report(staff, portal):
    done = staff.report_awaiting_signature(photo=PNG)
    assert done["url"].startswith("http://portal.test/portal/fsm/service-report/srp_")
    url = path_of(done["url"])
    page = portal.get(url)
    html = page.get_data(as_text=True)
    for text in ("Replaced the circulation pump.", "pump.png", 'id="signature-pad"', "Submit signature",
                 'src="/static/signature-pad.js"'):
        assert text in html, text
    photo_url = re.search(r'<img src="([^"]+)"', html).group(1)
    assert "srp_" not in photo_url  # the share token never travels in a file link
    photo = portal.get(photo_url)
    assert photo.status_code == 200 and photo.data == PNG and photo.mimetype == "image/png"
    signed = portal.post(url, data={"csrf_token": csrf(html), "signer_name": "Alex Morgan",
                                    "signature_path": PATH})
    assert signed.status_code == 303
    after = portal.get(url).get_data(as_text=True)
    assert "Signed by Alex Morgan" in after and 'id="signature-pad"' not in after
    report = staff.get(f"/service-reports/{done['service_report']['id']}").json
    assert report["status"] == "signed" and report["signed_ip"] == "127.0.0.1"
    evidence = staff.get(f"/evidence/{report['certificate_id']}").json
    assert evidence["signature_path"] == PATH and "<path" in evidence["signature_svg"]
    not_ready = staff.get(f"/service-reports/{report['id']}/pdf")
    assert not_ready.status_code == 409 and "not ready" in not_ready.json["error"]["message"]


def test_a_file_named_outside_latin_1_opens_under_its_own_name(staff, portal):
    done = staff.report_awaiting_signature(photo=PNG, filename="Zoë 報告.png")
    html = portal.get(path_of(done["url"])).get_data(as_text=True)
    photo = portal.get(re.search(r'<img src="([^"]+)"', html).group(1))
    assert photo.status_code == 200 and photo.data == PNG
    disposition = photo.headers["Content-Disposition"]
    assert disposition.startswith('inline; filename="Zo_ __.png"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Zoë 報告.png"


MALFORMED = [
    '<svg onload="alert(1)"><path d="M1 1 L2 2"/></svg>', "M1 1 L2 2<script>alert(1)</script>",
    "<foreignObject>x</foreignObject>", "M1 1 L2 2 onclick=alert(1)", "javascript:alert(1)",
    "M NaN 1 L2 2", "MNaN 1 L2 2", "MInfinity 1 L2 2", "M1 -Infinity L2 2", "M1 1 L481 2",
    "M-1 1 L2 2", "M1 1 L2 160.5", "m1 1 l2 2", "M1 1", "",
    "M1 1 " + "L2 2 " * 2100,  # more than 10 KB
]


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_signatures_are_refused_and_nothing_is_stored(staff, portal, path):
    done = staff.report_awaiting_signature()
    url = path_of(done["url"])
    html = portal.get(url).get_data(as_text=True)
    answer = portal.post(url, data={"csrf_token": csrf(html), "signer_name": "Alex Morgan",
                                    "signature_path": path})
    assert answer.status_code == 422
    assert 'class="field-error"' in answer.get_data(as_text=True)
    report = staff.get(f"/service-reports/{done['service_report']['id']}").json
    assert report["status"] == "awaiting_signature" and report["signed_by"] is None


def test_expired_file_links_and_foreign_files_are_404(staff, portal_app, portal):
    done = staff.report_awaiting_signature(photo=PNG)
    html = portal.get(path_of(done["url"])).get_data(as_text=True)
    photo_url = re.search(r'<img src="([^"]+)"', html).group(1)
    portal_app.config["FILE_LINK_SECONDS"] = -1
    assert portal.get(photo_url).status_code == 404
    portal_app.config["FILE_LINK_SECONDS"] = 600
    assert portal.get(photo_url[:-3] + "abc").status_code == 404
    assert portal.get(photo_url).status_code == 200
    staff.post(f"/share-tokens/{done['share_token']['id']}/revoke")
    assert portal.get(photo_url).status_code == 404  # revoking the link ends its file links too


# -- verification ---------------------------------------------------------------------
def test_verify_a_certificate_and_a_pdf_byte_for_byte(staff, portal, rpc):
    done = staff.report_awaiting_signature()
    url = path_of(done["url"])
    portal.post(url, data={"csrf_token": csrf(portal.get(url).get_data(as_text=True)),
                           "signer_name": "Alex Morgan", "signature_path": PATH})
    report = staff.get(f"/service-reports/{done['service_report']['id']}").json
    cert_page = portal.get(f"/verify/{report['certificate_id']}")
    text = cert_page.get_data(as_text=True)
    assert cert_page.status_code == 200 and "Alex Morgan" in text and report["snapshot_sha256"] in text
    assert "127.0.0.1" not in text  # the public record does not show the signer's address
    # Store a PDF for the certificate as the worker does, then check uploads against it.
    pdf = b"%PDF-1.7\n% a signed report\n"
    digest = hashlib.sha256(pdf).hexdigest()
    rpc.call("documents", "store_signed_pdf", staff.workspace_id, report["id"],
             {"content_b64": base64.b64encode(pdf).decode(), "sha256": digest})
    rpc.call("signatures", "attach_artifact", staff.workspace_id, report["certificate_id"],
             {"kind": "signed_pdf", "sha256": digest})
    form = portal.get("/verify").get_data(as_text=True)

    def upload(content: bytes):
        return portal.post("/verify", data={"csrf_token": csrf(form),
                                            "document": (io.BytesIO(content), "report.pdf")},
                           content_type="multipart/form-data")

    matched = upload(pdf)
    assert matched.status_code == 200 and "Match." in matched.get_data(as_text=True)
    altered = bytearray(pdf)
    altered[-2] ^= 1
    refused = upload(bytes(altered))
    assert "No match" in refused.get_data(as_text=True)
    assert portal.get("/verify/cert_" + "0" * 32).status_code == 404
    assert portal.get("/verify/not-a-certificate").status_code == 404


# The limit is lowered for the test: Flask's test client spools a body over 500 kB to a
# temporary file it never closes, which the warnings-as-errors setting would report.
LIMIT = 4096


@pytest.mark.parametrize("size", [
    LIMIT + 1,  # the request looks small enough: refused while it is read and hashed
    LIMIT + 200 * 1024,  # the request says it is too big: refused before it is read
])
def test_verify_refuses_a_file_bigger_than_any_signed_pdf_without_asking_anyone(
        portal, size, monkeypatch):
    from gateway.portal import verify

    monkeypatch.setattr(verify, "VERIFY_MAX_BYTES", LIMIT)
    asked = []
    monkeypatch.setattr(verify, "services", lambda: asked.append("a call"))
    form = portal.get("/verify").get_data(as_text=True)
    refused = portal.post("/verify", data={"csrf_token": csrf(form),
                                           "document": (io.BytesIO(b"%PDF" + b"x" * (size - 4)), "big.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 413 and "5 MB at most" in refused.get_data(as_text=True)
    assert asked == []
    empty = portal.post("/verify", data={"csrf_token": csrf(form), "document": (io.BytesIO(b""), "none.pdf")},
                        content_type="multipart/form-data")
    assert empty.status_code == 422 and "Choose the signed PDF" in empty.get_data(as_text=True)


def test_verify_refuses_a_client_that_checks_too_many_documents(portal, monkeypatch):
    from services.signatures import repository

    monkeypatch.setattr(repository, "LOOKUPS_PER_IP", 2)
    form = portal.get("/verify").get_data(as_text=True)

    def check():
        return portal.post("/verify", data={"csrf_token": csrf(form),
                                            "document": (io.BytesIO(b"%PDF-1.7 not ours"), "x.pdf")},
                           content_type="multipart/form-data")

    assert [check().status_code for _ in range(2)] == [200, 200]  # "no match", twice
    refused = check()
    assert refused.status_code == 429 and "Too many documents checked" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60 + 1


# -- sending again replaces the link ---------------------------------------------------
def test_sending_an_estimate_again_replaces_its_link(staff, portal):
    first = sent_estimate(staff)
    estimate_id = first["estimate"]["id"]
    assert portal.get(path_of(first["url"])).status_code == 200
    second = staff.post(f"/estimates/{estimate_id}/send")
    assert second.status_code == 201, second.json
    assert portal.get(path_of(first["url"])).status_code == 404
    assert portal.get(path_of(second.json["url"])).status_code == 200
    # The link lives 30 days past the estimate's own end.
    assert (parse_iso(second.json["share_token"]["expires_at"])
            == parse_iso(first["estimate"]["expires_at"]) + timedelta(days=30))
    listed = staff.get(f"/share-tokens?entity_type=estimate&entity_id={estimate_id}").json
    assert [t["revoked_at"] is None for t in listed["share_tokens"]] == [True, False]


def test_completing_a_report_again_replaces_its_link_and_keeps_other_links(staff, portal):
    first = staff.report_awaiting_signature()
    report_id = first["service_report"]["id"]
    view_only = staff.post("/share-tokens", {
        "entity": {"type": "service_report", "id": report_id}, "permissions": ["view"]}).json
    before = utcnow()
    second = staff.post(f"/service-reports/{report_id}/complete")
    assert second.status_code == 201, second.json
    assert portal.get(path_of(first["url"])).status_code == 404
    assert portal.get(path_of(second.json["url"])).status_code == 200
    assert portal.get(path_of(view_only["url"])).status_code == 200  # other permissions: kept
    expires = parse_iso(second.json["share_token"]["expires_at"])
    assert before + timedelta(days=60) <= expires <= utcnow() + timedelta(days=60)


def test_an_answer_met_by_silence_is_not_promised_lost_or_kept(staff, portal, monkeypatch):
    """When documents does not answer in time, the customer's answer may have landed all
    the same: the page must not say "nothing was lost", and says to reload before sending
    it again. A page that could not be shown says to try again."""
    from gateway.portal import links
    from porchlight.client import ServiceUnavailable

    sent = staff.sent_estimate(LINES)
    url = path_of(sent["url"])
    page = portal.get(url).get_data(as_text=True)

    class Silent:  # documents, answering nothing in time
        def __getattr__(self, method):
            def call(*args):
                raise ServiceUnavailable(f"documents.{method}: no answer within 10 s")
            return call

    monkeypatch.setattr(links, "documents", Silent)
    answered = portal.post(url, data={"csrf_token": csrf(page), "response": "accept", "revision": "1",
                                      "signer_name": "Alex Morgan"})
    text = answered.get_data(as_text=True)
    assert answered.status_code == 503 and "may or may not have been recorded" in text
    assert "nothing was lost" not in text.lower() and "reload the page" in text


def test_the_logo_is_served_by_the_portal_itself(staff, portal):
    """No other host sees who views a business's pages: the logo comes from the portal's
    own address, which names its content, and the pages may load images from no other."""
    from tests import images

    raw = images.png()
    uploaded = staff.upload("/workspace/logo", "file", ("logo.png", raw, "image/png"), method="PUT")
    assert uploaded.status_code == 200, uploaded.text
    sha = uploaded.json["logo_sha256"]
    assert uploaded.json["logo_url"].endswith(f"/logos/{staff.workspace_id}/{sha}")
    wo = staff.work_order()
    page = portal.get(path_of(staff.share(wo["id"])["url"]))
    html = page.get_data(as_text=True)
    assert f'src="/logos/{staff.workspace_id}/{sha}"' in html
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]
    served = portal.get(f"/logos/{staff.workspace_id}/{sha}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert images.CAMERA not in served.data and images.pixels(served.data) == images.pixels(raw)
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Any other address is the 404 page: another content, another workspace, a made-up one.
    assert portal.get(f"/logos/{staff.workspace_id}/{'0' * 64}").status_code == 404
    assert portal.get(f"/logos/{'f' * 24}/{sha}").status_code == 404
    assert portal.get("/logos/x/y").status_code == 404
    removed = staff.post("/workspace/logo/remove")
    assert removed.status_code == 200 and removed.json["logo_url"] is None
