"""What each email says, as data: the template, its context and the outbox fields, made
from what the owners give (the record as documents puts it in the command, identity's
workspace and customer). Pure functions; the service does the lookups and the queueing."""

from __future__ import annotations

from typing import Any

from porchlight.contracts.notifications import IN_ACCOUNT_ONLY
from porchlight.contracts.portal_paths import account_url
from porchlight.runtime import i18n
from porchlight.runtime.settings import get_settings


def branding(workspace: dict[str, Any]) -> dict[str, Any]:
    """What every template may show of the workspace."""
    return {key: workspace.get(key) for key in ("name", "brand_colour", "logo_url", "timezone", "locale")}


def sender(workspace: dict[str, Any]) -> dict[str, Any]:
    return {"sender_name": workspace.get("sender_name") or workspace["name"],
            "reply_to": workspace.get("reply_to")}


def record_context(entity_type: str, view: dict[str, Any]) -> dict[str, Any]:
    """The record as the customer's emails name it."""
    if entity_type == "estimate":
        return {"estimate": {key: view.get(key) for key in
                             ("number", "title", "total_minor", "currency", "valid_until", "expires_at")}}
    if entity_type == "information_request":
        return {"request": {key: view.get(key) for key in ("number", "title", "project_name")}}
    return {"report": {
        **{key: view.get(key) for key in ("number", "work_order_number", "work_order_title",
                                          "signed_by", "signed_at", "certificate_id")},
    }}


def to_customer(template: str, entity_type: str, view: dict[str, Any],
                customer: dict[str, Any]) -> dict[str, Any]:
    """The outbox fields of an email to the record's customer (the context under
    ``context``)."""
    context = record_context(entity_type, view)
    if template == "service_report_signed_copy":
        context["verify_url"] = (f"{get_settings().portal_base_url.rstrip('/')}"
                                 f"/verify/{view.get('certificate_id')}")
    return {
        "template": template, "audience": "customer",
        "recipient": customer["email"], "recipient_name": customer.get("name"),
        "customer_id": customer["id"], "language": customer.get("preferred_language"),
        "entity_type": entity_type, "entity_id": view["id"], "entity_number": view.get("number"),
        "context": context,
    }


def to_reader(template: str, entity_type: str, view: dict[str, Any], customer: dict[str, Any],
              contact: dict[str, Any]) -> dict[str, Any]:
    """The outbox fields of an email about a record to one of its customer's portal
    contacts: the same email as the customer's, to the contact, with a link into their
    account (no secret: it opens nothing until they sign in). It is written in the
    contact's own language when they chose one, else in their customer's."""
    fields = to_customer(template, entity_type, view, customer)
    fields["context"].update(link=account_url(get_settings().portal_base_url, entity_type, view["id"]),
                             in_account=True)
    return {**fields, "recipient": contact["email"], "recipient_name": contact["name"],
            "language": reader_language(contact, customer)}


def reader_language(contact: dict[str, Any], customer: dict[str, Any]) -> str | None:
    """A portal contact's language for an email: their own when they chose one Porchlight
    is written in, else their customer's (``mail.render`` falls back to the workspace's)."""
    chosen = contact.get("language")
    return chosen if i18n.shipped(chosen) else customer.get("preferred_language")


def to_project_reader(digest: dict[str, Any], changes: dict[str, Any], customer: dict[str, Any],
                      contact: dict[str, Any]) -> dict[str, Any]:
    """The outbox fields of a project digest (``services.notifications.digests``) to one of
    the customer's portal contacts: what changed (``digests.summary``) and a link into their
    account, ``/portal/projects/<id>`` — no secret: it opens nothing until they sign in."""
    return {
        "template": "project_digest", "audience": "customer",
        "recipient": contact["email"], "recipient_name": contact["name"], "customer_id": customer["id"],
        "language": reader_language(contact, customer),
        "entity_type": "project", "entity_id": digest["project_id"],
        "entity_number": digest.get("project_number"),
        "context": {"project": {"number": digest.get("project_number"), "name": digest.get("project_name")},
                    "changes": changes, "in_account": True,
                    "link": account_url(get_settings().portal_base_url, "project", digest["project_id"])},
    }


def to_contact(command: dict[str, Any]) -> dict[str, Any]:
    """The outbox fields of a portal contact's invitation or sign-in email."""
    return {
        "template": command["template"], "audience": "customer",
        "recipient": command["email"], "recipient_name": command["name"],
        "customer_id": command["customer_id"], "language": command["language"],
        "entity_type": "contact", "entity_id": command["contact_id"], "entity_number": None,
        "context": {"contact": {"first_name": command["name"].split()[0], "company": command["company"],
                                "expires_at": command["expires_at"]}},
    }


def to_office(address: str, item: dict[str, Any], occurred_at: str) -> dict[str, Any]:
    """The outbox fields of the email to one notification address about an inbox item
    (the fields ``services.notifications.inbox`` made)."""
    return {
        "template": f"office_{item['kind']}", "audience": "office",
        "recipient": address, "recipient_name": None, "customer_id": None, "language": None,
        "entity_type": item["entity_type"], "entity_id": item["entity_id"],
        "entity_number": item.get("entity_number"),
        "context": {"item": {**item, "occurred_at": occurred_at}},
    }


def customer_reason(notify: bool | None, customer: dict[str, Any] | None,
                    readers: list[dict[str, Any]], entity_type: str | None = None) -> str | None:
    """Why the customer is not emailed about a record just shared, or ``None`` to email
    them. ``notify`` is staff's choice; unsaid, a customer with portal contacts who may
    read the record (``readers``) or else with an address is emailed; a record seen only in
    the account (``IN_ACCOUNT_ONLY``) only to such contacts."""
    if notify is False:
        return "Not asked to email the customer."
    if customer is None:
        return "The record has no customer to email."
    if entity_type in IN_ACCOUNT_ONLY and not readers:
        return "The customer has no portal contact who may read this record."
    if not readers and not customer.get("email"):
        return "The customer has no email address and no portal contact who may read this record."
    return None
