"""Who calls whom, declared once: the services each service waits on or hands commands
to, the events it handles, the tasks it queues, and every RPC each process that is not a
service makes. ``porchlight.kit.service_calls`` refuses to start an edge missing here, a
test fails on a cycle of waits, and the broker's rights (``porchlight.operator.broker_access``)
are derived from it: a process may publish exactly the calls this module gives it."""

from __future__ import annotations

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

# Every RPC each non-service process makes; tests/unit/test_broker_access.py reads the
# gateways' and the worker's code and fails on a call missing here or listed but unused.
RPC_METHODS: dict[str, dict[str, tuple[str, ...]]] = {
    PORTAL: {
        "identity": (
            "change_password", "change_phone", "check_reset_link", "check_sign_in_link",
            "email_password_code", "get_workspace", "get_workspace_logo", "request_password_reset",
            "request_sign_in", "reset_password",
            "resolve_session", "sign_in_with_code", "sign_in_with_link", "sign_in_with_password",
            "sign_out",
            # An owner's team page: each checks the session it is given is an owner's.
            "add_team_member", "change_team_role", "invite_team_member", "list_team",
            "remove_team_member",
        ),
        "documents": (
            "customer_record_grant", "customer_records", "get_estimate_for_customer",
            "get_service_report_for_customer", "get_work_order_for_customer", "open_report_file",
            "respond_to_estimate", "sign_service_report",
        ),
        "sharing": ("check_token", "record_views", "resolve_token"),
        "signatures": ("find_certificate_by_artifact", "get_certificate"),
    },
    ADMIN: {
        "identity": (
            "authenticate_api_key", "create_contact", "create_customer", "get_contact",
            "get_customer", "get_workspace", "invite_contact", "list_contacts", "list_customers",
            "remove_access", "remove_workspace_logo", "set_temporary_password", "set_workspace_logo",
            "update_contact", "update_workspace",
        ),
        "documents": (
            "add_attachment", "complete_service_report", "convert_estimate", "create_estimate",
            "create_service_report", "create_work_order", "get_estimate", "get_service_report",
            "entity_exists", "get_signed_pdf", "get_work_order", "list_estimates",
            "list_service_reports", "list_work_orders", "send_estimate", "share_record",
            "update_estimate", "update_service_report", "update_work_order",
        ),
        "sharing": ("list_tokens", "revoke_token", "rotate_token"),
        "signatures": ("get_evidence",),
        "notifications": (
            "get_email", "list_emails", "list_inbox", "mark_all_read", "mark_read", "resend_email",
        ),
    },
}


def reply_key(owner: str, unique: str) -> str:
    """The routing key a process's answers come back under on ``nameko-rpc``:
    ``reply.<owner>.<unique>``, ``owner`` a service's name or a client's ``name``. The
    broker lets each process bind only its own (``porchlight.operator.broker_access``)."""
    return f"reply.{owner}.{unique}"
