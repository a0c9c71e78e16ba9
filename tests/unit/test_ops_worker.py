"""The worker's task metrics (from Celery's own signals) and its probes' logic."""

from __future__ import annotations

import pytest
from celery import Celery
from celery.exceptions import Retry
from kombu import Connection
from prometheus_client import REGISTRY

from workers import ops
from workers.celery_app import create_celery


def runs(task: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("porchlight_tasks_total", {"task": task, "outcome": outcome}) or 0.0


def timed(task: str) -> float:
    return REGISTRY.get_sample_value("porchlight_task_seconds_count", {"task": task}) or 0.0


@pytest.fixture(scope="module")
def app() -> Celery:
    app = create_celery({"broker_url": "memory://"})

    @app.task(name="ops_test.fine")
    def fine() -> str:
        return "done"

    @app.task(name="ops_test.broken")
    def broken() -> None:
        raise ValueError("a bug")

    @app.task(name="ops_test.later")
    def later() -> None:
        # What ``self.retry()`` raises once it has queued the next attempt (run eagerly,
        # retry() would run the next attempt at once instead).
        raise Retry("the mail server is busy", when=60)

    return app


@pytest.mark.parametrize("task, outcome", [
    ("ops_test.fine", "success"), ("ops_test.broken", "failure"), ("ops_test.later", "retry"),
])
def test_each_run_counts_once_under_its_outcome(app, task, outcome):
    before = {o: runs(task, o) for o in ("success", "failure", "retry")}
    durations = timed(task)
    app.tasks[task].apply()
    after = {o: runs(task, o) for o in ("success", "failure", "retry")}
    assert {o: after[o] - before[o] for o in after} == {o: float(o == outcome) for o in after}
    assert timed(task) == durations + 1


def test_the_consumer_is_installed_as_a_step(app):
    assert ops.Heartbeat in app.steps["consumer"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_alive_until_the_consumer_loop_stops_beating():
    clock = Clock()
    health = ops.WorkerHealth(clock)
    assert health.alive() is None  # starting: the start counts as a beat
    clock.now += ops.STALE_AFTER + 1
    assert health.alive() == f"the consumer loop has not run for {ops.STALE_AFTER + 1:.0f}s"
    health.beat()
    assert health.alive() is None


def test_ready_only_while_the_consumers_connection_is_up(broker_uri):
    health = ops.WorkerHealth()
    assert health.broker() == "the consumer has not started yet"

    class Consumer:  # what the bootstep is given: Celery's consumer, with its connection
        connection = Connection(broker_uri)

    health.consumer = Consumer()
    assert health.broker() == "the connection to the message broker is down"
    Consumer.connection.connect()
    assert health.broker() is None
    Consumer.connection.release()
    assert health.broker() == "the connection to the message broker is down"
