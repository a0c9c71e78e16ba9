"""Every event the identity, sharing, documents and signatures services dispatch is classified in
``porchlight.events`` as customer-visible or internal — the portal's read model subscribes
to exactly ``CUSTOMER_VISIBLE``, so an event in neither list is a change it would miss.

The services' source is read, not run: a new ``dispatch`` on a path no test exercises is
caught all the same. Event names must be literal strings where they are chosen (the
``dispatch`` call, or the ``event=`` / ``undone=`` of ``evidence.settle`` and ``recover``), so
they can be read; the generic ``dispatch(<variable>)`` allowed is inside the two steps they
share, ``_finish`` and ``_undo``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from porchlight.events import CUSTOMER_VISIBLE, INTERNAL

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


def dispatched_in(source: str, filename: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The event names a module dispatches, and where it passes one on unread:
    ``(file, enclosing function, expression)``."""
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
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source, filename), "<module>")
    return names, unread


def dispatched_by(service: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    names: set[str] = set()
    unread: set[tuple[str, str, str]] = set()
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        found, passed_on = dispatched_in(path.read_text(), str(path.relative_to(ROOT)))
        names |= found
        unread |= passed_on
    return names, unread


@pytest.mark.parametrize("service", SOURCES)
def test_every_dispatched_event_is_classified_and_every_classified_one_is_dispatched(service):
    names, _ = dispatched_by(service)
    classified = set(CUSTOMER_VISIBLE[service]) | set(INTERNAL[service])
    assert names - classified == set(), "classify these in porchlight.events"
    assert classified - names == set(), "no longer dispatched: remove from porchlight.events"


def test_event_names_are_written_where_they_are_chosen():
    unread = set().union(*(dispatched_by(service)[1] for service in SOURCES))
    assert unread == GENERIC


def test_no_event_is_both_visible_and_internal():
    assert set(CUSTOMER_VISIBLE) == set(INTERNAL) == set(SOURCES)
    for service in SOURCES:
        visible, internal = CUSTOMER_VISIBLE[service], INTERNAL[service]
        assert not set(visible) & set(internal)
        assert len(set(visible)) == len(visible) and len(set(internal)) == len(internal)
        for name in visible + internal:
            assert re.fullmatch(r"[a-z]+(_[a-z]+)+", name), name


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
    assert "thing_happened" not in set(CUSTOMER_VISIBLE["documents"]) | set(INTERNAL["documents"])
