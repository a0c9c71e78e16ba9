"""The services as the portal calls them: exactly the calls it declares, typed
(``porchlight.contracts.callers.portal``) — the broker's rights for the portal are derived
from the same declaration."""

from __future__ import annotations

from flask import Flask, current_app

from gateway.web import amqp_client
from porchlight.client import typed
from porchlight.contracts.callers.portal import Documents, PortalServices


def services(app: Flask | None = None) -> PortalServices:
    return typed(amqp_client(app or current_app), PortalServices)


def documents() -> Documents:
    return services().documents
