"""The owners' team page through Flask's test client, every service on real RabbitMQ and
the invitation delivered by the worker's real task to a real SMTP server: an owner adds
and invites a member, who signs in from the email and manages nothing; roles change;
access is removed at once; a company never loses its last owner; bad input is refused
with a message and adds no one."""

from __future__ import annotations

import re
from typing import Any

from tests.gateway.test_portal_accounts import csrf, emailed, people, sign_in_by_code
from tests.mail import Worker
from tests.staff import StaffApi

TEAM = "/portal/team"


def team_ids(html: str) -> list[str]:
    return re.findall(r'action="/portal/team/([0-9a-f]{24})/remove"', html)


def post(client: Any, url: str, data: dict[str, str] | None = None) -> Any:
    token = csrf(client.get("/portal/profile").text)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def test_an_owner_invites_a_member_who_signs_in_and_manages_nothing(
        staff: StaffApi, portal: Any, portal_app: Any, worker: Worker, mail_server: Any) -> None:
    frances = people(staff, worker)["contact"]
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    page = portal.get(TEAM)
    assert page.status_code == 200 and f'href="{TEAM}"' in page.text
    assert "Frances Marsh" in page.text and "(you)" in page.text
    assert page.headers["Cache-Control"] == "no-store"

    added = post(portal, TEAM, {"name": "Sam Lee", "email": "sam@northwind.example", "role": "member"})
    assert added.status_code == 303 and added.headers["Location"].endswith("/portal/team?done=added")
    page = portal.get(added.headers["Location"])
    assert "Invitation sent" in page.text and "Sam Lee" in page.text
    message_token, _ = emailed(worker, mail_server, 2)
    assert mail_server.wait_for(2)[-1]["To"] == "Sam Lee <sam@northwind.example>"

    sam = portal_app.test_client()
    link = sam.get(f"/portal/sign-in/{message_token}")
    assert sam.post(f"/portal/sign-in/{message_token}",
                    data={"csrf_token": csrf(link.text)}).status_code == 303
    home = sam.get("/portal")
    assert home.status_code == 200 and f'href="{TEAM}"' not in home.text
    refused = sam.get(TEAM)
    assert refused.status_code == 403 and "Only an owner" in refused.text
    assert post(sam, f"{TEAM}/{frances['id']}/remove").status_code == 403
    assert post(sam, TEAM, {"name": "Kit", "email": "kit@northwind.example"}).status_code == 403
    assert staff.get(f"/customers/{frances['customer_id']}/contacts/{frances['id']}").json["has_access"]

    sam_id = next(i for i in team_ids(portal.get(TEAM).text) if i != frances["id"])
    # Promoted, Sam sees the team page; removed, Sam is signed out at the next request.
    assert post(portal, f"{TEAM}/{sam_id}/role", {"role": "owner"}).status_code == 303
    assert sam.get(TEAM).status_code == 200
    assert post(portal, f"{TEAM}/{sam_id}/remove").status_code == 303
    assert sam.get("/portal").headers["Location"].endswith("/portal/sign-in")
    assert "Access removed" in portal.get(TEAM).text


def test_the_last_owner_stays_and_bad_input_adds_no_one(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    frances = people(staff, worker)["contact"]
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    for action, data in ((f"{TEAM}/{frances['id']}/role", {"role": "member"}),
                         (f"{TEAM}/{frances['id']}/remove", {})):
        refused = post(portal, action, data)
        assert refused.status_code == 409, action
        assert "at least one owner" in refused.text
    assert portal.get("/portal").status_code == 200  # still signed in, still an owner

    cases = [
        ({"name": "", "email": "a@northwind.example"}, 422, 'id="name-error"'),
        ({"name": "Kit", "email": "not an address"}, 422, 'id="email-error"'),
        ({"name": "Kit", "email": "kit@northwind.example", "role": "admin"}, 422, 'id="role-error"'),
        ({"name": "Twin", "email": "FRANCES@northwind.example"}, 409, 'id="email-error"'),
    ]
    for data, status, marker in cases:
        reply = post(portal, TEAM, data)
        assert reply.status_code == status, data
        assert marker in reply.text and 'aria-invalid="true"' in reply.text, data
        assert data["name"] in reply.text  # what they typed is kept
    assert post(portal, f"{TEAM}/{frances['id']}/role", {"role": "boss"}).status_code == 422
    assert team_ids(portal.get(TEAM).text) == [frances["id"]]
    assert len(staff.get(f"/customers/{frances['customer_id']}/contacts").json["contacts"]) == 1

    # A form without its CSRF token changes nothing; a GET never removes anyone.
    assert portal.post(TEAM, data={"name": "Kit", "email": "kit@northwind.example"}).status_code == 400
    assert portal.get(f"{TEAM}/{frances['id']}/remove").status_code == 405
    assert team_ids(portal.get(TEAM).text) == [frances["id"]]


def test_an_owner_reaches_only_their_own_companys_contacts(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    frances = people(staff, worker)["contact"]
    elsewhere = staff.created("/customers", {"name": "Southwind", "email": "s@southwind.example"})
    olive = staff.created(f"/customers/{elsewhere['id']}/contacts",
                          {"name": "Olive", "email": "olive@southwind.example", "role": "owner"})
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    assert "Olive" not in portal.get(TEAM).text
    for action in ("remove", "invite", "role"):
        assert post(portal, f"{TEAM}/{olive['id']}/{action}", {"role": "member"}).status_code == 404
    assert staff.get(f"/customers/{elsewhere['id']}/contacts/{olive['id']}").json["has_access"]


def test_a_full_invitation_window_is_429_with_retry_after_and_adds_no_one(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any, monkeypatch: Any) -> None:
    from services.identity.accounts import rules

    frances = people(staff, worker)["contact"]
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    monkeypatch.setattr(rules, "OWNER_INVITATIONS_PER_WINDOW", 1)
    assert post(portal, TEAM, {"name": "Sam", "email": "sam@northwind.example"}).status_code == 303
    refused = post(portal, TEAM, {"name": "Kit", "email": "kit@northwind.example", "role": "member"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "invitations in the last 24 hours" in refused.text and 'value="Kit"' in refused.text
    assert "Kit" not in portal.get(TEAM).text and len(team_ids(portal.get(TEAM).text)) == 2


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    form = html[html.index(f'action="{action}"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_a_team_form_sent_twice_acts_once(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    """A double click, or the page sent again from the browser's history: the form's
    one-time key makes the second the same answer, not a second teammate or invitation."""
    frances = people(staff, worker)["contact"]
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    hidden = form_fields(portal.get(TEAM).text, TEAM)
    assert set(hidden) == {"csrf_token", "form_key"} and hidden["form_key"].startswith("form-")
    sam = {"name": "Sam Lee", "email": "sam@northwind.example", "role": "member", **hidden}
    first, second = (portal.post(TEAM, data=sam) for _ in range(2))
    assert first.status_code == second.status_code == 303, second.text
    assert second.headers["Location"] == first.headers["Location"]
    contacts = staff.get(f"/customers/{frances['customer_id']}/contacts").json["contacts"]
    assert sorted(c["name"] for c in contacts) == ["Frances Marsh", "Sam Lee"]
    # A fresh form is a new request: the same address is now refused.
    again = {**sam, **form_fields(portal.get(TEAM).text, TEAM)}
    assert portal.post(TEAM, data=again).status_code == 409

    sam_id = next(c["id"] for c in contacts if c["name"] == "Sam Lee")
    invite = f"{TEAM}/{sam_id}/invite"
    hidden = form_fields(portal.get(TEAM).text, invite)
    before = staff.get(f"/customers/{frances['customer_id']}/contacts/{sam_id}").json["invited_at"]
    assert [portal.post(invite, data=hidden).status_code for _ in range(2)] == [303, 303]
    after = staff.get(f"/customers/{frances['customer_id']}/contacts/{sam_id}").json["invited_at"]
    assert after != before
    # One new invitation, not two: the invitation stamped once is the one still in force.
    assert portal.post(invite, data=hidden).status_code == 303
    assert staff.get(f"/customers/{frances['customer_id']}/contacts/{sam_id}").json["invited_at"] == after


def test_a_big_team_is_shown_25_by_name_a_page_with_show_more(
        staff: StaffApi, portal: Any, worker: Worker, mail_server: Any) -> None:
    frances = people(staff, worker)["contact"]
    made = [staff.created(f"/customers/{frances['customer_id']}/contacts",
                          {"name": f"Teammate {n:02d}", "email": f"t{n:02d}@northwind.example"})
            for n in range(30)]
    sign_in_by_code(portal, worker, mail_server, frances["email"])
    first = portal.get(TEAM)
    more = re.search(r'href="(/portal/team\?cursor=[^"]+)">Show more</a>', first.text)
    assert first.status_code == 200 and more and len(team_ids(first.text)) == 25
    second = portal.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Show more" not in second.text and "Back to the start" in second.text
    shown = team_ids(first.text) + team_ids(second.text)
    assert sorted(shown) == sorted([frances["id"]] + [m["id"] for m in made])  # each once, by name
    names = re.findall(r'<p class="teammate-name"><strong>([^<]+)</strong>', first.text + second.text)
    assert names == sorted(names)
    refused = portal.get(f"{TEAM}?cursor=not-a-cursor")
    assert refused.status_code == 422 and "does not exist" in refused.text
    assert team_ids(refused.text) == team_ids(first.text)  # the first page, said so
