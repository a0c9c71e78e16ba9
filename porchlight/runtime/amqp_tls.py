"""``amqps://`` that checks the broker's name as well as its certificate, in every kombu
client of Porchlight (the nameko services, Celery, the developer tools).

Given ``amqps://`` and no TLS options, kombu's transport verifies the certificate chain
(against the system's CAs, or the bundle named by ``SSL_CERT_FILE``) but not that the
certificate names the host it connected to: any certificate from a trusted CA would be
believed, a man in the middle's included. aio-pika, the gateways' client, checks both.
``install()`` points kombu's ``amqps`` scheme at a transport that asks for the name check
too (``server_hostname=None`` is kombu's "the host in the address"); TLS options a caller
gives explicitly (a dict) are left as they are. ``amqp://`` is not touched. Nothing installs
it at import: a service's RPC entrypoints do as its container is set up
(``porchlight.kit.service_rpc.PatientRpc``), the worker as it makes its Celery app
(``workers.celery_app.create_celery``).
"""

from __future__ import annotations

import ssl
from typing import Any

import kombu.transport as kombu_transport
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.pyamqp import SSLTransport


class VerifiedSSLTransport(SSLTransport):
    """kombu's amqps transport, with the broker's certificate required and its name checked."""

    def __init__(self, client: Any, **kwargs: Any) -> None:
        if not isinstance(client.ssl, dict):
            client.ssl = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}
        super().__init__(client, **kwargs)


def install() -> None:
    """Make ``amqps://`` mean ``VerifiedSSLTransport`` for every kombu connection of the
    process. Idempotent."""
    TRANSPORT_ALIASES["amqps"] = f"{__name__}:VerifiedSSLTransport"
    # kombu remembers the class it resolved for a scheme: forget it, so a connection made
    # from now on gets this one whatever was resolved before.
    kombu_transport._transport_cache.pop("amqps", None)
