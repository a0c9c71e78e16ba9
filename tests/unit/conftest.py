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


def dispatched(worker: Any) -> list[str]:
    """The names of the events a worker dispatched, in order."""
    return [call.args[0] for call in worker.dispatch.call_args_list]
