"""Unit tests: a service class with every dependency replaced (``worker_factory``).

The repository is the real one on the embedded in-memory store, so the queries under
test are the queries that run; the event dispatcher is a mock whose calls we inspect, and
which checks every payload against its event's model as the real one does
(``porchlight.contracts.events.check``): a test that makes a service send a wrong fact fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nameko.testing.services import worker_factory

from porchlight.contracts import events, share_tokens
from porchlight.contracts.errors import NotFound
from porchlight.contracts.snapshots import digest
from porchlight.kit import storage


@pytest.fixture
def make_worker() -> Iterator[Callable[..., Any]]:
    aliases: list[str] = []

    def make(service_cls: type, alias: str, repository_cls: type) -> Any:
        storage.connect(alias, db_prefix=f"unit_{uuid.uuid4().hex[:10]}_")
        aliases.append(alias)
        repo = repository_cls()
        repo.ensure_indexes()
        worker = worker_factory(service_cls, repo=repo)
        if hasattr(worker, "dispatch"):
            worker.dispatch.side_effect = lambda event_type, data: events.check(
                service_cls.name, event_type, data)
        return worker

    yield make
    for alias in aliases:
        storage.drop(alias)


CUSTOMER = "c" * 24  # the one customer the fake identity neighbour knows
WORKSPACE_SETTINGS = {"currency": "EUR", "timezone": "Europe/Amsterdam"}


@pytest.fixture
def documents(make_worker: Callable[..., Any]) -> Any:
    """The documents service with fake neighbours: identity knows the workspace settings
    and one customer (``CUSTOMER``); signatures keeps, in ``worker.evidence``, everything
    it was asked to record, with the certificate it answered; sharing mints a new link
    each time (kept in ``worker.links``, with the customer documents named); notifications
    queues every email it is asked for (the commands in ``worker.emails``)."""
    from services.documents import ALIAS
    from services.documents.service import DocumentsService
    from services.documents.store import DocumentsRepository

    worker = make_worker(DocumentsService, ALIAS, DocumentsRepository)
    worker.evidence = []

    def record(workspace_id: str, data: dict) -> dict[str, str]:
        worker.evidence.append(data)
        return {"certificate_id": "cert_" + "1" * 32, "snapshot_sha256": digest(data["snapshot"])}

    def get_customer(workspace_id: str, customer_id: str) -> dict[str, str]:
        if customer_id != CUSTOMER:
            raise NotFound("No such customer.")
        return {"id": customer_id, "workspace_id": workspace_id}

    worker.links, worker.emails = [], []

    def mint(workspace_id: str, actor: str, request: dict, ends_at: str | None,
             customer_id: str | None) -> dict[str, Any]:
        kind = request["entity"]["type"]
        raw = share_tokens.mint(kind)
        link = {"token": raw, "url": share_tokens.portal_url("http://portal.test", kind, raw),
                "share_token": {"id": uuid.uuid4().hex[:24], "entity": request["entity"],
                                "ends_at": ends_at, "customer_id": customer_id}}
        worker.links.append(link)
        return link

    def email_customer(workspace_id: str, actor: str, command: dict) -> dict[str, Any]:
        worker.emails.append(command)
        if command.get("notify") is False:
            return {"status": "skipped", "reason": "Not asked to email the customer.", "email": None,
                    "emails": []}
        return {"status": "queued", "reason": None, "email": {"id": uuid.uuid4().hex[:24]}}

    worker.signatures.record_evidence.side_effect = record
    worker.sharing.replace_token.side_effect = mint
    worker.sharing.mint_token.side_effect = mint
    worker.notifications.email_customer.side_effect = email_customer
    worker.identity.get_workspace.return_value = dict(WORKSPACE_SETTINGS)
    worker.identity.get_customer.side_effect = get_customer
    return worker


def dispatched(worker: Any) -> list[str]:
    """The names of the events a worker dispatched, in order."""
    return [call.args[0] for call in worker.dispatch.call_args_list]
