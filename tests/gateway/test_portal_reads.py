"""The portal's read model against the real services and RabbitMQ: what a customer sees
stays true after staff change it, with pages served from memory in between.

Each test waits for the event it depends on with ``heard`` (a condition the model
signals when it applies a change), never for time: the freshness in milliseconds is
measured in ``make bench``.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from datetime import timedelta

import time_machine

from gateway.portal.links import SEEN_SECONDS
from gateway.portal.reads import reads
from porchlight.contracts import share_tokens
from porchlight.contracts.clock import isoformat, utcnow
from tests.gateway.conftest import WAIT
from tests.gateway.test_portal_answers import LINES, csrf, path_of
from tests.running_stack import seen_form, viewed


@contextmanager
def heard(model, *subject):
    """Run the block (a staff call), then wait until the portal has heard its event."""
    mark = model.mark()
    yield
    assert model.wait_for(subject, after=mark, timeout=WAIT), f"no event for {subject}"


def test_a_viewed_page_is_served_again_without_asking_a_service(staff, portal, calls):
    wo = staff.work_order(title="Boiler service")
    token = staff.share(wo["id"])["token"]
    assert portal.get(f"/portal/fsm/{token}").status_code == 200
    first = list(calls)
    assert "sharing.resolve_token" in first and "documents.get_work_order_for_customer" in first
    calls.clear()
    for _ in range(3):
        page = portal.get(f"/portal/fsm/{token}")
        assert page.status_code == 200 and "Boiler service" in page.get_data(as_text=True)
    assert calls == []


def test_a_revoked_link_is_refused_once_the_event_is_heard(staff, portal, model):
    wo = staff.work_order()
    minted = staff.share(wo["id"])
    url = f"/portal/fsm/{minted['token']}"
    assert portal.get(url).status_code == 200
    with heard(model, "share_token", minted["share_token"]["id"]):
        staff.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert portal.get(url).status_code == 404


def test_a_rotated_link_is_refused_and_its_successor_works(staff, portal, model):
    wo = staff.work_order()
    old = staff.share(wo["id"])
    assert portal.get(f"/portal/fsm/{old['token']}").status_code == 200
    with heard(model, "share_token", old["share_token"]["id"]):
        new = staff.post(f"/share-tokens/{old['share_token']['id']}/rotate").json
    assert portal.get(f"/portal/fsm/{old['token']}").status_code == 404
    assert portal.get(f"/portal/fsm/{new['token']}").status_code == 200


def test_an_edit_shows_once_the_event_is_heard(staff, portal, model):
    wo = staff.work_order(title="Boiler service")
    token = staff.share(wo["id"])["token"]
    assert "Boiler service" in portal.get(f"/portal/fsm/{token}").get_data(as_text=True)
    with heard(model, "work_order", wo["id"]):
        staff.patch(f"/work-orders/{wo['id']}", {"title": "Boiler and flue service"})
    assert "Boiler and flue service" in portal.get(f"/portal/fsm/{token}").get_data(as_text=True)


def test_a_branding_change_shows_once_the_event_is_heard(staff, portal, model):
    token = staff.share(staff.work_order()["id"])["token"]
    assert "#1d4ed8" in portal.get(f"/portal/fsm/{token}").get_data(as_text=True)
    with heard(model, "workspace", staff.workspace_id):
        assert staff.patch("/workspace", {"brand_colour": "#0f766e"}).status_code == 200
    assert "#0f766e" in portal.get(f"/portal/fsm/{token}").get_data(as_text=True)


def test_expiry_is_checked_on_every_view_without_an_event(staff, portal, model):
    wo = staff.work_order()
    token = staff.share(wo["id"], expires_at=isoformat(utcnow() + timedelta(hours=1)))["token"]
    assert portal.get(f"/portal/fsm/{token}").status_code == 200
    assert len(model) > 0
    with time_machine.travel(utcnow() + timedelta(hours=1, seconds=1)):  # no event says so
        assert portal.get(f"/portal/fsm/{token}").status_code == 404


def test_a_lost_event_keeps_a_revoked_link_alive_no_longer_than_the_lifetime(
        staff, portal, model, monkeypatch):
    monkeypatch.setattr(model, "changed", lambda *_: None)  # every event is lost
    wo = staff.work_order()
    minted = staff.share(wo["id"])
    url = f"/portal/fsm/{minted['token']}"
    assert portal.get(url).status_code == 200
    staff.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert portal.get(url).status_code == 200  # the portal never heard: still in memory
    now = model.clock()
    monkeypatch.setattr(model, "clock", lambda: now + model.lifetime + 0.001)
    assert portal.get(url).status_code == 404


def test_a_view_counts_when_the_page_reports_it_shown_not_when_it_is_fetched(staff, portal, portal_app):
    wo = staff.work_order()
    minted = staff.share(wo["id"])
    url = f"/portal/fsm/{minted['token']}"
    for _ in range(3):  # a mail scanner, a link preview: fetched, never shown
        assert portal.get(url).status_code == 200
    assert reads(portal_app).views.flush() == 0
    (link,) = staff.tokens(wo["id"])
    assert link["access_count"] == 0 and link["last_accessed_at"] is None
    for _ in range(4):  # a person's browser: the page, then its script's report
        viewed(portal, url)
    assert reads(portal_app).views.flush() == 4
    (link,) = staff.tokens(wo["id"])
    assert link["access_count"] == 4 and link["last_accessed_at"]


def test_a_report_that_is_not_a_person_seeing_a_working_link_counts_nothing(
        staff, portal, portal_app, model, monkeypatch):
    wo = staff.work_order()
    minted = staff.share(wo["id"])
    page = portal.get(f"/portal/fsm/{minted['token']}").text
    action, form = seen_form(page)
    assert action == "/portal/seen" and minted["token"] not in page  # the page never holds the token
    assert "Set-Cookie" not in portal.get(f"/portal/fsm/{minted['token']}").headers  # no token, no cookie
    cross_site = portal.post(action, data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403  # another site's page cannot report a view
    assert portal.get(action).status_code == 405  # a GET changes nothing, counts nothing
    forged = form["ticket"][:-2] + ("AA" if not form["ticket"].endswith("AA") else "BB")
    for bad in ("", "nonsense", forged):
        assert portal.post(action, data={**form, "ticket": bad}).status_code == 404, bad
    # A ticket older than a day: the page was shown long ago, or the ticket was kept.
    with time_machine.travel(utcnow() + timedelta(seconds=SEEN_SECONDS + 60)):
        assert portal.post(action, data=form).status_code == 404
    staff.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert portal.post(action, data=form).status_code == 404  # revoked since
    assert reads(portal_app).views.flush() == 0
    assert staff.tokens(wo["id"])[0]["access_count"] == 0


def test_a_view_of_a_link_another_process_resolved_asks_sharing_whether_it_still_works(
        staff, portal, portal_app, model):
    wo = staff.work_order()
    minted = staff.share(wo["id"])
    _, form = seen_form(portal.get(f"/portal/fsm/{minted['token']}").text)
    forgotten = ("link", share_tokens.digest(minted["token"]))
    model.forget(forgotten)  # this process forgot the link, as another replica never knew it
    assert portal.post("/portal/seen", data=form).status_code == 204
    assert reads(portal_app).views.flush() == 1
    model.forget(forgotten)
    staff.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert portal.post("/portal/seen", data=form).status_code == 404
    assert staff.tokens(wo["id"])[0]["access_count"] == 1


def test_only_link_pages_report_a_view(staff, portal):
    sent = staff.sent_estimate(LINES)
    done = staff.report_awaiting_signature()
    for url in (sent["url"], done["url"]):
        page = viewed(portal, path_of(url)).text
        assert 'src="/static/seen.js"' in page
    assert 'id="seen"' not in portal.get("/portal/sign-in").text


def test_an_open_estimate_is_not_shown_as_open_past_its_end(staff, portal, calls):
    sent = staff.sent_estimate(LINES)
    url = path_of(sent["url"])
    assert 'value="accept"' in portal.get(url).get_data(as_text=True)
    calls.clear()
    assert 'value="accept"' in portal.get(url).get_data(as_text=True)
    assert calls == []  # open: served from memory
    with time_machine.travel(utcnow() + timedelta(days=15)):  # past its valid-until date
        page = portal.get(url).get_data(as_text=True)
    assert "documents.get_estimate_for_customer" in calls  # not kept past its end
    assert 'value="accept"' not in page


def test_a_certificate_is_read_once_until_a_signed_pdf_is_attached(staff, portal, model, calls, rpc):
    sent = staff.sent_estimate(LINES)
    url = path_of(sent["url"])
    portal.post(url, data={"csrf_token": csrf(portal.get(url).get_data(as_text=True)),
                           "response": "decline", "revision": "1", "reason": "Too dear"})
    certificate_id = staff.get(f"/estimates/{sent['estimate']['id']}").json["outcome"]["certificate_id"]
    calls.clear()
    for _ in range(3):
        assert portal.get(f"/verify/{certificate_id}").status_code == 200
    assert calls == ["signatures.get_certificate"]
    with heard(model, "certificate", certificate_id):
        rpc.call("signatures", "attach_artifact", staff.workspace_id, certificate_id,
                 {"kind": "signed_pdf", "sha256": "ab" * 32})
    assert "ab" * 32 in portal.get(f"/verify/{certificate_id}").get_data(as_text=True)


def close_connections_named(name: str) -> int:
    """Close, from the broker's side, every connection whose name starts with ``name``."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    pids = [line.split("\t")[0] for line in listed.splitlines() if name in line]
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: connection dropped"],
                       capture_output=True, check=True, timeout=60)
    return len(pids)


def test_a_dropped_event_connection_empties_the_model_until_it_is_back(staff, portal, portal_app,
                                                                      model, calls):
    minted = staff.share(staff.work_order()["id"])
    url = f"/portal/fsm/{minted['token']}"
    portal.get(url)
    calls.clear()
    portal.get(url)
    assert calls == []
    mark = model.mark()
    assert close_connections_named(f"{portal_app.name} pid {os.getpid()}") == 1
    # Whatever the model held may have missed events while the connection was down.
    assert model.wait_for(("share_token", minted["share_token"]["id"]), after=mark, timeout=WAIT)
    assert model.wait_live(WAIT)  # reconnected, queue bound again
    assert portal.get(url).status_code == 200
    assert "sharing.resolve_token" in calls  # refilled from the services
    with heard(model, "share_token", minted["share_token"]["id"]):  # and kept current again
        staff.post(f"/share-tokens/{minted['share_token']['id']}/revoke")
    assert portal.get(url).status_code == 404
