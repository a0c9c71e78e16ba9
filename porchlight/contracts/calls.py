"""Who calls whom, declared once: the services each service waits on or hands commands
to, the events it handles, the tasks it queues, and every RPC each process that is not a
service makes (from its typed declaration in ``porchlight.contracts.callers``).
``porchlight.kit.service_calls`` refuses to start an edge missing here, a test fails on a
cycle of waits, and the broker's rights (``porchlight.operator.broker_access``) are
derived from it: a process may publish exactly the calls this module gives it."""

from __future__ import annotations

from porchlight.contracts.callers import declared
from porchlight.contracts.callers.admin import AdminServices
from porchlight.contracts.callers.portal import PortalServices
from porchlight.contracts.callers.worker import WorkerServices

SERVICES = ("identity", "sharing", "documents", "signatures", "notifications")
WORKER = "worker"
PORTAL = "portal"
ADMIN = "admin"

# -- what each process calls, handles and sends ------------------------------------------

# The call graph, declared once (``porchlight.kit.service_calls`` refuses to start an edge
# missing here). SERVICE_CALLS: the services a service waits on (``TimedRpcProxy``); a
# test fails on a cycle, since a circle of waits can deadlock when every worker on it is
# taken. SERVICE_HANDOVERS: where a service hands a command over without waiting
# (``RpcHandover``): no worker is held, so these may point anywhere, itself included.
SERVICE_CALLS: dict[str, tuple[str, ...]] = {
    "identity": (),
    "sharing": (),
    # A record sent to its customer: its link from sharing, its email from notifications.
    "documents": ("signatures", "identity", "sharing", "notifications"),
    "signatures": (),
    # Workspaces and customers for emails; a new link when staff resend an email.
    "notifications": ("identity", "sharing"),
}
SERVICE_HANDOVERS: dict[str, tuple[str, ...]] = {
    # The sign-in email is prepared after the answer, so every address answers alike.
    "identity": ("identity", "notifications"),
}
# The services whose events a service handles (its @event_handler sources).
SERVICE_HANDLES: dict[str, tuple[str, ...]] = {"notifications": ("documents",)}
# The services that queue Celery tasks (a TaskQueue dependency).
TASK_SENDERS = ("documents", "notifications")
# Where every Celery app of Porchlight (the services' TaskQueue, the worker's beat) sends a
# task: the ``celery`` exchange by name. Left to itself Celery publishes through the
# default exchange, and the right to write there is the right to put a message in *any*
# queue by its name: a forged RPC straight into ``rpc-identity``, past every topic rule.
# The queue is named too: Celery then declares it (and the exchange, and the binding)
# before it publishes, as it does for the default exchange; a publish to an exchange the
# worker has not declared yet would be refused (404) and the task lost.
TASK_ROUTES = {"porchlight.*": {"queue": "celery", "exchange": "celery", "routing_key": "celery"}}

# Every RPC each process that is not a service makes, from its typed declaration
# (``porchlight.contracts.callers``): what it may call is what it declares.
RPC_METHODS: dict[str, dict[str, tuple[str, ...]]] = {
    PORTAL: declared(PortalServices),
    ADMIN: declared(AdminServices),
    WORKER: declared(WorkerServices),
}


def reply_key(owner: str, unique: str) -> str:
    """The routing key a process's answers come back under on ``nameko-rpc``:
    ``reply.<owner>.<unique>``, ``owner`` a service's name or a client's ``name``. The
    broker lets each process bind only its own (``porchlight.operator.broker_access``)."""
    return f"reply.{owner}.{unique}"
