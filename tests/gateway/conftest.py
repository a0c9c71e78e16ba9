"""Fixtures of the portal's read model, for the tests that watch it: the model once its
event consumer is live, and the calls the portal's reads make, written down."""

from __future__ import annotations

import pytest

from gateway.portal.reads import reads

WAIT = 10.0  # seconds: a bound on waiting for an event, never a pause


@pytest.fixture
def model(portal_app):
    found = reads(portal_app)
    assert found.model.wait_live(WAIT), "the portal's event consumer did not start"
    return found.model


class CountingCalls:
    """The portal's AMQP client, with each call it makes written down."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def call(self, service, method, *args, **kwargs):
        self.calls.append(f"{service}.{method}")
        return self.client.call(service, method, *args, **kwargs)


@pytest.fixture
def calls(portal_app, model):
    portal_reads = reads(portal_app)
    counting = CountingCalls(portal_reads.client)
    portal_reads.client = counting
    return counting.calls
