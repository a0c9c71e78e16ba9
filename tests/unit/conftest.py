"""Unit tests: a service class with every dependency replaced (``worker_factory``).

The repository is the real one on the embedded in-memory store, so the queries under
test are the queries that run; the event dispatcher is a mock whose calls we inspect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nameko.testing.services import worker_factory

from porchlight import storage
from porchlight.errors import NotFound
from porchlight.snapshots import digest


@pytest.fixture
def make_worker() -> Iterator[Callable[..., Any]]:
    aliases: list[str] = []

    def make(service_cls: type, alias: str, repository_cls: type) -> Any:
        storage.connect(alias, db_prefix=f"unit_{uuid.uuid4().hex[:10]}_")
        aliases.append(alias)
        repo = repository_cls()
        repo.ensure_indexes()
        return worker_factory(service_cls, repo=repo)

    yield make
    for alias in aliases:
        storage.drop(alias)


CUSTOMER = "c" * 24  # the one customer the fake identity neighbour knows
WORKSPACE_SETTINGS = {"currency": "EUR", "timezone": "Europe/Amsterdam"}


@pytest.fixture
def documents(make_worker: Callable[..., Any]) -> Any:
    """The documents service with fake neighbours: identity knows the workspace settings
    and one customer (``CUSTOMER``); signatures keeps, in ``worker.evidence``, everything
    it was asked to record, with the certificate it answered."""
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

    worker.signatures.record_evidence.side_effect = record
    worker.identity.get_workspace.return_value = dict(WORKSPACE_SETTINGS)
    worker.identity.get_customer.side_effect = get_customer
    return worker


def dispatched(worker: Any) -> list[str]:
    """The names of the events a worker dispatched, in order."""
    return [call.args[0] for call in worker.dispatch.call_args_list]
