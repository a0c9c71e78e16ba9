"""The workspace's logo: uploaded by staff, stored here without its image metadata, and
served to customers by the portal from its own address — so no other host learns who
looks at a business's pages or emails."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from porchlight.contracts import ATTENTION, answer, parse
from porchlight.contracts.errors import CONTRACT_ERRORS, InvalidInput
from porchlight.contracts.events import fact
from porchlight.contracts.workspaces import MAX_LOGO_BYTES, LogoUpload, StoredLogo
from porchlight.kit import image_metadata
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc

TOO_LARGE = f"A logo may be at most {MAX_LOGO_BYTES // 1024} KB."


def read_logo(data: Any) -> tuple[str, bytes]:
    """The logo's type and its bytes without metadata, or ``InvalidInput``."""
    upload = parse(LogoUpload, data)
    if len(upload.content_b64) > (MAX_LOGO_BYTES * 4) // 3 + 8:
        raise InvalidInput(ATTENTION, {"file": TOO_LARGE})
    try:
        content = base64.b64decode(upload.content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(ATTENTION, {"content_b64": "Must be base64."}) from None
    if len(content) > MAX_LOGO_BYTES:
        raise InvalidInput(ATTENTION, {"file": TOO_LARGE})
    try:
        return upload.content_type, image_metadata.strip(upload.content_type, content)
    except image_metadata.UnreadableImage:
        unreadable = f"The file is not a readable {upload.content_type} image."
        raise InvalidInput(ATTENTION, {"file": unreadable}) from None


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
