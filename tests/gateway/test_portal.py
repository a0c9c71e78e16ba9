"""The customer portal through Flask's test client, against the real services."""

import logging
from datetime import timedelta

import time_machine

from porchlight.contracts.clock import isoformat, utcnow

HEX = "0123456789abcdef" * 3


def access_count(staff, wo_id):
    return staff.tokens(wo_id)[0]["access_count"]


def test_work_order_page_shows_what_the_customer_needs_and_nothing_internal(staff, portal):
    wo = staff.work_order(
        title="Replace <b>mixer</b> tap", description="Cartridge tap fitted.",
        location="12 Orchard Lane\nRiverside", internal_notes="Gate code 4471",
    )
    staff.patch(f"/work-orders/{wo['id']}", {"status": "completed"})
    token = staff.share(wo["id"])["token"]
    page = portal.get(f"/portal/fsm/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for expected in ("Acme Heating", "WO-0001", "Replace &lt;b&gt;mixer&lt;/b&gt; tap",
                     "Cartridge tap fitted.", "12 Orchard Lane", "Completed on", "badge-completed"):
        assert expected in html
    assert "4471" not in html and "<b>mixer" not in html
    assert token not in html


def test_token_pages_send_the_security_headers(staff, portal):
    token = staff.share(staff.work_order()["id"])["token"]
    headers = portal.get(f"/portal/fsm/{token}").headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def bad_tokens(staff):
    """Tokens the portal must refuse, an hour from now (``expired`` lives for the hour)."""
    wo = staff.work_order()
    revoked = staff.share(wo["id"])
    staff.post(f"/share-tokens/{revoked['share_token']['id']}/revoke")
    expired = staff.share(wo["id"], expires_at=isoformat(utcnow() + timedelta(hours=1)))
    good = staff.share(wo["id"])["token"]
    return wo, good, {
        "39 hex": "wo_" + HEX[:39], "41 hex": "wo_" + HEX[:41], "upper case": good.upper(),
        "non-hex": "wo_" + HEX[:39] + "z", "wrong prefix": "est_" + good[3:],
        "unknown": "wo_" + HEX[:40], "revoked": revoked["token"], "expired": expired["token"],
        "path trick": "wo_..%2F..%2Fetc%2Fpasswd", "dots": "..", "empty prefix": "_" + good[3:],
    }


def test_every_bad_token_gets_the_same_404_byte_for_byte(staff, portal):
    wo, good, bad = bad_tokens(staff)
    # The services run in this process, so moving its clock moves theirs: the hour passes.
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1)):
        reference = portal.get("/portal/fsm/wo_" + "f" * 40)
        assert reference.status_code == 404
        for name, token in bad.items():
            response = portal.get(f"/portal/fsm/{token}")
            assert response.status_code == 404, name
            assert response.get_data() == reference.get_data(), name
            assert response.headers["Cache-Control"] == "no-store"
        # Tokens for another entity type, and paths that are not tokens at all.
        for path in ("/portal/fsm/", "/portal/fsm/a/b", "/portal/fsm/estimate/" + good, "/portal/fsm/%00"):
            response = portal.get(path)
            assert response.status_code == 404 and response.get_data() == reference.get_data(), path
    assert access_count(staff, wo["id"]) == 0  # listed newest first: the good token, unused


def test_raw_tokens_never_reach_the_logs(staff, portal, caplog):
    token = staff.share(staff.work_order()["id"])["token"]
    with caplog.at_level(logging.DEBUG):
        portal.get(f"/portal/fsm/{token}")
        portal.get(f"/portal/fsm/{token[:-1]}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/portal/fsm/wo_[redacted]" in logged
    assert token[3:] not in logged and token[3:-1] not in logged


def test_branding_colour_is_allowed_by_hash_not_unsafe_inline(make_staff, portal):
    teal = make_staff("Teal Co", brand_colour="#0F766E")
    token = teal.share(teal.work_order()["id"])["token"]
    response = portal.get(f"/portal/fsm/{token}")
    assert "<style>:root{--brand:#0f766e}</style>" in response.get_data(as_text=True)
    assert "'sha256-" in response.headers["Content-Security-Policy"]


def test_liveness_needs_no_service(portal):
    assert portal.get("/healthz").json == {"status": "ok"}


def test_a_wrong_method_is_405_naming_the_allowed_ones_and_changes_nothing(portal):
    response = portal.delete(f"/portal/fsm/wo_{'a' * 40}")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["Cache-Control"] == "no-store"
