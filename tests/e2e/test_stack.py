"""End to end over HTTP: every service and both gateways as real processes, on a
RabbitMQ virtual host of their own, driven the way staff and customers use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from porchlight.contracts.clock import isoformat, utcnow
from tests.running_stack import RPC_TIMEOUT, cli, eventually, office_of, seen_form, viewed

pytestmark = pytest.mark.e2e
HEX = "0123456789abcdef" * 3
LINK_SECONDS = 3


def open_page(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def test_cli_reports_bad_input_and_a_missing_stack_clearly(stack):
    bad = cli(stack, "workspace", "create", "--name", "X", "--currency", "euros")
    assert bad.returncode == 2 and "currency" in json.loads(bad.stderr)["error"]["fields"]
    nowhere = subprocess.run(
        [str(Path(sys.executable).parent / "porchlight"), "workspace", "create", "--name", "X"],
        env={**os.environ, "PORCHLIGHT_AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
             "PORCHLIGHT_RPC_TIMEOUT": "1"},
        capture_output=True, text=True, timeout=60,
    )
    assert nowhere.returncode == 3 and "make run" in nowhere.stderr


def test_mint_open_revoke_then_404(office):
    wo = office.work_order(title="Annual boiler service", description="Flue-gas analysis.",
                           location="12 Orchard Lane", internal_notes="Gate code 4471")
    minted = office.share(wo["id"])
    page = open_page(minted["url"])
    assert page.status_code == 200
    assert "Annual boiler service" in page.text and "Brightwater Plumbing" in page.text
    assert "4471" not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    revoked = office.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert revoked.status_code == 200
    # The page was in the portal's memory; sharing's event takes it out.
    assert eventually(lambda: open_page(minted["url"]).status_code == 404)


def test_rotated_link_replaces_the_old_one(office):
    wo = office.work_order()
    old = office.share(wo["id"])
    new = office.post(f"/share-tokens/{old['share_token']['id']}/rotate").json
    assert open_page(old["url"]).status_code == 404
    assert open_page(new["url"]).status_code == 200


def test_an_expired_link_is_404(stack, office):
    # The services' clocks are in processes of their own and no API back-dates a link, so
    # the link gets a short life and the test watches for its end (the gateway tests move
    # the clock instead). The life only has to outlast the first view.
    wo = office.work_order()
    minted = office.share(wo["id"], expires_at=isoformat(utcnow() + timedelta(seconds=LINK_SECONDS)))
    browser = requests.Session()
    viewed(browser, minted["url"])
    views, deadline = 1, time.monotonic() + LINK_SECONDS + 30
    while (page := browser.get(minted["url"])).status_code == 200 and time.monotonic() < deadline:
        action, form = seen_form(page.text)
        seen = browser.post(stack.portal_url + action, data=form)
        views += seen.status_code == 204  # the link may end between the page and its report
        time.sleep(0.25)
    assert page.status_code == 404
    # Every view while it lived is counted (in batches); the refused one after is not.
    assert eventually(lambda: office.tokens(wo["id"])[0]["access_count"] == views)


def test_each_bad_token_gives_the_identical_404(stack, office):
    wo = office.work_order()
    good = office.share(wo["id"])["token"]
    revoked = office.share(wo["id"])
    office.post(f"/share-tokens/{revoked['share_token']['id']}/revoke")
    reference = open_page(stack.portal_url + "/portal/fsm/wo_" + "f" * 40)
    assert reference.status_code == 404
    for token in ("wo_" + HEX[:39], "wo_" + HEX[:41], good.upper(), "wo_" + HEX[:39] + "x",
                  "srp_" + good[3:], "est_" + good[3:], revoked["token"], "wo_%2e%2e%2fadmin",
                  "wo_" + good[3:] + "%00", "%2e%2e"):
        response = open_page(f"{stack.portal_url}/portal/fsm/{token}")
        assert response.status_code == 404, token
        assert response.content == reference.content, token
    response = open_page(f"{stack.portal_url}/portal/fsm/estimate/{good}")
    assert response.status_code == 404 and response.content == reference.content


def test_every_view_is_counted_once_within_a_flush_interval(office):
    wo = office.work_order()
    minted = office.share(wo["id"])
    browser = requests.Session()
    for _ in range(4):
        viewed(browser, minted["url"])
    assert open_page(minted["url"]).status_code == 200  # fetched, never shown: not a view
    assert eventually(lambda: office.tokens(wo["id"])[0]["access_count"] >= 4)
    (link,) = office.tokens(wo["id"])
    assert link["access_count"] == 4 and link["last_accessed_at"]


def test_a_portal_stopping_gracefully_sends_the_views_it_counted(stack, office):
    wo = office.work_order()
    minted = office.share(wo["id"])
    browser = requests.Session()
    for _ in range(5):
        viewed(browser, minted["url"])
    stack.stop_process("portal")  # SIGTERM: gunicorn's workers exit gracefully
    try:
        assert office.tokens(wo["id"])[0]["access_count"] == 5  # none waits for a timer
    finally:
        stack.start_process("portal")
        stack.wait_ready(60, names=("portal",))


def test_one_workspace_can_neither_read_nor_share_anothers_work_order(stack, office):
    rival = office_of(stack, "Rival Heating")
    wo = office.work_order(internal_notes="private")
    for response in (
        rival.get(f"/work-orders/{wo['id']}"),
        rival.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}"),
    ):
        assert response.status_code == 404
        assert "private" not in response.text
        assert response.json["error"]["code"] == "not_found"
    refused = rival.post("/share-tokens", {"entity": {"type": "work_order", "id": wo["id"]}})
    assert refused.status_code == 422 and "private" not in refused.text
    assert refused.json["error"]["fields"] == {"entity.id": "No such record in this workspace."}
    assert office.tokens(wo["id"]) == []


def test_a_stopped_service_gives_503_within_the_timeout_and_recovers(stack, office):
    wo = office.work_order()
    minted = office.share(wo["id"])
    stack.stop_process("documents")
    try:
        started = time.monotonic()
        page = open_page(minted["url"])
        elapsed = time.monotonic() - started
        assert page.status_code == 503
        assert "try again" in page.text.lower()
        assert elapsed < RPC_TIMEOUT + 1.5
        api = office.get(f"/work-orders/{wo['id']}")
        assert api.status_code == 503 and api.json["error"]["code"] == "unavailable"
    finally:
        stack.start_process("documents")
        stack.wait_ready(60, names=("documents",))
    # The gateways' pooled connections recover on their own. (The embedded store lives
    # in the stopped process, so the restarted service starts empty: use new records.)
    assert office.get("/work-orders").status_code == 200
    fresh = office.share(office.work_order(title="After the restart")["id"])
    page = open_page(fresh["url"])
    assert page.status_code == 200 and "After the restart" in page.text


def test_a_sent_estimate_reaches_the_customer_through_the_local_mail_server(stack, office):
    address = "robin.ash@example.com"
    customer = office.created("/customers", {"name": "Robin Ash", "email": address})
    sent = office.sent_estimate([{"description": "Labour", "quantity": 1, "unit_price": "80"}],
                                customer_id=customer["id"])
    assert sent["customer_email"]["status"] == "queued"
    email_id = sent["customer_email"]["email"]["id"]

    def to_robin():
        return [m for m in stack.mail.messages if address in str(m["To"])]

    [message] = eventually(to_robin, within=20)
    assert message["Subject"] == sent["customer_email"]["email"]["subject"]
    assert sent["url"] in message.get_body(("plain",)).get_content()
    assert list(stack.mail_dir.glob("*.eml")), "the local server keeps a file per message"
    sent_email = eventually(lambda: (e := office.get(f"/notifications/emails/{email_id}").json)
                            and e["status"] == "sent" and e, within=10)
    assert sent_email and sent_email["attempts"] == 1 and sent_email["last_error"] is None
