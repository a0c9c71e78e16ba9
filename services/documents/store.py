"""The documents database as the service's workers see it: one repository per aggregate,
behind the one ``Store`` dependency that opens the database."""

from __future__ import annotations

from porchlight.kit.idempotency import CommandLog
from services.documents.commands import DocumentsCommand
from services.documents.estimates.repository import EstimateRepository
from services.documents.files.repository import FileRepository
from services.documents.information_requests.repository import InformationRequestRepository
from services.documents.numbering import repository as numbering
from services.documents.project_comments.repository import ProjectCommentRepository
from services.documents.project_files.repository import ProjectFileRepository
from services.documents.projects.repository import ProjectRepository
from services.documents.service_reports.repository import ServiceReportRepository
from services.documents.work_orders.repository import WorkOrderRepository


class DocumentsRepository:
    def __init__(self) -> None:
        self.work_orders = WorkOrderRepository()
        self.estimates = EstimateRepository()
        self.service_reports = ServiceReportRepository()
        self.files = FileRepository()
        self.projects = ProjectRepository()
        self.project_files = ProjectFileRepository(self.projects, self.files)
        self.project_comments = ProjectCommentRepository()
        self.information_requests = InformationRequestRepository(self.files)
        self.commands = CommandLog(DocumentsCommand)

    def ensure_indexes(self) -> None:
        numbering.ensure_indexes()
        for repository in (self.work_orders, self.estimates, self.service_reports, self.files,
                           self.projects, self.project_files, self.project_comments, self.commands,
                           self.information_requests):
            repository.ensure_indexes()
