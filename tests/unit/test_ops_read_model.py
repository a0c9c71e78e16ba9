"""The portal read model's size gauge and its hit / miss counters."""

from __future__ import annotations

from prometheus_client import REGISTRY

from gateway.portal.read_model import ReadModel


def lookups(kind: str, result: str) -> float:
    return REGISTRY.get_sample_value("porchlight_portal_read_model_lookups_total",
                                     {"kind": kind, "result": result}) or 0.0


def entries() -> float | None:
    return REGISTRY.get_sample_value("porchlight_portal_read_model_entries", {})


def test_a_miss_then_a_hit_by_the_kind_of_entry_and_the_size_follows():
    model = ReadModel(capacity=10, lifetime=60)
    model.resume()
    assert entries() == 0
    miss, hit = lookups("work_order", "miss"), lookups("work_order", "hit")
    key = ("work_order", "ws1", "wo1")
    model.fetch(key, lambda _: (("work_order", "wo1"),), lambda: {"title": "Boiler"})
    model.fetch(key, lambda _: (("work_order", "wo1"),), lambda: {"title": "never loaded"})
    assert (lookups("work_order", "miss"), lookups("work_order", "hit")) == (miss + 1, hit + 1)
    assert entries() == 1
    model.changed(("work_order", "wo1"))
    assert entries() == 0
    model.fetch(key, lambda _: (("work_order", "wo1"),), lambda: {"title": "Boiler"})
    assert entries() == 1
    model.suspend()  # the consumer lost its connection: everything goes
    assert entries() == 0
