"""The portal's read model and view counter, on their own: an injected clock, no broker."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from gateway.portal.read_model import ReadModel
from gateway.portal.reads import CAPABILITY_MARGIN, Views, _kept_until, subjects_of
from porchlight.client import ServiceUnavailable
from porchlight.contracts.events import CUSTOMER_VISIBLE, EVENTS

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class Clock:
    """Monotonic seconds and the wall clock, moved together by the test."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.seconds - 1000.0)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def model_of(clock: Clock, **options) -> ReadModel:
    model = ReadModel(clock=clock.monotonic, now=clock.now, **{"lifetime": 30.0, **options})
    model.resume()
    return model


class Loader:
    """Counts its loads; ``during`` runs inside a load (something happening meanwhile)."""

    def __init__(self, value="v1") -> None:
        self.value, self.loads, self.during = value, 0, None

    def __call__(self):
        self.loads += 1
        if self.during:
            self.during()
        return {"value": self.value}


def fetch(model: ReadModel, load: Loader, key="wo:1", subject=("work_order", "1"), until=None):
    return model.fetch(key, lambda _: (subject,), load, until)


def test_a_second_view_is_served_from_memory(clock):
    model, load = model_of(clock), Loader()
    assert fetch(model, load) == fetch(model, load) == {"value": "v1"}
    assert load.loads == 1


def test_a_change_to_the_record_drops_it_and_the_next_view_reloads(clock):
    model, load = model_of(clock), Loader()
    fetch(model, load)
    load.value = "v2"
    model.changed(("work_order", "1"))
    assert fetch(model, load) == {"value": "v2"} and load.loads == 2


def test_a_change_to_another_record_keeps_this_one(clock):
    model, load = model_of(clock), Loader()
    fetch(model, load)
    model.changed(("work_order", "2"), ("estimate", "1"))
    fetch(model, load)
    assert load.loads == 1


def test_a_change_heard_while_loading_is_not_overwritten_by_the_older_answer(clock):
    model, load = model_of(clock), Loader()
    load.during = lambda: model.changed(("work_order", "1"))  # the event overtakes the reply
    assert fetch(model, load) == {"value": "v1"}  # the caller gets what it loaded …
    load.during = None
    fetch(model, load)
    assert load.loads == 2  # … but it was not kept


def test_a_change_mark_forgotten_for_room_still_blocks_an_older_fill(clock):
    model, load = model_of(clock, capacity=2), Loader()

    def many_changes():
        model.changed(("work_order", "1"))
        for n in range(10):  # pushes the mark for work_order 1 out of the bounded marks
            model.changed(("work_order", f"other-{n}"))

    load.during = many_changes
    fetch(model, load)
    load.during = None
    fetch(model, load)
    assert load.loads == 2


def test_an_entry_lives_no_longer_than_the_lifetime_even_without_events(clock):
    model, load = model_of(clock, lifetime=30.0), Loader()
    fetch(model, load)
    clock.advance(29.9)
    fetch(model, load)
    assert load.loads == 1
    clock.advance(0.2)
    fetch(model, load)
    assert load.loads == 2


def test_a_value_with_its_own_end_is_not_kept_past_it(clock):
    model, load = model_of(clock, lifetime=30.0), Loader()
    ends = lambda _: clock.now() + timedelta(seconds=5)  # noqa: E731
    fetch(model, load, until=ends)
    clock.advance(5.1)
    fetch(model, load, until=ends)
    assert load.loads == 2


def test_a_value_already_past_its_end_is_never_stored(clock):
    model, load = model_of(clock), Loader()
    fetch(model, load, until=lambda _: clock.now())
    fetch(model, load, until=lambda _: clock.now())
    assert load.loads == 2 and len(model) == 0


def test_a_lifetime_of_zero_serves_nothing_from_memory(clock):
    model, load = model_of(clock, lifetime=0), Loader()
    fetch(model, load)
    fetch(model, load)
    assert load.loads == 2


def test_memory_is_bounded_least_recently_viewed_first(clock):
    model = model_of(clock, capacity=3)
    loads = {key: Loader(key) for key in "abcd"}
    for key in "abc":
        fetch(model, loads[key], key=key, subject=("work_order", key))
    fetch(model, loads["a"], key="a", subject=("work_order", "a"))  # a is now the most recent
    fetch(model, loads["d"], key="d", subject=("work_order", "d"))  # b goes
    assert len(model) == 3
    assert model.get("b") is None and model.get("a") is not None
    model.changed(("work_order", "b"))  # an evicted entry leaves no index behind
    assert len(model) == 3


def test_losing_the_consumer_forgets_everything_and_stores_nothing_until_it_is_back(clock):
    model, load = model_of(clock), Loader()
    fetch(model, load)
    model.suspend()
    assert len(model) == 0 and not model.live
    fetch(model, load)
    fetch(model, load)
    assert load.loads == 3  # while the consumer is away every view asks the service
    model.resume()
    fetch(model, load)
    fetch(model, load)
    assert load.loads == 4


def test_a_fill_that_started_before_the_connection_dropped_is_not_kept(clock):
    model, load = model_of(clock), Loader()

    def drop_and_return():
        model.suspend()
        model.resume()  # back already, but events in between may have been missed

    load.during = drop_and_return
    fetch(model, load)
    load.during = None
    fetch(model, load)
    assert load.loads == 2


def test_nothing_is_served_before_the_consumer_is_ready(clock):
    model, load = ReadModel(clock=clock.monotonic, now=clock.now), Loader()
    fetch(model, load)
    fetch(model, load)
    assert load.loads == 2


def test_wait_for_returns_once_the_change_is_heard(clock):
    model = model_of(clock)
    mark = model.mark()
    assert not model.wait_for(("share_token", "t1"), after=mark, timeout=0)
    heard = threading.Thread(target=model.changed, args=(("share_token", "t1"),))
    heard.start()
    assert model.wait_for(("share_token", "t1"), after=mark, timeout=5)
    heard.join()


@pytest.mark.parametrize(("service", "event", "payload", "subjects"), [
    ("sharing", "share_token_revoked",
     {"workspace_id": "w", "share_token_id": "t2", "replaced_by": "t3", "entity_id": "e"},
     {("share_token", "t2")}),
    ("documents", "estimate_converted", {"workspace_id": "w", "estimate_id": "e", "work_order_id": "o"},
     {("estimate", "e"), ("work_order", "o")}),
    ("documents", "service_report_signed",
     {"workspace_id": "w", "service_report_id": "r", "certificate_id": "c", "actor": "x"},
     {("service_report", "r")}),
    ("identity", "workspace_updated", {"workspace_id": "w", "actor": "x"}, {("workspace", "w")}),
    ("signatures", "artifact_attached", {"workspace_id": "w", "certificate_id": "c", "sha256": "0" * 64},
     {("certificate", "c")}),
    # An event without a model, or a payload that is no object, names nothing.
    ("documents", "estimate_rewritten", {"workspace_id": "w", "estimate_id": "e"}, set()),
    ("documents", "estimate_sent", "e", set()),
])
def test_events_name_the_records_they_change(service, event, payload, subjects):
    assert set(subjects_of(service, event, payload)) == subjects


def test_every_customer_visible_event_names_a_record():
    """What the read model subscribes to must tell it what to drop."""
    for source, names in CUSTOMER_VISIBLE.items():
        for name in names:
            assert EVENTS[(source, name)].record_fields(), f"{source}.{name} names no record"


# -- views -----------------------------------------------------------------------------
class Sharing:
    def __init__(self, fail: bool = False) -> None:
        self.batches, self.fail = [], fail

    def __call__(self, batch):
        if self.fail:
            raise ServiceUnavailable("sharing did not answer")
        self.batches.append(batch)


def test_views_are_sent_in_one_batch_per_link_with_the_latest_moment(clock):
    sharing = Sharing()
    views = Views(sharing, now=clock.now)
    views.count("t1")
    clock.advance(2)
    views.count("t1")
    views.count("t2")
    assert views.flush() == 3
    (batch,) = sharing.batches
    assert sorted(batch["views"], key=lambda v: v["share_token_id"]) == [
        {"share_token_id": "t1", "count": 2, "last_accessed_at": "2026-11-21T12:00:02.000Z"},
        {"share_token_id": "t2", "count": 1, "last_accessed_at": "2026-11-21T12:00:02.000Z"},
    ]
    assert views.flush() == 0 and len(sharing.batches) == 1  # nothing new: nothing sent


def test_a_batch_that_cannot_be_delivered_is_dropped_not_counted_twice(clock):
    sharing = Sharing(fail=True)
    views = Views(sharing, now=clock.now)
    views.count("t1")
    assert views.flush() == 0
    sharing.fail = False
    views.count("t1")
    views.flush()
    assert sharing.batches == [{"views": [
        {"share_token_id": "t1", "count": 1, "last_accessed_at": "2026-11-21T12:00:00.000Z"}]}]


def test_stopping_sends_what_is_left(clock):
    sharing = Sharing()
    views = Views(sharing, now=clock.now, interval=3600)
    views.start()
    views.count("t1")
    views.stop()
    assert sharing.batches and sharing.batches[0]["views"][0]["count"] == 1


def test_a_links_grant_is_kept_no_longer_than_its_capability_less_the_margin():
    """documents refuses an ended capability: a page served from a kept grant must hand on
    one that still has the margin (a file link's default life) ahead of it."""
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    capability_ends = now + timedelta(minutes=30)
    open_link = {"expires_at": None, "capability_expires_at": capability_ends}
    assert _kept_until(open_link) == capability_ends - CAPABILITY_MARGIN
    long_link = {"expires_at": now + timedelta(days=30), "capability_expires_at": capability_ends}
    assert _kept_until(long_link) == capability_ends - CAPABILITY_MARGIN
    soon = now + timedelta(minutes=5)
    ending_link = {"expires_at": soon, "capability_expires_at": soon}
    assert _kept_until(ending_link) == now + timedelta(minutes=5) - CAPABILITY_MARGIN
