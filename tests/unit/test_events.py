"""Every event the identity, sharing, documents and signatures services dispatch has a model
in ``porchlight.contracts.events``, which says whether it is customer-visible — the portal's
read model subscribes to exactly ``CUSTOMER_VISIBLE``, read off the models, so an event
without one is a change it would miss — and what its payload holds. The dispatcher refuses
an event without a model, or a payload its model refuses.

The services' source is read, not run: a new ``dispatch`` on a path no test exercises is
caught all the same. Event names must be literal strings where they are chosen (the
``dispatch`` call, or the ``event=`` / ``undone=`` of ``evidence.settle`` and ``recover``), so
they can be read; the generic ``dispatch(<variable>)`` allowed is inside the two steps they
share, ``_finish`` and ``_undo``. Where a ``dispatch`` names its payload's fields in a
``fact(...)`` call, they must be exactly its model's; the payloads ``_finish`` and ``_undo``
build are checked by the unit tests that run them (``tests/unit/conftest.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import Mock

import pytest

from porchlight.contracts.events import CUSTOMER_VISIBLE, EVENTS, INTERNAL, Event, EventRefused, fact
from porchlight.kit.request_tracing import EventDispatcher

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("documents", "identity", "sharing", "signatures")
# (file, function, variable): where an event name may be passed on rather than written
GENERIC = {("services/documents/evidence.py", "_finish", "event"),
           ("services/documents/evidence.py", "_undo", "undone")}
SETTLE_NAMES = ("event", "undone")


def _literals(node: ast.expr) -> list[str] | None:
    """The names an expression can take: a string, or a choice between strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _fact_fields(call: ast.Call) -> frozenset[str] | None:
    """The payload fields a ``dispatch`` call names: ``fact``'s keywords beyond the three
    it always sets, or ``None`` where they cannot be read here (not a ``fact(...)``, or a
    ``**`` splat)."""
    if len(call.args) < 2 or not isinstance(call.args[1], ast.Call) or _callee(call.args[1]) != "fact":
        return None
    keywords = call.args[1].keywords
    if any(k.arg is None for k in keywords):
        return None
    return frozenset(k.arg for k in keywords)


def dispatched_in(source: str, filename: str, sites: list[tuple[str, str, frozenset[str]]] | None = None,
                  ) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The event names a module dispatches, and where it passes one on unread:
    ``(file, enclosing function, expression)``. ``sites`` gets ``(where, event, fields)``
    for each dispatch whose payload fields can be read."""
    names: set[str] = set()
    unread: set[tuple[str, str, str]] = set()

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            chosen: list[ast.expr] = []
            if _callee(node) == "dispatch" and node.args:
                chosen.append(node.args[0])
            elif _callee(node) in ("settle", "recover"):
                chosen.extend(k.value for k in node.keywords if k.arg in SETTLE_NAMES)
                if len(chosen) != len(SETTLE_NAMES):
                    unread.add((filename, function, "settle() without event= and undone="))
            for expr in chosen:
                literal = _literals(expr)
                if literal is None:
                    unread.add((filename, function, ast.unparse(expr)))
                else:
                    names.update(literal)
                    fields = _fact_fields(node) if _callee(node) == "dispatch" else None
                    if sites is not None and fields is not None:
                        sites.extend((f"{filename}:{node.lineno}", name, fields) for name in literal)
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source, filename), "<module>")
    return names, unread


def dispatched_by(service: str, sites: list[tuple[str, str, frozenset[str]]] | None = None,
                  ) -> tuple[set[str], set[tuple[str, str, str]]]:
    names: set[str] = set()
    unread: set[tuple[str, str, str]] = set()
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        found, passed_on = dispatched_in(path.read_text(), str(path.relative_to(ROOT)), sites)
        names |= found
        unread |= passed_on
    return names, unread


@pytest.mark.parametrize("service", SOURCES)
def test_every_dispatched_event_has_a_model_and_every_model_is_dispatched(service):
    names, _ = dispatched_by(service)
    modelled = {event for source, event in EVENTS if source == service}
    assert names - modelled == set(), "declare these in porchlight.contracts.events"
    assert modelled - names == set(), "no longer dispatched: remove from porchlight.contracts.events"


@pytest.mark.parametrize("service", SOURCES)
def test_each_dispatch_sends_exactly_the_fields_of_its_model(service):
    sites: list[tuple[str, str, frozenset[str]]] = []
    dispatched_by(service, sites)
    assert sites
    common = set(Event.model_fields)
    for where, event, fields in sites:
        model = EVENTS[(service, event)]
        known = set(model.model_fields) - common
        required = {name for name, info in model.model_fields.items() if info.is_required()} - common
        assert fields <= known, f"{where}: {event} has no field {sorted(fields - known)}"
        assert required <= fields, f"{where}: {event} without {sorted(required - fields)}"


def test_event_names_are_written_where_they_are_chosen():
    unread = set().union(*(dispatched_by(service)[1] for service in SOURCES))
    assert unread == GENERIC


def test_the_lists_are_read_off_the_models():
    assert set(CUSTOMER_VISIBLE) == set(INTERNAL) == set(SOURCES)
    listed = [(source, event) for lists in (CUSTOMER_VISIBLE, INTERNAL)
              for source, events in lists.items() for event in events]
    assert sorted(listed) == sorted(EVENTS)  # each model in exactly one list, once
    for (source, event), model in EVENTS.items():
        assert (model.source, model.event) == (source, event)
        assert (event in CUSTOMER_VISIBLE[source]) is model.visible
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", event), event
        own = model.__mro__[:model.__mro__.index(Event)]  # the model and the shapes it shares
        assert model.visible or any(c.__doc__ for c in own), f"{event}: say why it is internal"


def test_an_event_is_declared_once():
    with pytest.raises(TypeError, match="declared twice"):
        type("Again", (Event,), {"__annotations__": {}}, source="documents", event="estimate_sent",
             visible=True)


CONTAINERS: list[Mock] = []  # the dispatcher holds its container weakly


def dispatcher(service: str) -> tuple[object, Mock]:
    """The dispatch function a worker of ``service`` is given, publishing to a mock."""
    CONTAINERS.append(Mock(service_name=service, config={}))
    bound = EventDispatcher().bind(CONTAINERS[-1], "dispatch")
    bound.publisher, bound.exchange = Mock(), "exchange"
    return bound.get_dependency(SimpleNamespace(context_data={"request_id": "r1"})), bound.publisher


WS, EST = "a" * 24, "b" * 24


def test_the_dispatcher_publishes_a_fact_its_model_takes():
    dispatch, publisher = dispatcher("documents")
    dispatch("estimate_sent", fact(WS, "staff:1", estimate_id=EST))
    [call] = publisher.publish.call_args_list
    assert call.kwargs["routing_key"] == "estimate_sent" and call.args[0]["estimate_id"] == EST


@pytest.mark.parametrize(("service", "event", "payload", "refusal"), [
    ("documents", "estimate_rewritten", fact(WS, "staff:1", estimate_id=EST), "no event"),
    ("identity", "estimate_sent", fact(WS, "staff:1", estimate_id=EST), "no event"),  # not identity's
    ("documents", "estimate_sent", fact(WS, "staff:1"), "estimate_id"),
    ("documents", "estimate_sent", fact(WS, "staff:1", estimate_id="e1"), "estimate_id"),
    ("documents", "estimate_sent", fact(WS, "staff:1", estimate_id=EST, title="Boiler"), "title"),
    ("documents", "estimate_approved", fact(WS, "customer", estimate_id=EST, revision=1,
                                            certificate_id="cert_" + "1" * 32), "number"),
    ("documents", "estimate_sent", "not a fact", "refused"),
])
def test_the_dispatcher_refuses_an_unknown_event_or_a_bad_payload_and_sends_nothing(
        service, event, payload, refusal):
    dispatch, publisher = dispatcher(service)
    with pytest.raises(EventRefused, match=refusal):
        dispatch(event, payload)
    publisher.publish.assert_not_called()


def test_the_reader_catches_a_new_event_however_it_is_written():
    source = '''
class Thing:
    def new(self):
        self.dispatch("thing_happened", fact(ws, actor))
        self.dispatch("a" if x else "b", {})
        self.dispatch(name_from_somewhere, {})
        evidence.settle(s, d, ws, e, claim, event="thing_signed", undone="thing_unsigned", ids={})
        evidence.settle(s, d, ws, e, claim, "positional", ids={})
'''
    names, unread = dispatched_in(source, "x.py")
    assert names == {"thing_happened", "a", "b", "thing_signed", "thing_unsigned"}
    assert unread == {("x.py", "new", "name_from_somewhere"),
                      ("x.py", "new", "settle() without event= and undone=")}
    assert ("documents", "thing_happened") not in EVENTS


def test_the_reader_reads_the_fields_a_dispatch_names():
    source = '''
def new(self):
    self.dispatch("thing_happened", fact(ws, actor, thing_id=x, revision=2))
    self.dispatch("thing_moved", fact(ws, actor, **ids))
    self.dispatch("thing_gone", payload)
'''
    sites: list = []
    dispatched_in(source, "x.py", sites)
    assert sites == [("x.py:3", "thing_happened", frozenset({"thing_id", "revision"}))]
