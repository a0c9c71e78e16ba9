"""Mail goes where the customer reads it (every service on real RabbitMQ, the emails
delivered by the worker's real task to a real SMTP server): a customer with invited portal
contacts gets its records in their accounts — estimates to owners only, reports to
everyone — with a link into the account, not a share link; the link leads through
sign-in to the record; a customer without contacts still gets the share link."""

from __future__ import annotations

import re
from typing import Any

from tests.gateway.test_portal_accounts import people, sign_in_by_code
from tests.mail import Worker
from tests.running_stack import csrf
from tests.staff import StaffApi

LINES = [{"description": "Gutter guards", "quantity": 1, "unit_price": "240"}]
FRANCES = "frances@northwind.example"
SAM = "sam@northwind.example"


def invited(staff: StaffApi, worker: Worker, customer_id: str, name: str, email: str, role: str) -> None:
    contact = staff.created(f"/customers/{customer_id}/contacts",
                            {"name": name, "email": email, "role": role})
    assert staff.post(f"/customers/{customer_id}/contacts/{contact['id']}/invite").status_code == 200
    worker.queued(1)  # the invitation, not delivered


def body(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_records_are_mailed_to_the_contacts_who_may_read_them_with_a_link_into_their_account(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    customer_id = people(staff, worker, email=FRANCES)["customer"]["id"]  # the owner, invited
    invited(staff, worker, customer_id, "Sam Lee", SAM, "member")
    staff.created(f"/customers/{customer_id}/contacts",  # added, never invited: never mailed
                  {"name": "Una Known", "email": "una@northwind.example", "role": "owner"})

    sent = staff.sent_estimate(LINES, title="Gutter guards", customer_id=customer_id)
    estimate_path = f"/portal/estimates/{sent['estimate']['id']}"
    assert [e["to"] for e in sent["customer_email"]["emails"]] == [FRANCES]  # money: the owner only
    worker.run_queued(1)
    [estimate_mail] = mail_server.wait_for(1)
    assert estimate_mail["To"].addresses[0].addr_spec == FRANCES
    assert estimate_path in body(estimate_mail) and "/portal/fsm/" not in body(estimate_mail)
    assert "sign in if you are asked to" in body(estimate_mail)
    assert sent["token"] not in estimate_mail.as_string()  # the share link is staff's, not mailed

    job = staff.work_order(customer_id=customer_id, title="Gutters")
    report = staff.created("/service-reports", {"work_order_id": job["id"]})
    completed = staff.created(f"/service-reports/{report['id']}/complete")
    assert sorted(e["to"] for e in completed["customer_email"]["emails"]) == [FRANCES, SAM]  # everyone
    worker.run_queued(2)
    report_mails = mail_server.wait_for(3)[1:]
    assert {m["To"].addresses[0].addr_spec for m in report_mails} == {FRANCES, SAM}
    assert all(f"/portal/service-reports/{report['id']}" in body(m) for m in report_mails)

    # The emailed link, opened signed out, leads through sign-in to the record.
    asked = portal.get(estimate_path)
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/portal/sign-in")
    signed = sign_in_by_code(portal, worker, mail_server, FRANCES, count=4)
    assert signed.status_code == 303 and signed.headers["Location"].endswith(estimate_path)
    opened = portal.get(estimate_path)
    assert opened.status_code == 200 and "Gutter guards" in opened.text
    # Once only: the next sign-in goes to the dashboard.
    assert portal.post("/portal/sign-out", data={"csrf_token": csrf(opened.text)}).status_code == 303
    again = sign_in_by_code(portal, worker, mail_server, FRANCES, count=5)
    assert again.headers["Location"].endswith("/portal")


def test_a_customer_without_portal_contacts_gets_the_share_link_at_its_own_address(
        staff: StaffApi, worker: Worker, mail_server: Any) -> None:
    customer = staff.created("/customers", {"name": "Dana Reyes", "email": "dana@reyes.example"})
    sent = staff.sent_estimate(LINES, customer_id=customer["id"])
    assert [e["to"] for e in sent["customer_email"]["emails"]] == ["dana@reyes.example"]
    worker.run_queued(1)
    [mail] = mail_server.wait_for(1)
    assert re.search(r"/portal/fsm/estimate/est_[0-9a-f]+", body(mail))


def test_only_pages_of_the_account_are_returned_to_after_sign_in(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    people(staff, worker, email=FRANCES)
    assert portal.get("/portal/team").status_code == 303  # asked for, but not a record or section
    signed = sign_in_by_code(portal, worker, mail_server, FRANCES)
    assert signed.headers["Location"].endswith("/portal")
