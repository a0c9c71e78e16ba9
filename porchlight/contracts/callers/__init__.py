"""The calls each process that is not a service makes, declared once per process in a
typed module (``portal``, ``admin``, ``worker``): the process calls through it, and the
broker's rights for it are derived from it (``declared``)."""

from __future__ import annotations

import functools
import inspect
from typing import Any, get_type_hints


@functools.cache  # a declaration is read once per process
def declared(services: type) -> dict[str, tuple[str, ...]]:
    """``{service: (method, …)}`` of a process's declaration: its top class names one
    class per service (``identity: Identity``), each method of which is a call."""
    return {service: methods(protocol) for service, protocol in get_type_hints(services).items()}


def methods(protocol: Any) -> tuple[str, ...]:
    """The calls one service's class declares: its own public methods."""
    return tuple(sorted(name for name, member in vars(protocol).items()
                        if inspect.isfunction(member) and not name.startswith("_")))
