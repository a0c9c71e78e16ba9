"""What the staff API's areas share: the services as the API calls them, a checked request
in the words a service takes (``wire``, ``uploaded_file``), and the links of a minted share
link, which several areas answer with."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, request

from gateway.web import amqp_client
from porchlight.client import typed
from porchlight.contracts import Contract, Query
from porchlight.contracts.callers.admin import AdminServices
from porchlight.contracts.errors import InvalidInput

# Where the id of what an operation created is found, for the operations that use it
# (OpenAPI links: they also guide the stateful phase of the API's contract test).
SHARE_LINK_LINKS = {"revokeShareToken": {"token_id": "/share_token/id"},
                    "rotateShareToken": {"token_id": "/share_token/id"}}


@contextmanager
def rpc() -> Iterator[AdminServices]:
    """The services, as the admin API declared its calls to them."""
    yield typed(amqp_client(current_app), AdminServices)


def wire(model: Contract | Query, *, partial: bool = False) -> dict[str, Any]:
    """What the caller sent, as checked: trimmed, blank as null; in a PATCH (``partial``)
    the fields that were not sent are left out, so they do not change."""
    return model.model_dump(mode="json", exclude_unset=partial)


def uploaded_file() -> dict[str, str]:
    """The multipart field ``file`` as a service takes an upload: its name, its declared
    type and its bytes in base64. The service checks them."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Some fields need attention.",
                           {"file": "Send the file as multipart/form-data in the field 'file'."})
    with upload.stream:  # a large one is spooled to a temporary file: closed once read
        return {
            "filename": (upload.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file",
            "content_type": upload.mimetype,
            "content_b64": base64.b64encode(upload.read()).decode("ascii"),
        }
