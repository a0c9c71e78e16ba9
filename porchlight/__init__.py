"""Code shared by Porchlight's services, gateways, worker and tools, in one package per
audience; imports point down this list only (import-linter contracts in pyproject.toml):

- ``operator`` — what an operator runs: the ``porchlight`` CLI and the broker's users and
  rights (``broker_access``).
- ``client`` — the AMQP client of every process that is not a nameko service (the gateways,
  the worker, the CLI): its loop, connection, RPC calls and event subscriptions.
- ``kit`` — what a nameko service is built from: its storage, the bounded call to a
  neighbour, request tracing, the task queue, idempotent commands, health and metrics.
- ``runtime`` — what every process needs: settings, logs, metrics, the ops server, the
  request context.
- ``contracts`` — what every side agrees on: the wire models (requests, replies, events,
  who calls whom), typed errors, time, money, the share-token format.

Developer tools live apart, in ``devtools``.
"""
