"""What a nameko service of Porchlight is built from: its database (``storage``), the
bounded call to a neighbour (``service_calls``) and the patient answer (``service_rpc``),
request tracing and event dispatch (``request_tracing``), handing work to the worker
(``task_queue``), commands that can be retried (``idempotency``), and health and metrics
(``ping``, ``service_ops``)."""
