"""The services, faked in-process for gateway tests that need no broker.

A test gives the answers it needs (``{"documents.get_estimate": fn}``); every call is
first held against the real service class: the method must be one of its RPC
entrypoints and the arguments must bind to its signature, exactly what nameko checks
before a real worker runs. A fake therefore cannot accept a call the real service would
refuse, and a renamed or re-shaped RPC method breaks these tests as it would break the
gateway.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc

from services.documents.service import DocumentsService
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from services.sharing.service import SharingService
from services.signatures.service import SignaturesService

SERVICES: dict[str, type] = {cls.name: cls for cls in (
    IdentityService, SharingService, DocumentsService, SignaturesService, NotificationsService)}


def rpc_method(service: str, method: str) -> Callable:
    """The real RPC entrypoint, or AssertionError when the service has none by that name."""
    assert service in SERVICES, f"no service called {service!r}"
    real = getattr(SERVICES[service], method, None)
    entrypoints = getattr(real, ENTRYPOINT_EXTENSIONS_ATTR, ())
    assert any(isinstance(e, Rpc) for e in entrypoints), f"{service}.{method} is not an RPC method"
    return real


class FakeServices:
    def __init__(self, answers: dict[str, Callable[..., Any]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, tuple, dict]] = []
        for name in self.answers:
            rpc_method(*name.split("."))

    def answer(self, name: str, fn: Callable[..., Any]) -> None:
        rpc_method(*name.split("."))
        self.answers[name] = fn

    def called(self, name: str) -> list[tuple]:
        return [args for called, args, _ in self.calls if called == name]

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        real = rpc_method(service, method)
        inspect.signature(real).bind(None, *args, **kwargs)  # TypeError, as nameko's IncorrectSignature
        name = f"{service}.{method}"
        self.calls.append((name, args, kwargs))
        assert name in self.answers, f"the gateway called {name}, which this test did not expect"
        return self.answers[name](*args, **kwargs)

    def close(self) -> None:
        pass
