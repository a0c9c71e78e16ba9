"""A project's facts in notifications (``worker_factory``, fake neighbours): a customer's
comment is one inbox item and its office emails, once per comment; the team's comments, new
documents and new statuses reach the customers the project is shared with as a digest, at
most one per project and customer an hour — the first change at once, the rest by the sweep
once the hour is up (the hour is moved by back-dating the digest, never by waiting)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.runtime.settings import get_settings
from services.notifications import digests
from services.notifications.models import ALIAS, Email, InboxItem, ProjectDigest
from services.notifications.repository import NotificationsRepository
from services.notifications.service import NotificationsService

WS = "a" * 24
PRJ = "9" * 24
DANA_CO, LEE_CO = "c" * 24, "d" * 24
WORKSPACE = {"id": WS, "name": "Acme", "brand_colour": "#0f766e", "logo_url": None,
             "timezone": "Europe/Paris", "locale": "en-GB", "sender_name": None, "reply_to": None,
             "notification_addresses": ["office@acme.example", "pm@acme.example"]}
CUSTOMERS = {DANA_CO: {"id": DANA_CO, "name": "Dana & Co", "email": "billing@dana.example",
                       "preferred_language": None},
             LEE_CO: {"id": LEE_CO, "name": "Lee Ltd", "email": "lee@lee.example",
                      "preferred_language": "fr"}}
CONTACTS = {DANA_CO: [{"id": "1" * 24, "name": "Dana", "email": "dana@dana.example", "role": "owner",
                       "language": None},
                      {"id": "2" * 24, "name": "Robin", "email": "robin@dana.example", "role": "member",
                       "language": "de"}],
            LEE_CO: [{"id": "3" * 24, "name": "Lee", "email": "lee@lee.example", "role": "owner",
                      "language": None}]}


@pytest.fixture
def notifications(make_worker: Any) -> Any:
    """Notifications with identity knowing the workspace and two customers with their
    contacts, and sharing the project's live shares (``worker.shared``: customer ids)."""
    worker = make_worker(NotificationsService, ALIAS, NotificationsRepository)
    worker.shared = [DANA_CO]
    worker.sharing.resource_shares.side_effect = lambda ws, kind, project: {
        "shares": [{"customer_id": c, "level": "comment"} for c in worker.shared] if (ws, kind, project) == (
            WS, "project", PRJ) else []}
    worker.identity.get_workspace.return_value = WORKSPACE
    worker.identity.record_readers.side_effect = lambda ws, customer, roles: {
        "customer": CUSTOMERS[customer], "contacts": CONTACTS[customer]}
    worker.tasks.enqueue.return_value = True
    return worker


def fact(**fields: Any) -> dict[str, Any]:
    return {"workspace_id": WS, "actor": "api_key:1", "occurred_at": isoformat(utcnow()), "project_id": PRJ,
            **fields}


def comment(n: int = 1, *, by: str = "staff", **fields: Any) -> dict[str, Any]:
    author = {"customer_id": DANA_CO, "actor": "contact:" + "1" * 24} if by == "contact" else {}
    return fact(**{"comment_id": f"{n:024x}", "author_kind": by,
                   "author_name": "Dana" if by == "contact" else "Sam", "project_number": "PRJ-0001",
                   "project_name": "Kitchen", "excerpt": "When do you start?", **author, **fields})


def file_added(n: int = 1, name: str = "plan.pdf") -> dict[str, Any]:
    return fact(change="file_added", item_id=f"{n + 100:024x}", file_name=name,
                project_number="PRJ-0001", project_name="Kitchen")


def status(value: str, **fields: Any) -> dict[str, Any]:
    return fact(fields=["progress", "status"], status=value, project_number="PRJ-0001",
                project_name="Kitchen", **fields)


def digest_emails(**filters: Any) -> list[Email]:
    return list(Email.objects(template="project_digest", **filters).order_by("created_at", "id"))


def an_hour_passes() -> None:
    """Back-date every digest by the hour it waits between two emails."""
    for digest in ProjectDigest.objects:
        moved = {"set__next_at": digest.next_at - digests.DIGEST_EVERY}
        if digest.last_sent_at:
            moved["set__last_sent_at"] = digest.last_sent_at - digests.DIGEST_EVERY
        ProjectDigest.objects(id=digest.id).update(**moved)


# -- a customer's comment: the team's inbox ---------------------------------------------------
def test_a_customers_comment_makes_one_inbox_item_and_an_email_to_each_office_address(notifications):
    notifications.on_project_comment_posted(comment(by="contact"))
    [item] = notifications.list_inbox(WS, {})["items"]
    assert item["kind"] == "project_comment"
    assert item["entity"] == {"type": "project", "id": PRJ, "number": "PRJ-0001"}
    assert item["title"] == "New comment on project PRJ-0001"
    assert item["summary"] == "Dana commented on project PRJ-0001 “Kitchen”: “When do you start?”"
    assert item["details"] == {"signer_name": "Dana"}
    office = Email.objects(template="office_project_comment")
    assert sorted(e.recipient for e in office) == ["office@acme.example", "pm@acme.example"]
    assert all(e.audience == "office" and e.entity_type == "project" for e in office)
    assert office[0].subject == "New comment on project PRJ-0001 — Acme"
    assert "When do you start?" in office[0].text_body
    assert digest_emails() == []  # the customer's own words are no news to them


def test_the_same_comment_delivered_twice_makes_one_item_and_one_email_per_address(notifications):
    posted = comment(by="contact")
    notifications.on_project_comment_posted(posted)
    notifications.on_project_comment_posted(dict(posted))
    assert InboxItem.objects(workspace_id=WS).count() == 1
    assert Email.objects(template="office_project_comment").count() == 2
    notifications.on_project_comment_posted(comment(2, by="contact"))  # another comment: another item
    assert InboxItem.objects(workspace_id=WS).count() == 2


def test_the_office_email_follows_the_workspaces_notification_settings(notifications):
    notifications.identity.get_workspace.return_value = {**WORKSPACE, "notification_addresses": [],
                                                         "locale": "fr-FR"}
    notifications.on_project_comment_posted(comment(by="contact"))
    assert InboxItem.objects.count() == 1 and Email.objects.count() == 0
    notifications.identity.get_workspace.return_value = {**WORKSPACE, "locale": "fr-FR"}
    notifications.on_project_comment_posted(comment(2, by="contact"))
    [email, _] = Email.objects(template="office_project_comment")
    assert email.language == "fr" and email.subject == "Nouveau commentaire sur le projet PRJ-0001 — Acme"


def test_a_staff_comment_makes_no_inbox_item(notifications):
    notifications.on_project_comment_posted(comment(by="staff"))
    assert InboxItem.objects.count() == 0
    assert Email.objects(audience="office").count() == 0


# -- the customers' digest ------------------------------------------------------------------
def test_the_first_change_goes_at_once_to_each_portal_contact_with_a_link_into_the_portal(notifications):
    notifications.on_project_comment_posted(comment())
    portal = get_settings().portal_base_url.rstrip("/")
    emails = digest_emails()
    assert [e.recipient for e in emails] == ["dana@dana.example", "robin@dana.example"]
    dana = emails[0]
    assert dana.customer_id == DANA_CO and dana.entity_type == "project" and dana.entity_id == PRJ
    assert dana.subject == "Updates on project “Kitchen” from Acme"
    assert "- 1 new comment from the team\n" in dana.text_body
    assert f"{portal}/portal/projects/{PRJ}\n" in dana.text_body
    assert f'href="{portal}/portal/projects/{PRJ}"' in dana.html_body
    # No token anywhere: not in the email, not in what the delivery task is handed.
    for body in (dana.text_body, dana.html_body):
        assert not re.search(r"\b[a-z]+_[0-9a-f]{40}\b", body) and "/s/" not in body
    assert dana.link is None
    assert all(call.args[2] is None for call in notifications.tasks.enqueue.call_args_list)


def test_a_second_change_within_the_hour_waits_and_the_sweep_then_sends_both(notifications):
    notifications.on_project_comment_posted(comment(1))
    assert len(digest_emails(recipient="dana@dana.example")) == 1
    notifications.on_project_comment_posted(comment(2))
    notifications.on_project_activity(file_added(name="plan.pdf"))
    notifications.on_project_updated(status("completed"))
    assert len(digest_emails(recipient="dana@dana.example")) == 1  # within the hour: nothing more
    assert notifications.sweep_emails()["digests_sent"] == 0  # nor from the sweep, before the hour

    an_hour_passes()
    assert notifications.sweep_emails()["digests_sent"] == 1
    first, second = digest_emails(recipient="dana@dana.example")
    assert "1 new comment from the team" in first.text_body and "plan.pdf" not in first.text_body
    assert second.text_body.count("\n- ") == 3
    for line in ("- 1 new comment from the team", "- New document: plan.pdf", "- Status: Completed"):
        assert line in second.text_body
    assert notifications.sweep_emails()["digests_sent"] == 0  # nothing waits now
    an_hour_passes()
    assert notifications.sweep_emails()["digests_sent"] == 0  # an hour later: nothing new to say


def test_changes_of_one_kind_collapse_and_plural_forms_are_right(notifications):
    notifications.on_project_activity(file_added(1, "first.pdf"))  # sent at once
    for n in (1, 2, 3):
        notifications.on_project_comment_posted(comment(n))
    notifications.on_project_updated(status("on_hold"))
    notifications.on_project_updated(status("active"))
    an_hour_passes()
    notifications.sweep_emails()
    _, dana = digest_emails(recipient="dana@dana.example")
    assert "- 3 new comments from the team\n" in dana.text_body
    assert "- Status: Active\n" in dana.text_body and "On hold" not in dana.text_body


def test_after_a_quiet_hour_the_next_change_goes_at_once_again(notifications):
    notifications.on_project_comment_posted(comment(1))
    an_hour_passes()
    notifications.on_project_activity(file_added())
    assert len(digest_emails(recipient="dana@dana.example")) == 2


def test_a_change_delivered_twice_is_told_once(notifications):
    notifications.on_project_comment_posted(comment(1))
    notifications.on_project_comment_posted(comment(1))  # redelivered after its digest went
    notifications.on_project_comment_posted(comment(2))
    notifications.on_project_comment_posted(comment(2))  # redelivered while it waits
    an_hour_passes()
    notifications.sweep_emails()
    first, second = digest_emails(recipient="dana@dana.example")
    assert "- 1 new comment from the team\n" in second.text_body


def test_two_customers_sharing_the_project_each_get_their_own_digest(notifications):
    notifications.shared = [DANA_CO, LEE_CO]
    notifications.on_project_comment_posted(comment())
    by_customer = {e.customer_id: e.recipient for e in digest_emails()}
    assert set(by_customer) == {DANA_CO, LEE_CO}
    assert [e.recipient for e in digest_emails(customer_id=LEE_CO)] == ["lee@lee.example"]
    assert ProjectDigest.objects.count() == 2


def test_a_customer_whose_share_stopped_gets_nothing(notifications):
    notifications.shared = [DANA_CO, LEE_CO]
    notifications.on_project_comment_posted(comment(1))
    notifications.on_project_comment_posted(comment(2))  # waits for the hour
    notifications.shared = [DANA_CO]  # Lee's share stops before it is sent
    an_hour_passes()
    assert notifications.sweep_emails()["digests_sent"] == 1
    assert len(digest_emails(customer_id=LEE_CO)) == 1 and len(digest_emails(customer_id=DANA_CO)) == 4
    assert ProjectDigest.objects.get(customer_id=LEE_CO).pending == []
    # And a change made while the project is shared with nobody is told to nobody.
    notifications.shared = []
    an_hour_passes()
    notifications.on_project_activity(file_added())
    assert len(digest_emails()) == 5


def test_each_reader_gets_their_own_language(notifications):
    notifications.shared = [DANA_CO, LEE_CO]
    notifications.on_project_comment_posted(comment(1))
    notifications.on_project_comment_posted(comment(2))
    notifications.on_project_updated(status("completed"))
    an_hour_passes()
    notifications.sweep_emails()
    lee = digest_emails(recipient="lee@lee.example")[-1]  # the customer's language: French
    assert lee.language == "fr"
    assert lee.subject == "Du nouveau sur le projet « Kitchen » – Acme"  # one line: spaces made plain
    assert "- 1 nouveau commentaire de l'équipe\n" in lee.text_body
    assert "- Statut\xa0: Terminée\n" in lee.text_body
    assert "Voici les nouveautés du projet PRJ-0001 «\xa0Kitchen\xa0»\xa0:" in lee.html_body
    robin = digest_emails(recipient="robin@dana.example")[-1]  # the contact's own choice: German
    assert robin.language == "de" and "- 1 neuer Kommentar vom Team\n" in robin.text_body
    dana = digest_emails(recipient="dana@dana.example")[-1]  # no choice anywhere: the workspace's
    assert dana.language == "en"


def test_french_plural_forms(notifications):
    notifications.shared = [LEE_CO]
    notifications.on_project_activity(file_added())
    for n in (1, 2):
        notifications.on_project_comment_posted(comment(n))
    an_hour_passes()
    notifications.sweep_emails()
    assert "- 2 nouveaux commentaires de l'équipe\n" in digest_emails()[-1].text_body


def test_a_hidden_comment_or_a_removed_file_is_not_announced(notifications):
    notifications.on_project_activity(file_added(1, "first.pdf"))  # sent at once
    notifications.on_project_comment_posted(comment(7))
    notifications.on_project_activity(file_added(2, "draft.pdf"))
    notifications.on_project_comment_hidden(fact(comment_id=f"{7:024x}"))
    notifications.on_project_activity(fact(change="file_removed", item_id=f"{102:024x}"))
    an_hour_passes()
    assert notifications.sweep_emails()["digests_sent"] == 0  # nothing is left to say
    assert len(digest_emails(recipient="dana@dana.example")) == 1
    assert ProjectDigest.objects.get().waiting is False


def test_what_a_customer_does_not_see_changed_makes_no_digest(notifications):
    notifications.on_project_updated(fact(fields=["progress"], status="active"))
    notifications.on_project_activity(fact(change="task_added", item_id="5" * 24))
    notifications.on_project_activity(fact(change="time_entry_logged", item_id="6" * 24))
    assert ProjectDigest.objects.count() == 0 and digest_emails() == []
    notifications.sharing.resource_shares.assert_not_called()


def test_two_senders_at_once_send_one_digest_and_lose_no_change(notifications):
    repo = notifications.repo.digests
    now = utcnow()
    change = {"cause": "c1", "kind": "staff_comment", "ref_id": "1"}
    digest = repo.record(WS, PRJ, DANA_CO, change, {}, now)
    assert repo.record(WS, PRJ, DANA_CO, dict(change), {}, now) is None  # the same cause: recorded once
    first, second = repo.claim(digest.id, now), repo.claim(digest.id, now)
    assert [c["cause"] for c in first.pending] == ["c1"] and second is None
    # A change recorded after the claim waits for the next hour, whoever asks first.
    repo.record(WS, PRJ, DANA_CO, {"cause": "c2", "kind": "file_added", "ref_id": "2"}, {}, now)
    assert repo.claim(digest.id, now + timedelta(minutes=59)) is None
    later = repo.claim(digest.id, now + digests.DIGEST_EVERY)
    assert [c["cause"] for c in later.pending] == ["c2"]


def test_a_neighbour_that_does_not_answer_leaves_the_changes_for_the_sweep(notifications):
    notifications.identity.record_readers.side_effect = RuntimeError("identity is down")
    notifications.on_project_comment_posted(comment())
    assert digest_emails() == [] and ProjectDigest.objects.get().waiting is True
    notifications.identity.record_readers.side_effect = lambda ws, customer, roles: {
        "customer": CUSTOMERS[customer], "contacts": CONTACTS[customer]}
    assert notifications.sweep_emails()["digests_sent"] == 1  # its hour was up already
    assert len(digest_emails()) == 2
