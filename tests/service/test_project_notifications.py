"""A shared project's facts over real RabbitMQ, through the real services: the team's
comment reaches the customer's portal contact as a digest, at once (the first change of the
hour), with a link into the portal; a second comment within the hour waits; the contact's
own comment becomes one inbox item for the team."""

from __future__ import annotations

import uuid
from typing import Any

from porchlight.runtime.settings import get_settings
from tests.grants import session
from tests.service.test_notifications import wait_for


def shared_project(rpc: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    ws = rpc.call("identity", "create_workspace", {"name": "Acme"}, "t")["workspace"]["id"]
    customer = rpc.call("identity", "create_customer", ws, "t",
                        {"name": "Dana & Co", "email": "office@dana.example"})
    contact = rpc.call("identity", "create_contact", ws, "t", customer["id"],
                       {"name": "Dana Fix", "email": f"dana-{uuid.uuid4().hex[:8]}@example.org",
                        "role": "owner"})
    rpc.call("identity", "invite_contact", ws, "t", customer["id"], contact["id"])
    project = rpc.call("documents", "create_project", ws, "t",
                       {"name": "Kitchen", "customer_id": customer["id"], "status": "active"})
    rpc.call("sharing", "share_resource", ws, "t", "project", project["id"], customer["id"], "comment")
    return ws, customer["id"], contact, project


def digests_to(rpc: Any, ws: str, address: str) -> list[dict[str, Any]]:
    emails = rpc.call("notifications", "list_emails", ws, {"recipient": address})["emails"]
    return [e for e in emails if e["template"] == "project_digest"]


def test_the_teams_comment_reaches_the_customer_as_a_digest_once_an_hour(rpc):
    ws, _, contact, project = shared_project(rpc)
    rpc.call("documents", "post_staff_comment", ws, "t", project["id"], {"body": "We start Monday.",
                                                                         "author_name": "Sam"})
    [email] = wait_for(lambda: digests_to(rpc, ws, contact["email"]))
    assert email["entity"] == {"type": "project", "id": project["id"], "number": project["number"]}
    detail = rpc.call("notifications", "get_email", ws, email["id"])
    assert "1 new comment from the team" in detail["text_body"]
    portal = get_settings().portal_base_url.rstrip("/")
    assert f"{portal}/portal/projects/{project['id']}" in detail["text_body"]
    assert detail["has_link"] is False

    # A second comment within the hour waits for the sweep: the first comment's digest is all.
    rpc.call("documents", "post_staff_comment", ws, "t", project["id"], {"body": "Tiles arrive Tuesday.",
                                                                         "author_name": "Sam"})
    assert not wait_for(lambda: len(digests_to(rpc, ws, contact["email"])) > 1, seconds=1.0)
    assert rpc.call("notifications", "sweep_emails")["digests_sent"] == 0


def test_the_contacts_comment_is_one_item_in_the_teams_inbox(rpc):
    ws, customer_id, contact, project = shared_project(rpc)
    capability = session(ws, customer_id, contact_id=contact["id"])
    comment = {"body": "Can you start earlier?", "key": "form-" + uuid.uuid4().hex}
    rpc.call("documents", "post_customer_comment", capability, project["id"], comment)
    rpc.call("documents", "post_customer_comment", capability, project["id"], comment)  # a double click
    [item] = wait_for(lambda: rpc.call("notifications", "list_inbox", ws, {})["items"])
    assert item["kind"] == "project_comment"
    assert item["entity"] == {"type": "project", "id": project["id"], "number": project["number"]}
    assert item["summary"] == (f"Dana Fix commented on project {project['number']} “Kitchen”: "
                               "“Can you start earlier?”")
    assert not wait_for(lambda: len(rpc.call("notifications", "list_inbox", ws, {})["items"]) > 1,
                        seconds=1.0)
    assert digests_to(rpc, ws, contact["email"]) == []  # their own words are no news to them
