"""The services' call graph: declared once (``porchlight.operator.broker_access``), free of cycles,
and the only way a service reaches another (``porchlight.kit.service_calls``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from porchlight.kit.service_calls import RpcHandover, TimedRpcProxy
from porchlight.operator import broker_access
from services.documents.service import DocumentsService
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from services.sharing.service import SharingService
from services.signatures.service import SignaturesService

ROOT = Path(__file__).resolve().parents[2]
SERVICE_CLASSES = (IdentityService, SharingService, DocumentsService, SignaturesService,
                   NotificationsService)


def cycle_in(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A path that comes back to where it started, or ``None``."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in graph:
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_waits_between_services_form_no_cycle() -> None:
    assert cycle_in(broker_access.SERVICE_CALLS) is None, cycle_in(broker_access.SERVICE_CALLS)


def test_the_cycle_check_finds_a_circle() -> None:
    # The graph this project had when thirty sign-ins at once deadlocked identity.
    before = {**broker_access.SERVICE_CALLS, "identity": ("notifications",)}
    found = cycle_in(before)
    assert found is not None and found[0] == found[-1] and "identity" in found
    assert all(b in before[a] for a, b in zip(found, found[1:], strict=False))
    assert cycle_in({"a": ("b",), "b": ("c",), "c": ("a",)}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": ("b", "c"), "b": ("c",), "c": ()}) is None


def declared_edges(service_cls: type, kind: type) -> set[str]:
    return {value.target_service for value in vars(service_cls).values() if type(value) is kind}


@pytest.mark.parametrize("service_cls", SERVICE_CLASSES, ids=lambda c: c.name)
def test_each_service_reaches_exactly_the_neighbours_the_graph_declares(service_cls: type) -> None:
    name = service_cls.name
    assert declared_edges(service_cls, TimedRpcProxy) == set(broker_access.SERVICE_CALLS.get(name, ()))
    assert declared_edges(service_cls, RpcHandover) == set(broker_access.SERVICE_HANDOVERS.get(name, ()))


def test_no_service_waits_without_a_bound() -> None:
    """nameko's RpcProxy (and the cluster proxies) wait for a reply forever, and an
    ``eventlet.Timeout`` written by hand is a second copy of the bounded call."""
    unbounded = re.compile(r"\b(RpcProxy|ClusterRpcProxy|ServiceRpcProxy|eventlet\.Timeout|"
                           r"\.call_async\b|\.result\(\))")
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted((ROOT / "services").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if unbounded.search(line)]
    assert found == []


def test_a_handover_is_the_right_to_publish_and_nothing_more() -> None:
    identity = broker_access.grant("identity").rpc_write
    # Its own queue (the sign-in email prepared after the answer) and notifications'.
    assert re.fullmatch(identity, "identity.email_sign_in")
    assert re.fullmatch(identity, "notifications.email_contact")
    assert not re.fullmatch(identity, "documents.get_work_order")
    # No gateway may ask identity to email anyone directly.
    assert not re.fullmatch(broker_access.grant("portal").rpc_write, "identity.email_sign_in")


def test_every_service_answers_through_the_patient_rpc_entrypoint() -> None:
    """nameko's own @rpc kills the service when a reply cannot be sent within ~3 s of a
    broker outage (porchlight.kit.service_rpc); the services use the one that waits and lives."""
    from nameko.rpc import Rpc

    from porchlight.kit.service_rpc import PatientRpc

    for service_cls in SERVICE_CLASSES:
        entrypoints = {entrypoint for base in service_cls.__mro__ for method in vars(base).values()
                       for entrypoint in getattr(method, "nameko_entrypoints", ())}
        rpcs = [e for e in entrypoints if isinstance(e, Rpc)]
        assert len(rpcs) > 3 and all(isinstance(e, PatientRpc) for e in rpcs), service_cls.name
