"""The signatures service on real RabbitMQ: racing answers to one revision."""

from __future__ import annotations

from datetime import timedelta

import eventlet
import pytest

from porchlight.client import AmqpClient
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound, Unavailable
from services.signatures.service import SignaturesService

WS = "a" * 24
EST = "c" * 24


def evidence(kind: str, signer: int) -> dict:
    data = {
        "kind": kind, "entity_type": "estimate", "entity_id": EST, "entity_number": "EST-0001",
        "revision": 1, "signer_name": f"Signer {signer}", "snapshot": {"total_minor": 18_000},
        "ip": "203.0.113.7", "deadline": isoformat(utcnow() + timedelta(seconds=30)),
    }
    if kind == "signature":
        data["signature_path"] = "M10 20 L11 21"
    return data


@pytest.fixture
def pool(container_factory, service_config):
    container_factory(SignaturesService, service_config).start()
    client = AmqpClient(service_config["AMQP_URI"], timeout=10, name="tests")
    yield client
    client.close()


def test_racing_answers_to_one_revision_leave_exactly_one_record(pool):
    kinds = ("acceptance", "decline", "signature")

    def answer(i: int) -> dict | str:
        try:
            return pool.call("signatures", "record_evidence", WS, evidence(kinds[i % 3], i))
        except Conflict as exc:
            return exc.message

    pile = eventlet.GreenPile(20)
    for i in range(20):
        pile.spawn(answer, i)
    results = list(pile)
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1
    assert results.count("This has already been answered.") == 19
    stored = pool.call("signatures", "list_evidence", WS, "estimate", EST)
    assert [e["certificate_id"] for e in stored] == [winners[0]["certificate_id"]]


def test_refusals_cross_the_broker_with_their_types(pool):
    with pytest.raises(InvalidInput) as info:
        pool.call("signatures", "record_evidence", WS,
                  {**evidence("signature", 1), "signature_path": "M1 1 L2 2<script>"})
    assert set(info.value.fields) == {"signature_path"}
    with pytest.raises(NotFound):
        pool.call("signatures", "get_certificate", "cert_" + "0" * 32)
    assert pool.call("signatures", "list_evidence", WS, "estimate", EST) == []


def test_a_request_past_its_deadline_is_refused_across_the_broker(pool):
    late = {**evidence("acceptance", 1), "deadline": isoformat(utcnow() - timedelta(seconds=1))}
    with pytest.raises(Unavailable):
        pool.call("signatures", "record_evidence", WS, late)
    assert pool.call("signatures", "list_evidence", WS, "estimate", EST) == []
