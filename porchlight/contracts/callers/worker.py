"""Every call the worker's tasks (``workers/tasks.py``) make to a service, typed: one
class per service, one method per call, with the service's own parameters. The tasks call
services through these and nothing else — ``porchlight.client.rpc.Services`` refuses a
call not declared here — and the broker lets the worker's user publish exactly these
(``porchlight.contracts.calls.RPC_METHODS``, ``porchlight.operator.broker_access``).
tests/unit/test_callers.py checks each against the service's method."""

from __future__ import annotations

from typing import Any, Protocol


class Documents(Protocol):
    def expire_estimates(self) -> dict[str, int]: ...
    def get_service_report(self, workspace_id: str, report_id: str) -> dict[str, Any]: ...
    def get_signed_pdf(self, workspace_id: str, report_id: str) -> dict[str, Any]: ...
    def list_reports_missing_pdf(self, older_than_seconds: int = 120) -> list[dict[str, str]]: ...
    def recover_abandoned_answers(self, older_than_seconds: float | None = None) -> dict[str, int]: ...
    def recover_abandoned_signatures(self, older_than_seconds: float | None = None) -> dict[str, int]: ...
    def send_due_emails(self) -> dict[str, int]: ...
    def store_signed_pdf(self, workspace_id: str, report_id: str, data: dict) -> dict[str, Any]: ...


class Signatures(Protocol):
    def attach_artifact(self, workspace_id: str, certificate_id: str, data: dict) -> dict[str, Any]: ...
    def get_evidence(self, workspace_id: str, certificate_id: str) -> dict[str, Any]: ...


class Identity(Protocol):
    def get_workspace(self, workspace_id: str) -> dict[str, Any]: ...


class Notifications(Protocol):
    def claim_email(self, email_id: str) -> dict[str, Any] | None: ...
    def record_delivery(
        self, email_id: str, attempt: int, outcome: str, error: str | None = None
    ) -> bool: ...
    def sweep_emails(self) -> dict[str, int]: ...


class WorkerServices(Protocol):
    """What the worker may call."""

    documents: Documents
    signatures: Signatures
    identity: Identity
    notifications: Notifications
