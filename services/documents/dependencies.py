"""What the RPC mixins of the documents service rely on. ``DocumentsService`` declares
each one as a nameko dependency; the mixins only name them, for readers and type checkers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from porchlight.kit.task_queue import TaskQueue
from services.documents.store import DocumentsRepository


class DocumentsDependencies:
    repo: DocumentsRepository
    dispatch: Callable[[str, dict[str, Any]], None]
    signatures: Any  # TimedRpcProxy("signatures"): evidence of customers' answers
    identity: Any  # TimedRpcProxy("identity"): customers and workspace settings
    sharing: Any  # TimedRpcProxy("sharing"): links to records (``customer_mail``, ``links``)
    notifications: Any  # TimedRpcProxy("notifications"): emails to customers (``customer_mail``)
    tasks: TaskQueue
