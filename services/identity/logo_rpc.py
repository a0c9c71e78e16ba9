"""The workspace's logo: uploaded by staff, stored here without its image metadata, and
served to customers by the portal from its own address — so no other host learns who
looks at a business's pages or emails."""

from __future__ import annotations

import base64
from typing import Any

from porchlight.contracts import answer, parse
from porchlight.contracts.errors import CONTRACT_ERRORS
from porchlight.contracts.events import fact
from porchlight.contracts.workspaces import MAX_LOGO_BYTES, LogoUpload, StoredLogo
from porchlight.kit import uploads
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc

TOO_LARGE = f"A logo may be at most {MAX_LOGO_BYTES // 1024} KB."


def read_logo(data: Any) -> tuple[str, bytes]:
    """The logo's type and its bytes without metadata, or ``InvalidInput``."""
    upload = parse(LogoUpload, data)
    content = uploads.decoded(upload.content_b64, MAX_LOGO_BYTES, TOO_LARGE)
    return upload.content_type, uploads.without_metadata(
        upload.content_type, content, f"The file is not a readable {upload.content_type} image.")


class LogoRpc:
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def set_workspace_logo(self, workspace_id: str, actor: str, data: dict) -> dict[str, Any]:
        """Store the workspace's logo (PNG, JPEG or WebP, at most ``MAX_LOGO_BYTES``),
        replacing any; the same image again changes nothing."""
        content_type, content = read_logo(data)
        _, changed = self.repo.set_logo(workspace_id, content_type, content)
        if changed:
            self.dispatch("workspace_updated", fact(workspace_id, actor, fields=["logo"]))
        return self.get_workspace(workspace_id)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def remove_workspace_logo(self, workspace_id: str, actor: str) -> dict[str, Any]:
        _, changed = self.repo.remove_logo(workspace_id)
        if changed:
            self.dispatch("workspace_updated", fact(workspace_id, actor, fields=["logo"]))
        return self.get_workspace(workspace_id)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_workspace_logo(self, workspace_id: str) -> dict[str, Any]:
        """The logo as the portal serves it (``NotFound``: none)."""
        logo = self.repo.logo(workspace_id)
        return answer(StoredLogo, sha256=logo.sha256, content_type=logo.content_type,
                      content_b64=base64.b64encode(logo.content).decode("ascii"))
