"""``ping``: the one RPC every service answers the same way, written once.

It touches no storage and calls no neighbour, so its round trip measures the broker and
the service's worker pool alone: the benchmark uses it as its no-op call, and health
checks use it to ask "is this service consuming its queue?".

A service class inherits it (``class SharingService(Ping)``): nameko collects the
entrypoints of a service from the class's members, inherited ones included, exactly as it
collects the documents service's RPC methods from its mixins.
"""

from __future__ import annotations

from porchlight.kit.service_rpc import rpc


class Ping:
    name: str  # the service's nameko name, declared by the service class

    @rpc
    def ping(self) -> dict[str, str]:
        """``{"service": <name>}``: which service answered, and nothing else."""
        return {"service": self.name}
