"""``StaffApi``: a workspace's staff driving the admin API, the same in every suite.

The gateway tests reach the admin app through Flask's test client (``InProcess``); the
end-to-end and browser tests reach the running stack over HTTP (``OverHttp``). Either
way a test gets the same methods and the same ``Reply``: ``status_code``, ``headers``,
``content``, ``text``, and ``json`` as a property (the parsed body, or ``None`` when it
is not JSON), as Flask's test client has it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import requests
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from porchlight.contracts.clock import utcnow

API = "/api/v1"
# name, content, content type
Upload = tuple[str, bytes, str]


@dataclass(frozen=True)
class Reply:
    """One answer of the admin API."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive in both transports
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    @property
    def json(self) -> Any:
        mimetype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if mimetype == "application/json" or (mimetype.startswith("application/")
                                              and mimetype.endswith("+json")):
            return json.loads(self.content)
        return None


class Transport(Protocol):
    """Sends one request to a path under ``/api/v1``. At most one of ``json``, ``data``
    (a raw body; its Content-Type goes in ``headers``) and ``files`` is given."""

    def __call__(self, method: str, path: str, headers: dict[str, str], *, json: Any = None,
                 data: str | bytes | None = None, files: dict[str, Upload] | None = None) -> Reply: ...


class InProcess:
    """The admin app through Flask's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, method: str, path: str, headers: dict[str, str], *, json: Any = None,
                 data: str | bytes | None = None, files: dict[str, Upload] | None = None) -> Reply:
        body: dict[str, Any] = {}
        if files is not None:
            # Encoded in memory: the test client would spool a large body to a temporary
            # file and leave it open when the app refuses it unread (413).
            boundary, body["data"] = encode_multipart({
                field: FileStorage(io.BytesIO(content), filename=name, content_type=content_type)
                for field, (name, content, content_type) in files.items()})
            body["content_type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body["data"] = data
        elif json is not None:
            body["json"] = json
        response = self.client.open(API + path, method=method, headers=headers, **body)
        return Reply(response.status_code, response.headers, response.get_data())


class OverHttp:
    """The admin gateway of a running stack, over HTTP."""

    def __init__(self, admin_url: str, timeout: float = 10.0) -> None:
        self.base = admin_url + API
        self.timeout = timeout
        self.session = requests.Session()

    def __call__(self, method: str, path: str, headers: dict[str, str], *, json: Any = None,
                 data: str | bytes | None = None, files: dict[str, Upload] | None = None) -> Reply:
        response = self.session.request(method, self.base + path, headers=headers, json=json,
                                        data=data, files=files, timeout=self.timeout)
        return Reply(response.status_code, response.headers, response.content)


class StaffApi:
    """One workspace's staff, with its API key, over either transport."""

    def __init__(self, transport: Transport, workspace_id: str, api_key: str) -> None:
        self.send = transport
        self.workspace_id = workspace_id
        self.api_key = api_key

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    # -- requests -----------------------------------------------------------------------
    def get(self, path: str) -> Reply:
        return self.send("GET", path, self.headers)

    def post(self, path: str, body: Any = None) -> Reply:
        return self.send("POST", path, self.headers, json=body)

    def patch(self, path: str, body: Any = None) -> Reply:
        return self.send("PATCH", path, self.headers, json=body)

    def put(self, path: str, body: Any = None) -> Reply:
        return self.send("PUT", path, self.headers, json=body)

    def delete(self, path: str) -> Reply:
        return self.send("DELETE", path, self.headers)

    def post_raw(self, path: str, data: str | bytes, content_type: str) -> Reply:
        """A body exactly as given, whatever it holds."""
        return self.send("POST", path, {**self.headers, "Content-Type": content_type}, data=data)

    def upload(self, path: str, field: str, file: Upload, method: str = "POST") -> Reply:
        return self.send(method, path, self.headers, files={field: file})

    def created(self, path: str, body: Any = None) -> Any:
        """POST that must create (201); the created record."""
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        return response.json

    def every(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every record a paged list holds, walked 100 at a time to its end."""
        records: list[dict[str, Any]] = []
        joined = "&" if "?" in path else "?"
        cursor = ""
        while True:
            reply = self.get(f"{path}{joined}limit=100" + (f"&cursor={cursor}" if cursor else ""))
            assert reply.status_code == 200, reply.text
            records += reply.json[key]
            cursor = reply.json["next_cursor"]
            if cursor is None:
                return records

    # -- records ------------------------------------------------------------------------
    def workspace(self) -> dict[str, Any]:
        """The workspace as the API shows it now."""
        response = self.get("/workspace")
        assert response.status_code == 200, response.text
        return response.json

    def work_order(self, **fields: Any) -> dict[str, Any]:
        return self.created("/work-orders", {"title": "Fix the boiler", **fields})

    def share(self, entity_id: str, **fields: Any) -> dict[str, Any]:
        """A view link to a work order: ``{"token", "url", "share_token"}``."""
        return self.created("/share-tokens", {
            "entity": {"type": "work_order", "id": entity_id}, "permissions": ["view"], **fields,
        })

    def tokens(self, entity_id: str, entity_type: str = "work_order") -> list[dict[str, Any]]:
        """The record's links, newest first."""
        listed = self.get(f"/share-tokens?entity_type={entity_type}&entity_id={entity_id}")
        assert listed.status_code == 200, listed.text
        return listed.json["share_tokens"]

    def report_awaiting_signature(self, narrative: str = "Replaced the circulation pump.", *,
                                  photo: bytes | None = None, filename: str = "pump.png") -> dict[str, Any]:
        """A completed service report, with a PNG ``photo`` if given: ``{"service_report",
        "url", ...}`` with a link to sign it."""
        wo = self.work_order(location="12 Orchard Lane")
        report = self.created("/service-reports", {"work_order_id": wo["id"], "narrative": narrative})
        if photo is not None:
            uploaded = self.upload(f"/service-reports/{report['id']}/attachments", "file",
                                   (filename, photo, "image/png"))
            assert uploaded.status_code == 201, uploaded.text
        return self.created(f"/service-reports/{report['id']}/complete")

    def sent_estimate(self, line_items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        """An estimate valid for 14 days, sent: ``{"estimate", "url", ...}`` with a link
        that can answer it."""
        estimate = self.created("/estimates", {
            "title": "Boiler repair", "line_items": line_items,
            "valid_until": (utcnow() + timedelta(days=14)).date().isoformat(), **fields,
        })
        return self.created(f"/estimates/{estimate['id']}/send")
