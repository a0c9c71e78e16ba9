"""The wire contracts of Porchlight: one pydantic model per request body, query string,
RPC payload and response, and per event the services announce (``events``).

Both ends import them — the gateways to check what arrives and describe it in OpenAPI, the
services to check their RPC input — and this package imports neither. Rules only the
owner of the data can check (a customer that must exist, a date in the workspace's time
zone) stay in that service; each model's docstring says which they are.
"""

from porchlight.contracts.base import ATTENTION, Contract, Query, Reply, answer, parse

__all__ = ["ATTENTION", "Contract", "Query", "Reply", "answer", "parse"]
