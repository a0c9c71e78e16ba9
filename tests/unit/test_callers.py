"""Each process's typed declaration of the calls it makes (porchlight/contracts/callers)
against the services it calls, and the one way a process calls: through its declaration,
refusing anything undeclared before it is sent."""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import pytest

from porchlight.client import typed
from porchlight.contracts.callers import declared
from porchlight.contracts.callers.admin import AdminServices
from porchlight.contracts.callers.portal import PortalServices
from porchlight.contracts.callers.worker import WorkerServices
from tests.fakes.services import FakeServices, rpc_method

DECLARATIONS = {"portal": PortalServices, "admin": AdminServices, "worker": WorkerServices}


def _parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    """Each parameter but ``self``: its name, kind and default."""
    signature = inspect.signature(inspect.unwrap(fn))
    return [(p.name, p.kind, p.default) for p in list(signature.parameters.values())[1:]]


@pytest.mark.parametrize("process", sorted(DECLARATIONS))
def test_every_declared_call_is_the_services_rpc_method_with_its_parameters(process: str) -> None:
    """A declaration that drifted from its service (a method renamed, a parameter added or
    moved) would send calls nameko refuses: each must be an RPC entrypoint of the service,
    taking the same parameters in the same order with the same defaults."""
    protocols = get_type_hints(DECLARATIONS[process])
    for service, methods in declared(DECLARATIONS[process]).items():
        assert methods, service
        for method in methods:
            real = rpc_method(service, method)  # AssertionError: not an RPC method of the service
            mine = getattr(protocols[service], method)
            assert _parameters(mine) == _parameters(real), (process, service, method)


def test_a_call_not_declared_is_refused_before_anything_is_sent() -> None:
    fake = FakeServices({"identity.resolve_session": lambda raw: {"ok": raw}})
    portal = typed(fake, PortalServices)
    assert portal.identity.resolve_session("s" * 30) == {"ok": "s" * 30}
    with pytest.raises(AttributeError, match="identity.create_api_key is not declared"):
        portal.identity.create_api_key  # noqa: B018 - the attribute alone is the refusal
    with pytest.raises(AttributeError, match="no call to 'notifications'"):
        portal.notifications  # noqa: B018
    with pytest.raises(AttributeError):
        typed(fake, WorkerServices).documents.sign_service_report  # noqa: B018
    assert fake.calls == [("identity.resolve_session", ("s" * 30,), {})]


def test_each_process_declares_what_it_must_and_nothing_of_another_audience() -> None:
    portal, admin, worker = (declared(DECLARATIONS[p]) for p in ("portal", "admin", "worker"))
    assert "resolve_session" in portal["identity"] and "resolve_session" not in admin["identity"]
    assert "authenticate_api_key" in admin["identity"] and "authenticate_api_key" not in portal["identity"]
    assert "notifications" not in portal  # the portal reads no outbox
    assert {"claim_email", "record_delivery"} <= set(worker["notifications"])
    assert "documents" in worker and "sign_service_report" not in worker["documents"]
