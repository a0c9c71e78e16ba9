"""Every Prometheus metric Porchlight defines, in one place, with the rule for its labels.

Labels are bounded by the code, never by the traffic: service, method and event names
come from the services' classes, routes are Flask's URL rules (``/l/<token>``, never the
path a customer opened: share tokens live in paths), tasks are Celery task names. No id,
token, address or user ever becomes a label value.

Each process exports what it records (``porchlight.runtime.ops`` serves ``/metrics``); the
families of other kinds of process appear there empty. The gateways run several gunicorn
workers, so their values go through prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, see ``gateway/gunicorn_conf.py``): a gauge says how the
workers' values combine (``multiprocess_mode``); elsewhere that setting is ignored.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds: an RPC answered from memory is ~1 ms; a signed PDF render is hundreds of ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# -- every process ------------------------------------------------------------------------
AMQP_CONNECTED = Gauge(
    "porchlight_amqp_connected",
    "1 while the process's connection to RabbitMQ is up (for a gateway: in every live worker).",
    ["component"], multiprocess_mode="livemin",
)

# -- services (porchlight.kit.service_ops) ------------------------------------------------------
RPC_HANDLED = Counter(
    "porchlight_rpc_handled",
    "RPC requests a service handled, by outcome: ok, expected_error (a declared, typed "
    "refusal such as NotFound) or error (anything else).",
    ["service", "method", "outcome"],
)
RPC_HANDLED_SECONDS = Histogram(
    "porchlight_rpc_handled_seconds", "Time a service spent on one RPC request.",
    ["service", "method"], buckets=LATENCY_BUCKETS,
)
EVENTS_HANDLED = Counter(
    "porchlight_events_handled",
    "Events a service's handlers handled, by the service that sent them and outcome.",
    ["service", "source_service", "event_type", "outcome"],
)
EVENTS_DISPATCHED = Counter(
    "porchlight_events_dispatched",
    "Events a service sent, by type: with porchlight_events_handled, shows each event is "
    "handled once per subscribing service however many replicas run.",
    ["service", "event_type"],
)
EVENT_HANDLED_SECONDS = Histogram(
    "porchlight_event_handled_seconds", "Time a service spent handling one event.",
    ["service", "source_service", "event_type"], buckets=LATENCY_BUCKETS,
)

# -- callers of services (the gateways' and the worker's AmqpClient) ----------------------------
RPC_CALLS = Counter(
    "porchlight_rpc_calls",
    "RPC calls this process made, by outcome: ok, expected_error (the service refused with "
    "a typed error), unavailable (no answer in time, no such service, broker down) or error.",
    ["service", "method", "outcome"],
)
RPC_CALL_SECONDS = Histogram(
    "porchlight_rpc_call_seconds", "Time from sending an RPC request to its answer (or giving up).",
    ["service", "method"], buckets=LATENCY_BUCKETS,
)

# -- gateways (gateway.ops) -------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "porchlight_http_requests",
    "HTTP requests a gateway answered, by route (the URL rule; 'unmatched' for none) and status.",
    ["gateway", "method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "porchlight_http_request_seconds", "Time a gateway spent on one HTTP request.",
    ["gateway", "method", "route"], buckets=LATENCY_BUCKETS,
)
READ_MODEL_ENTRIES = Gauge(
    "porchlight_portal_read_model_entries",
    "Entries the portal's read model holds in memory (summed over the live workers).",
    multiprocess_mode="livesum",
)
READ_MODEL_LOOKUPS = Counter(
    "porchlight_portal_read_model_lookups",
    "Lookups in the portal's read model by kind of entry (link, work_order, …) and result "
    "(hit: served from memory; miss: asked of a service).",
    ["kind", "result"],
)

# -- the Celery worker (workers.ops) ----------------------------------------------------------
TASKS = Counter(
    "porchlight_tasks", "Celery task runs by task name and outcome: success, retry or failure.",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "porchlight_task_seconds", "Time one Celery task run took, whatever its outcome.",
    ["task"], buckets=LATENCY_BUCKETS,
)
WORKER_HEARTBEAT = Gauge(
    "porchlight_worker_heartbeat_timestamp_seconds",
    "When the worker's consumer loop last beat (Unix time); /livez fails when it is old.",
    multiprocess_mode="max",
)
