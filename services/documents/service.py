"""documents: the customer-facing records of a workspace — work orders, estimates,
service reports and the files they carry, projects with their hours, tasks and information
requests — as one nameko service.

This module only composes: each aggregate's RPC methods live in its own package
(``work_orders/rpc.py``, …); the dependencies they share are declared here, once.
"""

from __future__ import annotations

from porchlight.kit.grants import GrantKey
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import EventDispatcher, RequestTracing
from porchlight.kit.service_calls import TimedRpcProxy
from porchlight.kit.service_ops import Observed
from porchlight.kit.storage import Store
from porchlight.kit.task_queue import TaskQueue
from services.documents import ALIAS
from services.documents.customer_mail import (
    MAIL_TIMEOUT,
    MAIL_UNAVAILABLE,
    SHARING_TIMEOUT,
    SHARING_UNAVAILABLE,
    CustomerMailRpc,
)
from services.documents.customer_records import CustomerRecordsRpc
from services.documents.estimates.rpc import EstimateRpc
from services.documents.evidence import EVIDENCE_TIMEOUT, NOT_RECORDED, REPLY_GRACE
from services.documents.information_requests.rpc import InformationRequestRpc
from services.documents.links import LinkRpc
from services.documents.project_comments.rpc import ProjectCommentRpc
from services.documents.project_files.rpc import ProjectFileRpc
from services.documents.projects.customer import CustomerProjectsRpc
from services.documents.projects.rpc import ProjectRpc
from services.documents.service_reports.rpc import ServiceReportRpc
from services.documents.share_grants import ShareGrantRpc
from services.documents.store import DocumentsRepository
from services.documents.work_orders.rpc import WorkOrderRpc
from services.documents.workspace import IDENTITY_TIMEOUT, IDENTITY_UNAVAILABLE


class DocumentsService(Ping, Observed, WorkOrderRpc, EstimateRpc, ServiceReportRpc, ProjectRpc, LinkRpc,
                       CustomerRecordsRpc, CustomerMailRpc, ShareGrantRpc, CustomerProjectsRpc,
                       ProjectFileRpc, ProjectCommentRpc, InformationRequestRpc):
    name = "documents"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: DocumentsRepository = Store(ALIAS, DocumentsRepository)
    dispatch = EventDispatcher()
    grant_key = GrantKey()  # signs or checks customers' grants (porchlight.kit.grants)
    # Evidence of customers' answers. The request expires at the evidence's deadline, so an
    # answer that was undone after a timeout is not recorded later behind the customer's
    # back (the request's ``deadline`` guards the same for one already picked up); the wait
    # lasts a little longer, so evidence stored just in time still reaches us.
    signatures = TimedRpcProxy("signatures", timeout=EVIDENCE_TIMEOUT + REPLY_GRACE,
                               expiration=EVIDENCE_TIMEOUT, refusal=NOT_RECORDED)
    # Customers and workspace settings: asked over RPC on staff commands; see workspace.py.
    identity = TimedRpcProxy("identity", timeout=IDENTITY_TIMEOUT, refusal=IDENTITY_UNAVAILABLE)
    # Sending a record to its customer: the link, then the email; see customer_mail.py. And
    # the level at which a project is shared with a customer (projects/customer.py).
    sharing = TimedRpcProxy("sharing", timeout=SHARING_TIMEOUT, refusal=SHARING_UNAVAILABLE)
    notifications = TimedRpcProxy("notifications", timeout=MAIL_TIMEOUT, refusal=MAIL_UNAVAILABLE)
    tasks = TaskQueue()
