"""Customer accounts below the portal's HTML: staff on the admin app (Flask's test client),
every service on real RabbitMQ, the worker's real delivery to a real SMTP server, and the
portal's sign-in calls to identity as the portal makes them. Time is moved, never waited
for (time-machine)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from porchlight.runtime import i18n
from porchlight.runtime.mail_secrets import PLACEHOLDERS
from services.identity.accounts import rules
from tests.mail import Worker
from tests.staff import StaffApi

IP = "192.0.2.44"


def contact(staff: StaffApi, email: str = "fm@northwind.example", role: str = "owner",
            name: str = "Frances Marsh") -> dict[str, Any]:
    customer = staff.created("/customers", {"name": "Northwind Facilities",
                                            "email": "office@northwind.example"})
    return staff.created(f"/customers/{customer['id']}/contacts",
                         {"name": name, "email": email, "role": role})


def invited(staff: StaffApi, worker: Worker, mail_server: Any, **fields: Any) -> dict[str, Any]:
    """A contact staff invited (the one email so far): only they may ask for codes."""
    added = contact(staff, **fields)
    assert staff.post(path(added, "/invite")).status_code == 200
    delivered(worker, mail_server)
    return added


def path(c: dict[str, Any], action: str = "") -> str:
    return f"/customers/{c['customer_id']}/contacts/{c['id']}{action}"


def delivered(worker: Worker, mail_server: Any, count: int = 1) -> Any:
    """Run the delivery the last command queued; the last message that arrived."""
    worker.run_queued(1)
    return mail_server.wait_for(count)[-1]


def link_and_code(message: Any) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    [link] = re.findall(r"https?://\S+/portal/sign-in/psi_[0-9a-f]{40}", text)
    [code] = re.findall(r"^(\d{6})\s*$", text, re.MULTILINE)
    return link.rsplit("/", 1)[1], code


def test_an_invitation_arrives_with_a_link_and_a_code_the_outbox_keeps_neither(
        staff: StaffApi, worker: Worker, mail_server: Any) -> None:
    frances = contact(staff)
    reply = staff.post(path(frances, "/invite"))
    assert reply.status_code == 200, reply.text
    invitation = reply.json
    assert invitation["contact"]["invitation_status"] == "invited"
    assert invitation["email"] == {"to": "fm@northwind.example", "template": "contact_invitation",
                                   "status": "handed_over"}
    message = delivered(worker, mail_server)
    assert message["To"] == "Frances Marsh <fm@northwind.example>"
    assert message["Subject"] == "Acme Heating invites you to its customer portal"
    token, code = link_and_code(message)
    [listed] = staff.get("/notifications/emails?recipient=fm@northwind.example").json["emails"]
    stored = staff.get(f"/notifications/emails/{listed['id']}").json
    for body in (stored["text_body"], stored["html_body"]):
        assert token not in body and code not in body
        assert PLACEHOLDERS["link"] in body and PLACEHOLDERS["code"] in body


def test_the_link_opens_once_and_looking_at_it_changes_nothing(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = contact(staff)
    staff.post(path(frances, "/invite"))
    token, _ = link_and_code(delivered(worker, mail_server))
    for _ in range(3):  # a mail scanner, a preview, the person
        assert rpc.call("identity", "check_sign_in_link", token)["first_name"] == "Frances"
    assert staff.get(path(frances)).json["invitation_status"] == "invited"

    signed_in = rpc.call("identity", "sign_in_with_link", token, IP)
    assert signed_in["contact"]["id"] == frances["id"]
    assert signed_in["customer"]["name"] == "Northwind Facilities"
    now = staff.get(path(frances)).json
    assert now["invitation_status"] == "accepted" and now["joined_at"] and now["last_sign_in_at"]
    assert rpc.call("identity", "resolve_session", signed_in["session"])["contact"]["role"] == "owner"
    with pytest.raises(Unauthorized):
        rpc.call("identity", "sign_in_with_link", token, IP)
    with pytest.raises(Unauthorized):
        rpc.call("identity", "check_sign_in_link", token)


def test_a_new_invitation_kills_the_old_one(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = contact(staff)
    staff.post(path(frances, "/invite"))
    old, _ = link_and_code(delivered(worker, mail_server))
    staff.post(path(frances, "/invite"))
    new, _ = link_and_code(delivered(worker, mail_server, 2))
    with pytest.raises(Unauthorized):
        rpc.call("identity", "sign_in_with_link", old, IP)
    assert rpc.call("identity", "sign_in_with_link", new, IP)["session"]


def test_sign_in_by_code_the_same_answer_for_any_address_and_five_wrong_codes_kill_it(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = invited(staff, worker, mail_server)
    assert rpc.call("identity", "request_sign_in", {"email": "nobody@example.org"}, IP) == {"sent": True}
    assert rpc.call("identity", "request_sign_in", {"email": "FM@Northwind.example"}, IP) == {"sent": True}
    _, code = link_and_code(delivered(worker, mail_server, 2))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(rules.MAX_WRONG_CODES - 1):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": wrong}, IP)
    session = rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": code}, IP)
    assert session["contact"]["id"] == frances["id"]

    # A quarter of an hour later (the address's attempts counted afresh), a new code:
    with time_machine.travel(utcnow() + rules.ATTEMPT_WINDOW + timedelta(seconds=1)):
        rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
        _, code = link_and_code(delivered(worker, mail_server, 3))
        for _ in range(rules.MAX_WRONG_CODES):
            with pytest.raises(Unauthorized):
                rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": wrong}, IP)
        with pytest.raises(Unauthorized):  # the right code, too late: dead after five wrong ones
            rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": code}, IP)
        with pytest.raises(InvalidInput):
            rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": "12345"}, IP)


def test_a_code_lives_fifteen_minutes(staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = invited(staff, worker, mail_server)
    rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
    token, code = link_and_code(delivered(worker, mail_server, 2))
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": code}, IP)
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_link", token, IP)


def test_tries_are_limited_per_address_and_asking_per_ip(staff: StaffApi, rpc: Any, worker: Worker) -> None:
    wrong = {"email": "someone@example.org", "code": "000000"}
    for n in range(rules.ATTEMPTS_PER_ADDRESS):  # from ever new addresses: the address counts
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_code", wrong, f"198.51.100.{n}")
    with pytest.raises(TooManyRequests) as refused:
        rpc.call("identity", "sign_in_with_code", wrong, "198.51.100.200")
    assert 0 < refused.value.retry_after <= rules.ATTEMPT_WINDOW.total_seconds() + 1
    # Asking for emails is counted per IP only: asking in someone's name does not lock them out.
    for n in range(rules.ATTEMPTS_PER_IP):
        try:
            rpc.call("identity", "request_sign_in", {"email": "someone@example.org"}, "203.0.113.9")
        except TooManyRequests:
            pytest.fail(f"attempt {n + 1} refused")
    with pytest.raises(TooManyRequests):
        rpc.call("identity", "request_sign_in", {"email": "fresh@example.org"}, "203.0.113.9")
    with time_machine.travel(utcnow() + rules.ATTEMPT_WINDOW + timedelta(seconds=1)):
        assert rpc.call("identity", "request_sign_in", {"email": "fresh@example.org"}, "203.0.113.9") == {
            "sent": True}
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_code", wrong, "198.51.100.200")


def test_only_invited_contacts_get_sign_in_or_reset_emails(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = contact(staff)  # added, never invited
    for purpose in ("sign_in", "password_reset"):
        assert rpc.call("identity", "email_sign_in", frances["email"], purpose) == 0
    staff.post(path(frances, "/invite"))
    delivered(worker, mail_server)
    assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 1
    # Once they joined they may ask too (their invitation status is "accepted").
    token, _ = link_and_code(delivered(worker, mail_server, 2))
    rpc.call("identity", "sign_in_with_link", token, IP)
    assert rpc.call("identity", "email_sign_in", frances["email"], "password_reset") == 1


def test_one_email_per_few_minutes_and_the_code_already_sent_keeps_working(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = invited(staff, worker, mail_server)
    assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 1
    for _ in range(5):  # asked again and again: nothing more goes, nothing is killed
        assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 0
    token, code = link_and_code(delivered(worker, mail_server, 2))
    # A reset is another kind of email: it has its own allowance.
    assert rpc.call("identity", "email_sign_in", frances["email"], "password_reset") == 1
    worker.queued(1)
    session = rpc.call("identity", "sign_in_with_code", {"email": frances["email"], "code": code}, IP)
    assert session["contact"]["id"] == frances["id"]
    # The code used, asking again sends a new one at once.
    assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 1
    worker.queued(1)
    # Unused, a code sent more than the few minutes ago makes way for a new one.
    assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 0
    with time_machine.travel(utcnow() + rules.EMAIL_EVERY + timedelta(seconds=1)):
        assert rpc.call("identity", "email_sign_in", frances["email"], "sign_in") == 1
    with pytest.raises(Unauthorized):  # the first link was used with its code
        rpc.call("identity", "sign_in_with_link", token, IP)


def test_the_right_password_works_from_a_known_network_while_the_address_is_limited(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    home, away = "198.51.100.7", "203.0.113.50"
    frances = contact(staff)
    password = staff.post(path(frances, "/temporary-password")).json["temporary_password"]
    signed_in = rpc.call("identity", "sign_in_with_password",
                         {"email": frances["email"], "password": password}, home)
    rpc.call("identity", "change_password", signed_in["session"], {"new_password": "a walk by the estuary"})
    # Someone guessing, from many addresses, until the address's limit (the first sign-in
    # counted one try).
    for n in range(rules.ATTEMPTS_PER_ADDRESS - 1):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_password",
                     {"email": frances["email"], "password": f"guess number {n}"}, f"192.0.2.{n}")
    right = {"email": frances["email"], "password": "a walk by the estuary"}
    with pytest.raises(TooManyRequests):  # not from a network Frances used
        rpc.call("identity", "sign_in_with_password", right, away)
    assert rpc.call("identity", "sign_in_with_password", right, home)["contact"]["id"] == frances["id"]
    # From that network the limit still holds, counted for the address and network together
    # (two tries from home so far).
    for n in range(rules.ATTEMPTS_PER_ADDRESS - 2):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "sign_in_with_password",
                     {"email": frances["email"], "password": f"guess {n} at home"}, home)
    with pytest.raises(TooManyRequests):
        rpc.call("identity", "sign_in_with_password", right, home)


def test_removed_access_ends_an_open_session_at_its_next_request(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = contact(staff)
    staff.post(path(frances, "/invite"))
    token, _ = link_and_code(delivered(worker, mail_server))
    session = rpc.call("identity", "sign_in_with_link", token, IP)["session"]
    assert rpc.call("identity", "resolve_session", session)
    removed = staff.post(path(frances, "/remove-access"))
    assert removed.status_code == 200 and removed.json["has_access"] is False
    with pytest.raises(Unauthorized):
        rpc.call("identity", "resolve_session", session)
    assert staff.post(path(frances, "/invite")).status_code == 409
    assert staff.patch(path(frances), {"role": "member"}).status_code == 409
    # Their address is free again, for a new contact.
    again = staff.created(f"/customers/{frances['customer_id']}/contacts",
                          {"name": "Frances Marsh", "email": "FM@northwind.example"})
    assert again["invitation_status"] == "none"


def test_sessions_end_when_idle_14_days_or_after_30_and_on_sign_out(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = contact(staff)
    staff.post(path(frances, "/invite"))
    token, _ = link_and_code(delivered(worker, mail_server))
    start = utcnow()
    session = rpc.call("identity", "sign_in_with_link", token, IP)["session"]
    # Used every 13 days, it lives; at 30 days it ends however much it was used.
    for day in (13, 26):
        with time_machine.travel(start + timedelta(days=day)):
            assert rpc.call("identity", "resolve_session", session)
    with time_machine.travel(start + timedelta(days=30, minutes=1)):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "resolve_session", session)

    rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
    token, _ = link_and_code(delivered(worker, mail_server, 2))
    idle = rpc.call("identity", "sign_in_with_link", token, IP)["session"]
    with time_machine.travel(utcnow() + timedelta(days=14, minutes=1)):
        with pytest.raises(Unauthorized):
            rpc.call("identity", "resolve_session", idle)


def test_sign_out_and_sign_out_everywhere(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = invited(staff, worker, mail_server)
    sessions = []
    for n in range(3):
        rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
        _, code = link_and_code(delivered(worker, mail_server, n + 2))
        sessions.append(rpc.call("identity", "sign_in_with_code",
                                 {"email": frances["email"], "code": code}, IP)["session"])
    assert rpc.call("identity", "sign_out", sessions[0]) == {"ended": 1}
    with pytest.raises(Unauthorized):
        rpc.call("identity", "resolve_session", sessions[0])
    assert rpc.call("identity", "resolve_session", sessions[1])
    assert rpc.call("identity", "sign_out", sessions[1], True) == {"ended": 2}
    for gone in sessions:
        with pytest.raises(Unauthorized):
            rpc.call("identity", "resolve_session", gone)
    assert rpc.call("identity", "sign_out", sessions[2]) == {"ended": 0}


def test_fifty_invitations_a_day_then_429_with_retry_after(staff: StaffApi, worker: Worker) -> None:
    customer = staff.created("/customers", {"name": "Big Estate", "email": "estate@example.org"})
    people = [staff.created(f"/customers/{customer['id']}/contacts",
                            {"name": f"Person {n}", "email": f"p{n}@estate.example"})
              for n in range(rules.INVITATIONS_PER_WINDOW + 1)]
    start = utcnow()
    for person in people[:-1]:
        assert staff.post(path(person, "/invite")).status_code == 200
    refused = staff.post(path(people[-1], "/invite"))
    assert refused.status_code == 429
    assert "50 invitations" in refused.json["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert staff.get(path(people[-1])).json["invitation_status"] == "none"
    with time_machine.travel(start + timedelta(hours=24, minutes=1)):
        assert staff.post(path(people[-1], "/invite")).status_code == 200


def test_contacts_on_the_admin_api(staff: StaffApi, make_staff: Any) -> None:
    frances = contact(staff)
    assert staff.post(f"/customers/{frances['customer_id']}/contacts",
                      {"name": "Twin", "email": "fm@NORTHWIND.example"}).status_code == 409
    for bad in ({"name": "X"}, {"name": "X", "email": "nope"}, {"name": "", "email": "a@b.example"},
                {"name": "X", "email": "a@b.example", "role": "admin"}):
        assert staff.post(f"/customers/{frances['customer_id']}/contacts", bad).status_code == 422, bad
    listed = staff.get(f"/customers/{frances['customer_id']}/contacts").json["contacts"]
    assert [c["id"] for c in listed] == [frances["id"]]
    changed = staff.patch(path(frances), {"role": "member", "phone": "+44 20 7946 0001"})
    assert changed.status_code == 200 and changed.json["role"] == "member"
    other = make_staff("Other Co")
    assert other.get(path(frances)).status_code == 404
    assert other.post(path(frances, "/invite")).status_code == 404
    assert staff.get(f"/customers/{'0' * 24}/contacts").status_code == 404

    temporary = staff.post(path(frances, "/temporary-password"))
    assert temporary.status_code == 200 and len(temporary.json["temporary_password"]) == 16
    assert temporary.json["contact"]["has_password"] is True


def test_a_first_password_needs_the_code_emailed_for_it(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    """A session alone (a borrowed phone, a copied cookie) must not give its holder a
    password, a way in that outlives the session."""
    frances = invited(staff, worker, mail_server)
    rpc.call("identity", "email_sign_in", frances["email"], "sign_in")
    token, _ = link_and_code(delivered(worker, mail_server, 2))
    session = rpc.call("identity", "sign_in_with_link", token, IP)["session"]
    chosen = "a walk by the estuary"
    with pytest.raises(InvalidInput) as refused:
        rpc.call("identity", "change_password", session, {"new_password": chosen})
    assert set(refused.value.fields) == {"code"}

    asked = rpc.call("identity", "email_password_code", session)
    assert asked["sent"] is True and asked["email"] == frances["email"]
    assert rpc.call("identity", "email_password_code", session)["sent"] is False  # one email
    message = delivered(worker, mail_server, 3)
    assert message["Subject"] == "Your code to set a password for Acme Heating"
    text = message.get_body(preferencelist=("plain",)).get_content()
    [code] = re.findall(r"^(\d{6})\s*$", text, re.MULTILINE)
    assert "/portal/profile" in text and "psi_" not in text  # no link that signs in

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for bad, field in (({"new_password": chosen, "code": wrong}, "code"),
                       ({"new_password": chosen, "code": "12345"}, "code"),
                       ({"new_password": "password1234", "code": code}, "password")):
        with pytest.raises(InvalidInput) as refused:
            rpc.call("identity", "change_password", session, bad)
        assert field in refused.value.fields, bad
    assert staff.get(path(frances)).json["has_password"] is False  # nothing was set
    # The code still works (a weak password did not spend it; one wrong try did).
    changed = rpc.call("identity", "change_password", session, {"new_password": chosen, "code": code})
    assert changed["has_password"] is True
    assert rpc.call("identity", "sign_in_with_password",
                    {"email": frances["email"], "password": chosen}, IP)["contact"]["id"] == frances["id"]
    with pytest.raises(Conflict):  # a password of their own is changed with the current one
        rpc.call("identity", "email_password_code", session)


def test_uses_a_reader_served_from_memory_keep_a_session_from_ending_as_idle(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    """The portal serves a session from memory and sends identity its uses in batches;
    without them a session in daily use would end as idle after 14 days."""
    frances = invited(staff, worker, mail_server)
    sessions = []
    for n in (2, 3, 4):
        rpc.call("identity", "email_sign_in", frances["email"], "sign_in")
        token, _ = link_and_code(delivered(worker, mail_server, n))
        sessions.append(rpc.call("identity", "sign_in_with_link", token, IP))
    used, ahead, idle = sessions
    start = utcnow()
    with time_machine.travel(start + timedelta(days=10)):
        now = utcnow()
        batch = {"sessions": [
            {"session_id": used["session_id"], "last_used_at": now.isoformat()},
            # A reader whose clock is a year ahead: counted as identity's now, no later.
            {"session_id": ahead["session_id"], "last_used_at": (now + timedelta(days=365)).isoformat()},
            {"session_id": "not-a-session", "last_used_at": now.isoformat()}]}
        assert rpc.call("identity", "record_session_use", batch) == {"updated": 2}
        with pytest.raises(InvalidInput):
            rpc.call("identity", "record_session_use", {"sessions": [{"session_id": used["session_id"]}]})
    with time_machine.travel(start + timedelta(days=20)):
        assert rpc.call("identity", "resolve_session", used["session"])["session_id"] == used["session_id"]
        with pytest.raises(Unauthorized):  # unused for 20 days
            rpc.call("identity", "resolve_session", idle["session"])
    with time_machine.travel(start + timedelta(days=25)):  # 15 days after its last use
        with pytest.raises(Unauthorized):
            rpc.call("identity", "resolve_session", ahead["session"])


def test_a_contacts_own_language_is_used_for_their_emails_and_unknown_ones_are_refused(
        staff: StaffApi, worker: Worker, mail_server: Any, rpc: Any) -> None:
    frances = invited(staff, worker, mail_server)
    rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
    _, code = link_and_code(delivered(worker, mail_server, 2))
    session = rpc.call("identity", "sign_in_with_code",
                       {"email": frances["email"], "code": code}, IP)["session"]
    signed = rpc.call("identity", "resolve_session", session)
    assert signed["contact"]["language"] is None and signed["customer"]["preferred_language"] is None

    with pytest.raises(InvalidInput) as refused:
        rpc.call("identity", "change_language", session, {"language": "nl"})
    assert refused.value.fields == {"language": "Must be one of: en, fr, es, de."}
    assert rpc.call("identity", "resolve_session", session)["contact"]["language"] is None

    chosen = rpc.call("identity", "change_language", session, {"language": "de"})
    assert chosen["contact"]["language"] == "de"
    assert rpc.call("identity", "change_language", session, {"language": "de"})["contact"]["language"] == "de"
    english = "Your sign-in link for Acme Heating"
    with time_machine.travel(utcnow() + rules.EMAIL_EVERY + timedelta(seconds=1)):
        rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
        german = delivered(worker, mail_server, 3)
        # Back to their customer's language: the next email is English again.
        back = rpc.call("identity", "change_language", session, {"language": None})
        assert back["contact"]["language"] is None
    assert german["Content-Language"] == "de", german.items()
    code_line = i18n.translator("de")("Or, on another device, enter this code on the sign-in page:")
    assert code_line != "Or, on another device, enter this code on the sign-in page:"
    text = german.get_body(preferencelist=("plain",)).get_content()
    html = german.get_body(preferencelist=("html",)).get_content()
    assert code_line in text and code_line in html and '<html lang="de"' in html
    assert "Or, on another device" not in text + html
    assert german["Subject"] != english and "Acme Heating" in german["Subject"]
    assert german["Subject"] == i18n.translator("de")("Your sign-in link for %(business)s",
                                                      business="Acme Heating")
    with time_machine.travel(utcnow() + 2 * rules.EMAIL_EVERY + timedelta(seconds=2)):
        rpc.call("identity", "request_sign_in", {"email": frances["email"]}, IP)
        assert delivered(worker, mail_server, 4)["Subject"] == english
