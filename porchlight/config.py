"""Settings read from the environment, with the defaults a developer machine needs."""

from __future__ import annotations

import os

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def nameko_config(uri: str | None = None) -> dict:
    """The config mapping nameko's standalone proxies and test containers need.

    ``amqp://`` is spelled ``pyamqp://`` for kombu: the plain scheme makes it look for the
    C client (librabbitmq) on every new connection object, and nameko makes one per publish.
    """
    uri = uri or amqp_uri()
    if uri.startswith("amqp://"):
        uri = "py" + uri
    return {"AMQP_URI": uri, "serializer": "json"}


def portal_base_url() -> str:
    return os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def rpc_timeout() -> float:
    return float(os.environ.get("RPC_TIMEOUT", "5"))
