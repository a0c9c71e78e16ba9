"""No deadlock by capacity: three times a service's ``max_workers`` at once through every
entry that fans out across services, on the running stack. Each request is answered — its
success, or 503 within the gateway's timeout — and every service answers normally right
after.

The first scenario is the one that once took Porchlight down until a restart: thirty
contacts asking for a sign-in code at once. Identity's workers all waited on
notifications, which waited on identity; nothing ever answered again.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests

from porchlight.contracts.clock import utcnow
from porchlight.runtime.settings import get_settings
from services.identity.accounts import rules
from tests.running_stack import RPC_TIMEOUT, SIGNATURE_PATH, csrf, eventually, office_of

pytestmark = pytest.mark.e2e

AT_ONCE = 3 * get_settings().nameko_max_workers
# A request may wait this long for its answer: the gateway's own timeout, plus the time
# 30 requests spend in the queue of the gateway's threads.
ANSWER_WITHIN = RPC_TIMEOUT + 10.0


def client_ip(n: int) -> dict[str, str]:
    """A client of its own (the stack trusts loopback's X-Forwarded-For): the per-address
    limit of sign-ins is what a test may meet, never another test's count per IP."""
    return {"X-Forwarded-For": f"198.51.{100 + n // 250}.{n % 250 + 1}"}


def at_once(count: int, request: Callable[[int], requests.Response]) -> list[tuple[int, float]]:
    """``request(i)`` for i in range(count), all at the same time: each status and how long
    it took."""

    def timed(i: int) -> tuple[int, float]:
        started = time.monotonic()
        try:
            status = request(i).status_code
        except requests.RequestException as exc:
            pytest.fail(f"request {i} was never answered: {exc!r}")
        return status, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(timed, range(count)))


def assert_answered(results: list[tuple[int, float]], success: int) -> None:
    for status, took in results:
        assert status in (success, 503), results
        assert took < ANSWER_WITHIN, results
    assert any(status == success for status, _ in results), results


def everyone_answers(stack: Any, office: Any) -> None:
    """Every service does its ordinary work at once: a workspace (identity), a link minted
    (sharing, asking documents), its page (the portal), the inbox (notifications), a
    certificate that does not exist (signatures)."""
    started = time.monotonic()
    assert office.get("/workspace").status_code == 200
    wo = office.work_order(title="After the rush")
    link = office.share(wo["id"])["url"]
    assert requests.get(link, timeout=10).status_code == 200
    assert office.get("/notifications/inbox").status_code == 200
    missing = requests.get(f"{stack.portal_url}/verify/cert_{'0' * 32}", timeout=10)
    assert missing.status_code == 404 and "unavailable" not in missing.text.lower()
    assert time.monotonic() - started < 5.0


def contacts(office: Any, count: int, tag: str) -> tuple[str, list[dict[str, Any]]]:
    customer = office.created("/customers", {"name": f"Northwind {tag}",
                                              "email": f"office-{tag}@northwind.example"})
    people = [office.created(f"/customers/{customer['id']}/contacts", {
        "name": f"Person {i}", "email": f"p{i}-{tag}-{office.workspace_id}@northwind.example",
        "role": "owner"}) for i in range(count)]
    return customer["id"], people


def invited_contacts(stack: Any, count: int, tag: str) -> list[tuple[Any, dict[str, Any]]]:
    """``count`` contacts whom staff invited (only they may ask for codes), each with the
    staff of their workspace — a workspace per ``INVITATIONS_PER_WINDOW`` of them, its
    limit — once every invitation email is sent: their work is over before a test starts."""
    invited: list[tuple[Any, dict[str, Any]]] = []
    for start in range(0, count, rules.INVITATIONS_PER_WINDOW):
        office = office_of(stack, f"Northwind {tag} {start}")
        customer_id, people = contacts(office, min(rules.INVITATIONS_PER_WINDOW, count - start), tag)
        for person in people:
            reply = office.post(f"/customers/{customer_id}/contacts/{person['id']}/invite")
            assert reply.status_code == 200, reply.text
        invited += [(office, person) for person in people]
    for office, person in invited:
        assert eventually(lambda o=office, p=person: delivered(o, p["email"], "contact_invitation"),
                          within=60), person
    return invited


def portal_form(stack: Any, path: str, data: dict[str, str], n: int) -> requests.Response:
    """GET the form (its CSRF token and cookie), then POST it, as client ``n``."""
    browser = requests.Session()
    page = browser.get(stack.portal_url + path, headers=client_ip(n), timeout=ANSWER_WITHIN)
    return browser.post(stack.portal_url + path, data={"csrf_token": csrf(page.text), **data},
                        headers=client_ip(n), timeout=ANSWER_WITHIN, allow_redirects=False)


def mail_to(stack: Any, address: str, subject_has: str) -> list[Any]:
    return [m for m in stack.mail.messages if address in m["To"] and subject_has in m["Subject"]]


def delivered(office: Any, address: str, template: str = "contact_sign_in") -> bool:
    """The ``template`` email to ``address`` is sent and its delivery recorded: nothing of
    its work is left to fall on the next request measured."""
    listed = office.get(f"/notifications/emails?recipient={address}")
    return listed.status_code == 200 and any(
        e["status"] == "sent" and e["template"] == template for e in listed.json["emails"])


def test_a_sign_in_answers_in_the_same_time_whether_or_not_the_address_is_a_contact(
        stack: Any, office: Any) -> None:
    """One request must not tell whether someone is a contact: the known address's work
    (its code, its email) happens after the answer. First in this module, so the work the
    bursts below leave behind (renders, emails) does not fall on the measurements.

    Each round measures one known and one unknown address back to back, and the test
    reads the median of the rounds' differences: what the machine is doing in a given
    moment falls on both halves of a round alike."""
    rounds = 80  # a median of many: one slow moment must not decide
    people = invited_contacts(stack, rounds, "timing")
    known, unknown, differences = [], [], []
    for i in range(rounds):
        staff, person = people[i]
        pair = [(person["email"], known), (f"nobody{i}-{staff.workspace_id}@northwind.example", unknown)]
        # Alternated, and in turn first, so what is still finishing from the round before
        # falls on both alike.
        for address, times in (pair if i % 2 == 0 else pair[::-1]):
            browser = requests.Session()
            n = 4000 + 2 * i + (times is unknown)
            page = browser.get(stack.portal_url + "/portal/sign-in", headers=client_ip(n), timeout=10)
            token = csrf(page.text)
            started = time.perf_counter()
            answer = browser.post(stack.portal_url + "/portal/sign-in", timeout=10, headers=client_ip(n),
                                  data={"csrf_token": token, "email": address})
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200
            if times is known:  # its email is prepared after the answer: let it go first,
                # or its work would fall on the next request measured
                assert eventually(lambda a=address, o=staff: delivered(o, a), within=20)
        differences.append(known[-1] - unknown[-1])
    gap_ms = abs(statistics.median(differences)) * 1000
    print(f"\nsign-in medians: known {statistics.median(known) * 1000:.2f} ms, "
          f"unknown {statistics.median(unknown) * 1000:.2f} ms, median difference {gap_ms:.2f} ms")
    assert gap_ms < 2.0, (statistics.median(known), statistics.median(unknown), gap_ms)


def test_thirty_sign_ins_at_once_are_all_answered_and_all_emailed(stack: Any, office: Any) -> None:
    people = [person for _, person in invited_contacts(stack, AT_ONCE, "signin")]
    results = at_once(AT_ONCE, lambda i: portal_form(
        stack, "/portal/sign-in", {"email": people[i]["email"]}, i))
    assert [status for status, _ in results] == [200] * AT_ONCE, results
    for person in people:
        assert eventually(lambda p=person: mail_to(stack, p["email"], "sign"), within=60), person
    everyone_answers(stack, office)


def test_thirty_password_resets_at_once(stack: Any, office: Any) -> None:
    people = [person for _, person in invited_contacts(stack, AT_ONCE, "reset")]
    results = at_once(AT_ONCE, lambda i: portal_form(
        stack, "/portal/forgot-password", {"email": people[i]["email"]}, 1000 + i))
    assert [status for status, _ in results] == [200] * AT_ONCE, results
    everyone_answers(stack, office)


def test_thirty_invitations_at_once(stack: Any, office: Any) -> None:
    customer_id, people = contacts(office, AT_ONCE, "invite")
    results = at_once(AT_ONCE, lambda i: office.send(
        "POST", f"/customers/{customer_id}/contacts/{people[i]['id']}/invite", office.headers))
    assert_answered(results, 200)
    everyone_answers(stack, office)


def send_then_answer(stack: Any, office: Any, commands: list[str], answer: dict[str, str],
                     first_client: int) -> None:
    """Staff send every record at once (``commands``: the paths that send one each, a link
    in the answer), then every customer answers at once through their link's form."""
    links: dict[int, str] = {}

    def send(i: int) -> Any:
        reply = office.send("POST", commands[i], office.headers)
        if reply.status_code == 201:
            links[i] = reply.json["url"].removeprefix(stack.portal_url)
        return reply

    assert_answered(at_once(len(commands), send), 201)
    everyone_answers(stack, office)
    paths = [links[i] for i in sorted(links)]
    assert_answered(at_once(len(paths), lambda i: portal_form(stack, paths[i], answer, first_client + i)),
                    303)
    everyone_answers(stack, office)


def test_thirty_estimates_sent_and_accepted_at_once(stack: Any, office: Any) -> None:
    customer_id, _ = contacts(office, 0, "estimates")
    valid_until = (utcnow() + timedelta(days=14)).date().isoformat()
    drafts = [office.created("/estimates", {
        "title": f"Boiler {i}", "customer_id": customer_id, "valid_until": valid_until,
        "line_items": [{"description": "Service", "quantity": 1, "unit_price": "90.00"}]})
        for i in range(AT_ONCE)]
    send_then_answer(stack, office, [f"/estimates/{d['id']}/send" for d in drafts],
                     {"response": "accept", "revision": "1", "signer_name": "Alex Morgan"}, 2000)


def test_thirty_reports_completed_and_signed_at_once(stack: Any, office: Any) -> None:
    wo = office.work_order(title="Pumps", location="12 Orchard Lane")
    drafts = [office.created("/service-reports", {"work_order_id": wo["id"], "narrative": f"Pump {i}."})
              for i in range(AT_ONCE)]
    send_then_answer(stack, office, [f"/service-reports/{d['id']}/complete" for d in drafts],
                     {"signer_name": "Alex Morgan", "signature_path": SIGNATURE_PATH}, 3000)
