"""Passwords in the signed-in portal, through Flask's test client with every service on
real RabbitMQ: the temporary password staff hand out and the forced choice that follows,
signing in with a password, changing it on the profile page, and resetting a forgotten
one by email."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine

from porchlight.contracts.clock import parse_iso, utcnow
from tests.gateway.test_portal_accounts import csrf, people, sign_in_by_code
from tests.mail import Worker
from tests.staff import StaffApi

EMAIL = "frances@northwind.example"
GOOD = "lantern orchard velvet compass"
BETTER = "harbour granite meadow whistle"


def password_sign_in(portal: Any, email: str, password: str) -> Any:
    form = portal.get("/portal/sign-in")
    return portal.post("/portal/sign-in/password",
                       data={"csrf_token": csrf(form.text), "email": email, "password": password})


def test_a_temporary_password_must_be_replaced_before_anything_else(
        staff: StaffApi, portal_app: Any) -> None:
    made = people(staff)
    path = f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}/temporary-password"
    temporary = staff.post(path).json["temporary_password"]
    portal = portal_app.test_client()
    signed = password_sign_in(portal, EMAIL, temporary)
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/portal/choose-password")
    assert portal.get("/portal").headers["Location"].endswith("/portal/choose-password")
    page = portal.get("/portal/choose-password")
    assert "temporary password" in page.text
    token = csrf(page.text)
    mismatch = portal.post("/portal/choose-password", data={
        "csrf_token": token, "new_password": GOOD, "confirm_password": GOOD + "x"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    common = portal.post("/portal/choose-password", data={
        "csrf_token": token, "new_password": "password1234", "confirm_password": "password1234"})
    assert common.status_code == 422 and "common password" in common.text
    short = portal.post("/portal/choose-password", data={
        "csrf_token": token, "new_password": "short", "confirm_password": "short"})
    assert short.status_code == 422 and "at least 12" in short.text
    chosen = portal.post("/portal/choose-password", data={
        "csrf_token": token, "new_password": GOOD, "confirm_password": GOOD})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/portal")
    assert portal.get("/portal").status_code == 200

    other = portal_app.test_client()
    assert password_sign_in(other, EMAIL, temporary).status_code == 401
    assert password_sign_in(other, EMAIL, GOOD).headers["Location"].endswith("/portal")


def test_a_temporary_password_stops_working_after_72_hours(staff: StaffApi, portal_app: Any) -> None:
    made = people(staff)
    path = f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}/temporary-password"
    given = staff.post(path).json
    ends = parse_iso(given["expires_at"])
    assert timedelta(hours=71, minutes=59) < ends - utcnow() <= timedelta(hours=72)
    with time_machine.travel(ends + timedelta(seconds=1)):
        late = password_sign_in(portal_app.test_client(), EMAIL, given["temporary_password"])
    assert late.status_code == 401 and "temporary password has expired" in late.text
    with time_machine.travel(ends - timedelta(minutes=1)):
        in_time = password_sign_in(portal_app.test_client(), EMAIL, given["temporary_password"])
    assert in_time.status_code == 303 and in_time.headers["Location"].endswith("/portal/choose-password")


def test_a_wrong_password_and_an_unknown_address_read_the_same(staff: StaffApi, portal: Any) -> None:
    made = people(staff)
    staff.post(f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}/temporary-password")
    wrong = password_sign_in(portal, EMAIL, "not the password at all")
    unknown = password_sign_in(portal, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = re.compile(r'<p class="alert" role="alert">([^<]+)</p>')
    assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)


def test_the_profile_changes_the_phone_and_the_password_and_ends_other_sessions(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker)
    phone, laptop = portal_app.test_client(), portal_app.test_client()
    sign_in_by_code(phone, worker, mail_server, EMAIL, 1)
    sign_in_by_code(laptop, worker, mail_server, EMAIL, 2)
    page = laptop.get("/portal/profile")
    assert page.status_code == 200 and CUSTOMER_NAME in page.text and "Owner" in page.text
    assert 'name="current_password"' not in page.text  # no password yet: nothing to confirm
    token = csrf(page.text)
    saved = laptop.post("/portal/profile/phone", data={"csrf_token": token, "phone": "+44 20 7946 0999"})
    assert saved.status_code == 303 and "+44 20 7946 0999" in laptop.get("/portal/profile").text
    refused = laptop.post("/portal/profile/phone", data={"csrf_token": token, "phone": "call me"})
    assert refused.status_code == 422

    # A first password needs the code emailed for it: the session alone is not enough.
    assert 'name="code"' in page.text and "Email me a code" in page.text
    no_code = laptop.post("/portal/profile/password", data={
        "csrf_token": token, "new_password": GOOD, "confirm_password": GOOD})
    assert no_code.status_code == 422 and "Enter the code we emailed you" in no_code.text
    asked = laptop.post("/portal/profile/password-code", data={"csrf_token": token})
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/portal/profile?changed=code")
    assert f"We have emailed a code to {EMAIL}" in laptop.get(asked.headers["Location"]).text
    worker.run_queued(1)
    text = mail_server.wait_for(3)[-1].get_body(preferencelist=("plain",)).get_content()
    [code] = re.findall(r"^(\d{6})\s*$", text, re.MULTILINE)
    wrong = laptop.post("/portal/profile/password", data={
        "csrf_token": token, "code": f"{(int(code) + 1) % 1_000_000:06d}", "new_password": GOOD,
        "confirm_password": GOOD})
    assert wrong.status_code == 422 and "That code is not right" in wrong.text
    assert phone.get("/portal").status_code == 200  # nothing changed yet
    set_first = laptop.post("/portal/profile/password", data={
        "csrf_token": token, "code": code, "new_password": GOOD, "confirm_password": GOOD})
    assert set_first.status_code == 303
    assert phone.get("/portal").status_code == 303  # the other session ended
    assert laptop.get("/portal").status_code == 200  # this one goes on
    page = laptop.get("/portal/profile")
    assert 'name="current_password"' in page.text
    wrong = laptop.post("/portal/profile/password", data={
        "csrf_token": csrf(page.text), "current_password": "nope", "new_password": BETTER,
        "confirm_password": BETTER})
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    right = laptop.post("/portal/profile/password", data={
        "csrf_token": csrf(page.text), "current_password": GOOD, "new_password": BETTER,
        "confirm_password": BETTER})
    assert right.status_code == 303
    assert password_sign_in(portal_app.test_client(), EMAIL, BETTER).status_code == 303


def test_a_forgotten_password_is_reset_by_an_emailed_link_that_works_once(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    made = people(staff, worker)
    staff.post(f"/customers/{made['customer']['id']}/contacts/{made['contact']['id']}/temporary-password")
    portal = portal_app.test_client()
    form = portal.get("/portal/forgot-password")
    answers = [portal.post("/portal/forgot-password", data={"csrf_token": csrf(form.text), "email": a})
               for a in (EMAIL, "nobody@example.org")]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].text.replace(EMAIL, "X") == answers[1].text.replace("nobody@example.org", "X")
    worker.run_queued(1)
    [message] = mail_server.wait_for(1)
    assert message["Subject"] == "Reset your password for Acme Heating"
    text = message.get_body(preferencelist=("plain",)).get_content()
    [token] = re.findall(r"/portal/reset-password/(psi_[0-9a-f]{40})", text)
    assert not re.search(r"^\d{6}\s*$", text, re.MULTILINE)  # a link only, no code

    page = portal.get(f"/portal/reset-password/{token}")
    assert page.status_code == 200 and EMAIL in page.text
    assert portal.get(f"/portal/reset-password/{token}").status_code == 200  # looking changes nothing
    done = portal.post(f"/portal/reset-password/{token}", data={
        "csrf_token": csrf(page.text), "new_password": GOOD, "confirm_password": GOOD})
    assert done.status_code == 303 and portal.get("/portal").status_code == 200
    # (Signing in gave a new form token.)
    again = portal.post(f"/portal/reset-password/{token}", data={
        "csrf_token": csrf(portal.get("/portal/profile").text), "new_password": BETTER,
        "confirm_password": BETTER})
    assert again.status_code == 410
    assert password_sign_in(portal_app.test_client(), EMAIL, GOOD).status_code == 303
    # The contact is told their password changed, with the way back if it was not them.
    worker.run_queued(1)
    notice = mail_server.wait_for(2)[-1]
    assert notice["Subject"] == "Your password for Acme Heating was changed" and EMAIL in notice["To"]
    notice_text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "/portal/forgot-password" in notice_text and GOOD not in notice_text


CUSTOMER_NAME = "Northwind Facilities"


def test_a_reset_while_identity_is_busy_hashing_is_429_and_the_link_still_works(
        staff: StaffApi, portal_app: Any, worker: Worker, mail_server: Any, monkeypatch: Any) -> None:
    from services.identity.accounts import passwords  # the identity service runs in this process

    people(staff, worker)
    portal = portal_app.test_client()
    form = portal.get("/portal/forgot-password")
    portal.post("/portal/forgot-password", data={"csrf_token": csrf(form.text), "email": EMAIL})
    worker.run_queued(1)
    [message] = mail_server.wait_for(1)
    [token] = re.findall(r"/portal/reset-password/(psi_[0-9a-f]{40})",
                         message.get_body(preferencelist=("plain",)).get_content())
    page = portal.get(f"/portal/reset-password/{token}")
    choose = {"csrf_token": csrf(page.text), "new_password": GOOD, "confirm_password": GOOD}

    monkeypatch.setattr(passwords, "HASH_WAIT", 0.0)
    for _ in range(passwords.HASH_PERMITS):  # every permit taken by hashes in flight
        assert passwords._permits.acquire(timeout=1)
    try:
        busy = portal.post(f"/portal/reset-password/{token}", data=choose)
    finally:
        for _ in range(passwords.HASH_PERMITS):
            passwords._permits.release()
    assert busy.status_code == 429 and int(busy.headers["Retry-After"]) > 0
    assert passwords.BUSY in busy.text.replace("&#39;", "'") and 'role="alert"' in busy.text
    done = portal.post(f"/portal/reset-password/{token}", data=choose)
    assert done.status_code == 303 and portal.get("/portal").status_code == 200
