"""Where a signed-in contact finds each kind of record in the portal: the address a
record's email gives its customer's contacts, served by ``gateway/portal/accounts.py``.
A contact who is not signed in is asked to, then taken there."""

from __future__ import annotations

ACCOUNT_PATHS = {
    "work_order": "/portal/work-orders/{id}",
    "estimate": "/portal/estimates/{id}",
    "service_report": "/portal/service-reports/{id}",
    "project": "/portal/projects/{id}",  # a shared project (its digest email links here)
    "information_request": "/portal/information-requests/{id}",  # gateway/portal/information_requests.py
}


def account_url(base_url: str, entity_type: str, record_id: str) -> str:
    return base_url.rstrip("/") + ACCOUNT_PATHS[entity_type].format(id=record_id)
