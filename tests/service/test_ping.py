"""``ping`` over real RabbitMQ: every service answers it, from the shared mixin."""

from __future__ import annotations

import pytest
from nameko.testing.services import worker_factory

from services.documents.service import DocumentsService
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from services.sharing.service import SharingService
from services.signatures.service import SignaturesService


def test_every_service_answers_ping_with_its_name(rpc):
    for service in ("identity", "sharing", "documents", "signatures", "notifications"):
        assert rpc.call(service, "ping") == {"service": service}


@pytest.mark.parametrize("service_cls", [IdentityService, SharingService, DocumentsService,
                                         SignaturesService, NotificationsService])
def test_ping_touches_no_storage_and_no_neighbour(service_cls):
    worker = worker_factory(service_cls)  # every dependency a mock that records its use
    assert worker.ping() == {"service": service_cls.name}
    for name in ("repo", "dispatch", "documents", "signatures", "identity", "tasks"):
        dependency = getattr(worker, name, None)
        if dependency is not None:
            assert dependency.mock_calls == [], (name, dependency.mock_calls)
