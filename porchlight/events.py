"""The shape of a fact — what happened, in which workspace, by whom, when — and the list of
every fact the services announce, sorted by whether a customer could see it.

Events carry ids, never whole documents (nor a raw token or its hash), so a subscriber
that needs more asks the owner.

``CUSTOMER_VISIBLE`` is what the portal's read model subscribes to, and a promise: every
change to what a customer page shows — ``documents.get_work_order_for_customer``,
``get_estimate_for_customer`` (any choice of optional lines),
``get_service_report_for_customer`` and its signed PDF, ``identity.get_workspace`` and
``sharing.resolve_token``, and a certificate on ``/verify`` — is announced by one of these,
carrying the id key of every record whose customer view changed (``work_order_id``,
``estimate_id``, ``service_report_id``, ``share_token_id``, ``certificate_id``;
``workspace_updated`` changes every page's header). That includes the ways back: an
answer or signature whose evidence could not be recorded is undone (``*_undone``), a
conversion that failed half-way is released.
``INTERNAL`` holds the rest, each for a reason written beside it. A test reads every
``dispatch`` of the four services and fails on an event in neither list
(``tests/unit/test_events.py``).
"""

from __future__ import annotations

from typing import Any

from porchlight.clock import isoformat, utcnow

# source service (nameko's name) → event types whose payload names a changed customer view
CUSTOMER_VISIBLE: dict[str, tuple[str, ...]] = {
    "documents": (
        "work_order_updated",  # title, description, location (internal notes too: harmless)
        "work_order_status_changed",
        "estimate_updated",  # a new revision
        "estimate_sent",
        "estimate_expired",  # by the sweep, or by a command that found it past its date
        "estimate_approved",  # evidence recorded (an adopted late answer included)
        "estimate_rejected",
        "estimate_answer_undone",  # the claimed answer is gone again: evidence not recorded
        "estimate_converted",  # names the estimate and its new work order
        "estimate_conversion_released",  # converted → approved again after a failed attempt
        "service_report_completed",  # from now on customers can open it
        "service_report_signed",
        "service_report_signature_undone",
        "signed_pdf_stored",  # the signed PDF can be downloaded
    ),
    "identity": (
        "workspace_updated",  # name, colour, logo, currency, time zone: every page's header
    ),
    "sharing": (
        "share_token_revoked",  # its grant ends (by revoke, rotate or replace)
    ),
    "signatures": (
        "artifact_attached",  # a certificate's page lists the signed PDF's hash
    ),
}

# source service → event types no customer view depends on
INTERNAL: dict[str, tuple[str, ...]] = {
    "documents": (
        # A new record is in nobody's copy yet: its first view fetches it.
        "work_order_created",
        "estimate_created",
        "service_report_created",
        # Only a draft report changes these ways, and a draft is never shown to customers;
        # what they will see is frozen by service_report_completed.
        "service_report_updated",
        "service_report_attachment_added",
    ),
    "identity": (
        "workspace_created",
        "api_key_created",
        "api_key_revoked",
        "customer_created",
        # Customer accounts: signed-in pages ask identity for the session on every
        # request, so no reader keeps anything these change.
        "contact_created",
        "contact_updated",
        "contact_invited",
        "contact_joined",
        "contact_signed_in",
        "contact_signed_out",
        "contact_password_set",
        "contact_access_removed",
    ),
    "sharing": (
        # A new link grants nothing any reader holds; the links it replaces are announced
        # as share_token_revoked, one event each.
        "share_token_minted",
        "share_token_rotated",
    ),
    "signatures": (
        # The answer's record; the owning record's own event (estimate_approved, …)
        # follows once it is attached.
        "evidence_recorded",
    ),
}


def fact(workspace_id: str, actor: str, **ids: Any) -> dict[str, Any]:
    payload = {"workspace_id": workspace_id, "actor": actor, "occurred_at": isoformat(utcnow())}
    payload.update(ids)
    return payload
