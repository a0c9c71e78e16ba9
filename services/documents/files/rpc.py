"""The stored-file RPC methods of the documents service."""

from __future__ import annotations

from typing import Any

from porchlight.contracts.errors import NotFound
from porchlight.kit.service_rpc import rpc
from services.documents.dependencies import DocumentsDependencies
from services.documents.files.wire import file_to_wire


class FileRpc(DocumentsDependencies):
    @rpc(expected_exceptions=(NotFound,))
    def open_file(self, workspace_id: str, file_id: str) -> dict[str, Any]:
        return file_to_wire(self.repo.files.get(workspace_id, file_id))
