"""documents: the customer-facing records of a workspace.

One package per aggregate — ``work_orders``, ``estimates``, ``service_reports``, ``files`` —
each with its rules, repository, wire serialisers and RPC methods; ``service.py`` composes
them into the one nameko service.
"""

# The service's own database (a mongoengine connection alias), shared by every aggregate.
ALIAS = "documents"
