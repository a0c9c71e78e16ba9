"""Everything a portal page reads, from the read model first and the services second.

One ``PortalReads`` per process (``reads(app)``): it subscribes to the events that can
change a page (``porchlight.contracts.events.CUSTOMER_VISIBLE``) on the process's AMQP connection,
keeps the ``ReadModel`` current with them, and counts the link views people's browsers
report (``seen``) in ``Views``, which sends them to sharing in batches. Answers (accept, decline, sign) do not
come through here: they go to the owning service, synchronously, every time.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from gateway.portal.read_model import ReadModel, Subject
from gateway.web import amqp_client
from porchlight.client import ServiceUnavailable, typed
from porchlight.contracts import share_tokens
from porchlight.contracts.callers.portal import PortalServices
from porchlight.contracts.clock import isoformat, parse_iso, utcnow
from porchlight.contracts.errors import NotFound, Unauthorized
from porchlight.contracts.events import CUSTOMER_VISIBLE, model_of

log = logging.getLogger(__name__)


def subjects_of(service: str, event_type: str, payload: Any) -> tuple[Subject, ...]:
    """The records an event says changed: the fields its model marks as naming a record
    whose customer view changed (``porchlight.contracts.events.Names``). Only those ids are
    read, so a payload that is otherwise not as its model says still drops what it names."""
    model = model_of(service, event_type)
    if model is None or not isinstance(payload, dict):
        return ()
    return tuple((kind, str(payload[key])) for key, kind in model.record_fields() if payload.get(key))


class Batched:
    """Uses of what a page served from memory, counted here and sent to the service that
    keeps them in batches — at most every ``interval`` seconds and once more on shutdown. A
    batch that cannot be delivered is dropped, not retried: a use is never counted twice,
    and a crash or a broker outage loses at most one interval's counts."""

    what = "uses"  # for the log

    def __init__(self, send: Callable[[dict[str, Any]], Any], *, interval: float = 1.0,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._send, self.interval, self._now = send, interval, now
        self._pending: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def shape(self, batch: dict[str, tuple[int, datetime]]) -> dict[str, Any]:
        """The batch as its service takes it: ``{id: (count, latest use)}`` → the contract."""
        raise NotImplementedError

    def count(self, key: str) -> None:
        at = self._now()
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = [1, at]
            else:
                entry[0] += 1
                entry[1] = at

    def pending(self) -> int:
        with self._lock:
            return sum(count for count, _ in self._pending.values())

    def flush(self) -> int:
        """Send what was counted; returns the number of uses sent."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        total = sum(count for count, _ in batch.values())
        try:
            self._send(self.shape({key: (count, at) for key, (count, at) in batch.items()}))
        except ServiceUnavailable as exc:
            log.warning("%d %s could not be counted: %s", total, self.what, exc)
            return 0
        return total

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"portal-{self.what}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the next interval tries again
                log.exception("sending %s failed", self.what)

    def stop(self) -> None:
        """Stop the timer and send what is left (graceful shutdown)."""
        self._stopping.set()
        self.flush()


class Views(Batched):
    """Views of links served from memory, for sharing (``ViewBatch``)."""

    what = "link views"

    def shape(self, batch: dict[str, tuple[int, datetime]]) -> dict[str, Any]:
        return {"views": [{"share_token_id": token_id, "count": count, "last_accessed_at": isoformat(at)}
                          for token_id, (count, at) in batch.items()]}


class SessionUses(Batched):
    """Sessions served from memory, for identity (``SessionUses``): a session in use must
    not end as idle because its pages no longer ask identity."""

    what = "session uses"

    def shape(self, batch: dict[str, tuple[int, datetime]]) -> dict[str, Any]:
        return {"sessions": [{"session_id": session_id, "last_used_at": isoformat(at)}
                             for session_id, (_, at) in batch.items()]}


# A link's grant kept in memory is asked for again this long before its capability ends, so
# the capability a page hands on (to its file links, to an answer) still has that long: as
# long as a file link lives by default (PORCHLIGHT_FILE_LINK_SECONDS).
CAPABILITY_MARGIN = timedelta(minutes=10)


def _kept_until(grant: dict[str, Any]) -> datetime:
    """How long a link's grant may be kept: until the link ends, and never past its
    capability's end (less the margin)."""
    ends = grant["capability_expires_at"] - CAPABILITY_MARGIN
    return min(ends, grant["expires_at"]) if grant["expires_at"] is not None else ends


# What each list of ``documents.customer_records`` holds.
LIST_KINDS = {"work_orders": "work_order", "estimates": "estimate", "service_reports": "service_report"}


def _records_subjects(customer_id: str, lists: dict[str, Any]) -> tuple[Subject, ...]:
    return (("customer", customer_id), *((kind, line["id"]) for name, kind in LIST_KINDS.items()
                                         for line in lists.get(name, ())))


def _records_until(lists: dict[str, Any]) -> datetime | None:
    ends = [parse_iso(line["open_until"]) for line in lists.get("estimates", ()) if line.get("open_until")]
    return min(ends, default=None)


def _session_key(raw: str) -> tuple[str, str]:
    """A session's place in memory: the cookie's SHA-256, never the cookie."""
    return ("session", hashlib.sha256(raw.encode("utf-8")).hexdigest())


def _session_subjects(account: dict[str, Any]) -> tuple[Subject, ...]:
    return (("contact", account["contact"]["id"]), ("workspace", account["workspace_id"]))


def _session_until(account: dict[str, Any]) -> datetime:
    """A session's answer is kept until the session ends or would end as idle, and while
    the capability it hands on still has ``CAPABILITY_MARGIN`` to run."""
    return min(parse_iso(account["expires_at"]), parse_iso(account["idle_ends_at"]),
               parse_iso(account["capability_expires_at"]) - CAPABILITY_MARGIN)


def _open_until(view: dict[str, Any]) -> datetime | None:
    return parse_iso(view["open_until"]) if view.get("open_until") else None


class PortalReads:
    def __init__(self, client: Any, *, capacity: int = 10_000, lifetime: float = 60.0,
                 flush_interval: float = 1.0, now: Callable[[], datetime] = utcnow,
                 clock: Callable[[], float] | None = None) -> None:
        self.client = client
        self._now = now
        extra = {"clock": clock} if clock else {}
        self.model = ReadModel(capacity=capacity, lifetime=lifetime, now=now, **extra)
        self.views = Views(lambda batch: self.services.sharing.record_views(batch),
                           interval=flush_interval, now=now)
        self.session_uses = SessionUses(lambda batch: self.services.identity.record_session_use(batch),
                                        interval=flush_interval, now=now)

    @property
    def services(self) -> PortalServices:
        """The services through the client, as the portal declares its calls to them."""
        return typed(self.client, PortalServices)

    def start(self) -> None:
        bindings = [(service, event) for service, names in CUSTOMER_VISIBLE.items() for event in names]
        self.client.subscribe(bindings, self.on_event,
                              on_ready=self.model.resume, on_lost=self.model.suspend)
        self.views.start()
        self.session_uses.start()

    def close(self) -> None:
        self.views.stop()
        self.session_uses.stop()

    def on_event(self, service: str, event_type: str, payload: dict[str, Any]) -> None:
        subjects = subjects_of(service, event_type, payload)
        if subjects:
            self.model.changed(*subjects)

    # -- links ---------------------------------------------------------------------------
    def grant(self, raw: str, entity_type: str) -> dict[str, Any]:
        """What a token lets its holder view: from memory or from sharing. Anything else is
        NotFound — malformed tokens never reach a service, and expiry is checked against
        the clock on every view. Nothing is counted here (see ``seen``)."""
        if share_tokens.entity_type_of(raw) != entity_type:
            raise NotFound("Unknown link.")
        key = ("link", share_tokens.digest(raw))
        link = self.model.get(key)
        if link is None:
            link = self.model.fill(
                key, lambda grant: (("share_token", grant["share_token_id"]),),
                lambda: self._ask_sharing(raw, entity_type, "view"), until=_kept_until)
        if self._expired(link):
            self.model.forget(key)
            raise NotFound("Unknown link.")
        return link

    def seen(self, workspace_id: str, share_token_id: str, digest: str) -> None:
        """A person's browser shows the page of a link (named by its id and its token's
        SHA-256, from the page's signed ticket): one view, counted here and sent to sharing
        with the next batch — if the link still works, as this process's memory knows or
        else as sharing says. NotFound otherwise."""
        link = self.model.get(("link", digest))
        known_live = link is not None and link["share_token_id"] == share_token_id and not self._expired(link)
        if not known_live and not self.services.sharing.check_token(workspace_id, share_token_id):
            raise NotFound("Unknown link.")
        self.views.count(share_token_id)

    def _expired(self, link: dict[str, Any]) -> bool:
        return link["expires_at"] is not None and link["expires_at"] <= self._now()

    def resolve(self, raw: str, entity_type: str, permission: str) -> dict[str, Any]:
        """The grant for an answer: asked of sharing every time, never from memory."""
        if share_tokens.entity_type_of(raw) != entity_type:
            raise NotFound("Unknown link.")
        return self._ask_sharing(raw, entity_type, permission)

    def _ask_sharing(self, raw: str, entity_type: str, permission: str) -> dict[str, Any]:
        grant = self.services.sharing.resolve_token(raw, entity_type, permission)
        expires_at = grant.get("expires_at")
        return {**grant, "expires_at": parse_iso(expires_at) if expires_at else None,
                "capability_expires_at": parse_iso(grant["capability_expires_at"])}

    # -- who is signed in ------------------------------------------------------------------
    def session(self, raw: str) -> dict[str, Any]:
        """Who a session cookie signs in: from memory (the use counted here, sent to
        identity in batches) or from identity; ``Unauthorized`` when nobody. Kept under the
        cookie's SHA-256, never the cookie; never past the session's end or its idle end,
        checked against the clock on every request; dropped the moment identity announces
        a change to the contact (sign-out, password, role, access) or the workspace."""
        if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
            raise Unauthorized("Please sign in.")
        key = _session_key(raw)
        account = self.model.get(key)
        if account is None:
            return self.model.fill(key, _session_subjects,
                                   lambda: self.services.identity.resolve_session(raw), until=_session_until)
        self.session_uses.count(account["session_id"])
        return account

    def forget_session(self, raw: str) -> None:
        """Drop what this process holds of a session it just changed or ended: its next
        request asks identity, without waiting for the event."""
        if isinstance(raw, str):
            self.model.forget(_session_key(raw))

    # -- a signed-in customer's lists -------------------------------------------------------
    def customer_records(self, account: dict[str, Any]) -> dict[str, Any]:
        """A signed-in contact's lists of records (``documents.customer_records``), kept per
        customer and role: dropped when a listed record changes or one joins the
        customer's lists (an event naming the customer), and never kept past the moment
        an estimate in them stops awaiting an answer."""
        customer_id = account["customer"]["id"]
        key = ("records", account["workspace_id"], customer_id, account["contact"]["role"])
        return self.model.fetch(
            key, lambda lists: _records_subjects(customer_id, lists),
            lambda: self.services.documents.customer_records(account["capability"]), until=_records_until)

    def customer_list(self, account: dict[str, Any], kind: str, query: dict[str, str]) -> dict[str, Any]:
        """A page of one of a signed-in contact's lists (``documents.customer_list``), kept
        per customer, role and query like the dashboard's lists."""
        customer_id = account["customer"]["id"]
        key = ("list", account["workspace_id"], customer_id, account["contact"]["role"], kind,
               query.get("status"), query.get("cursor"))
        return self.model.fetch(
            key, lambda page: _records_subjects(customer_id, {kind: page["items"]}),
            lambda: self.services.documents.customer_list(account["capability"], kind, query),
            until=lambda page: _records_until({kind: page["items"]}))

    # -- projects: shared with the customer, per resource ----------------------------------
    def customer_projects(self, account: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        """A page of the projects shared with a signed-in contact's customer
        (``documents.customer_projects``), kept per customer, role and query: dropped when
        a share of the customer's changes (``share_changed`` names the customer), when a
        listed project changes, or when any project of the customer moves in the list
        (``project_updated`` and ``project_activity`` name its customer)."""
        customer_id = account["customer"]["id"]
        key = ("projects", account["workspace_id"], customer_id, account["contact"]["role"],
               query.get("status"), query.get("cursor"), query.get("limit"))
        return self.model.fetch(
            key, lambda page: (("customer", customer_id),
                               *(("project", card["id"]) for card in page["items"])),
            lambda: self.services.documents.customer_projects(account["capability"], query))

    def project(self, account: dict[str, Any], project_id: str) -> dict[str, Any]:
        """One project as the signed-in contact's customer sees it
        (``documents.get_project_for_customer``, which refuses one not shared with them),
        kept per customer and role — the share is the customer's, what it allows depends
        on the role — and dropped by any event naming the project: a change to it, its
        hours or tasks, or to its share (``share_changed``: stopped, the next view is the
        404 page). A refusal is never kept."""
        customer_id = account["customer"]["id"]
        key = ("project", account["workspace_id"], customer_id, account["contact"]["role"], project_id)
        return self.model.fetch(
            key, lambda view: (("project", view["id"]),),
            lambda: self.services.documents.get_project_for_customer(account["capability"], project_id))

    def project_files(self, account: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        """A page of the files a signed-in contact may download (``documents.customer_documents``):
        of every project shared with their customer, or of one (``project_id``). Kept per
        customer, role and query; dropped by any event naming the customer (a share changed,
        a file added to or removed from one of its projects) or one of the projects."""
        customer_id = account["customer"]["id"]
        key = ("project_files", account["workspace_id"], customer_id, account["contact"]["role"],
               query.get("project_id"), query.get("cursor"))

        def subjects(page: dict[str, Any]) -> tuple[Subject, ...]:
            projects = {item["project_id"] for item in page["items"]} | (
                {query["project_id"]} if query.get("project_id") else set())
            return (("customer", customer_id), *(("project", pid) for pid in sorted(projects)))

        return self.model.fetch(
            key, subjects, lambda: self.services.documents.customer_documents(account["capability"], query))

    def project_comments(self, account: dict[str, Any], project_id: str,
                         query: dict[str, str]) -> dict[str, Any]:
        """A page of a project's comments, newest first (``documents.customer_comments``),
        kept per customer, role and page; dropped by any event naming the project (a comment
        posted or hidden, its share changed)."""
        key = ("project_comments", account["workspace_id"], account["customer"]["id"],
               account["contact"]["role"], project_id, query.get("cursor"))
        return self.model.fetch(
            key, lambda _: (("project", project_id),),
            lambda: self.services.documents.customer_comments(account["capability"], project_id, query))

    # -- information requests: of the projects shared with the customer ---------------------
    def customer_information_requests(self, account: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        """A page of one tab of the information requests a signed-in contact's customer sees
        (``documents.customer_information_requests``), kept per customer, role and query:
        dropped when a share of the customer's changes (``share_changed`` names the
        customer), and by any event naming one of the shared projects the list is made of —
        a request sent, answered, reviewed or cancelled names its project."""
        customer_id = account["customer"]["id"]
        key = ("information_requests", account["workspace_id"], customer_id, account["contact"]["role"],
               query.get("tab"), query.get("cursor"), query.get("limit"))
        return self.model.fetch(
            key, lambda page: (("customer", customer_id), *(("project", pid) for pid in page["project_ids"]),
                               *(("information_request", card["id"]) for card in page["items"])),
            lambda: self.services.documents.customer_information_requests(account["capability"], query))

    def information_request(self, account: dict[str, Any], request_id: str) -> dict[str, Any]:
        """One request as the signed-in contact's customer sees it
        (``documents.get_information_request_for_customer``), kept per customer and role —
        whether they may answer depends on the share's level and the role — and dropped by
        any event naming the request or its project (a change of its share among them). A
        refusal is never kept."""
        customer_id = account["customer"]["id"]
        key = ("information_request", account["workspace_id"], customer_id, account["contact"]["role"],
               request_id)
        return self.model.fetch(
            key, lambda view: (("information_request", view["id"]), ("project", view["project_id"])),
            lambda: self.services.documents.get_information_request_for_customer(account["capability"],
                                                                                 request_id))

    # -- records -------------------------------------------------------------------------
    def _record(self, kind: str, grant: dict[str, Any], method: str, *args: Any,
                until: Callable[[Any], datetime | None] | None = None) -> Any:
        """A record as its customer sees it: from memory, or from documents on the grant's
        capability (documents decides from that alone what the grant may see)."""
        workspace_id, record_id = grant["workspace_id"], grant["entity_id"]
        return self.model.fetch(
            (kind, workspace_id, record_id, *args), lambda _: ((kind, record_id),),
            lambda: getattr(self.services.documents, method)(grant["capability"], record_id, *args), until)

    def work_order(self, grant: dict[str, Any]) -> dict[str, Any]:
        return self._record("work_order", grant, "get_work_order_for_customer")

    def estimate(self, grant: dict[str, Any], include: list[str] | None) -> dict[str, Any]:
        # An open estimate stops being answerable at its end, with or without an event.
        return self._record("estimate", grant, "get_estimate_for_customer",
                            tuple(include) if include is not None else None, until=_open_until)

    def service_report(self, grant: dict[str, Any]) -> dict[str, Any]:
        return self._record("service_report", grant, "get_service_report_for_customer")

    def workspace(self, workspace_id: str) -> dict[str, Any]:
        return self.model.fetch(
            ("workspace", workspace_id), lambda _: (("workspace", workspace_id),),
            lambda: self.services.identity.get_workspace(workspace_id))

    def customer_language(self, workspace_id: str, customer_id: str) -> str | None:
        """The language a customer reads (a customer is never changed, so it is kept as
        long as anything is); None when the customer is gone."""
        def load() -> dict[str, Any]:
            try:
                return self.services.identity.customer_language(workspace_id, customer_id)
            except NotFound:
                return {"language": None}
        return self.model.fetch(("customer_language", workspace_id, customer_id),
                                lambda _: (("customer", customer_id),), load)["language"]

    def logo(self, workspace_id: str) -> dict[str, Any]:
        """The workspace's logo (``sha256`` None: none), kept until the workspace changes."""
        def load() -> dict[str, Any]:
            try:
                return self.services.identity.get_workspace_logo(workspace_id)
            except NotFound:
                return {"sha256": None}
        return self.model.fetch(("logo", workspace_id), lambda _: (("workspace", workspace_id),), load)

    def certificate(self, certificate_id: str) -> dict[str, Any]:
        return self.model.fetch(
            ("certificate", certificate_id), lambda _: (("certificate", certificate_id),),
            lambda: self.services.signatures.get_certificate(certificate_id))


_lock = threading.Lock()


def reads(app: Flask) -> PortalReads:
    """The app's one ``PortalReads``, started on first use (after gunicorn forks)."""
    found = app.extensions.get("portal_reads")
    if found is None:
        with _lock:
            found = app.extensions.get("portal_reads")
            if found is None:
                found = PortalReads(
                    amqp_client(app), capacity=int(app.config["PORTAL_CACHE_ENTRIES"]),
                    lifetime=float(app.config["PORTAL_CACHE_SECONDS"]),
                    flush_interval=float(app.config["VIEW_FLUSH_SECONDS"]))
                found.start()
                atexit.register(found.close)  # the last views, on a graceful shutdown
                app.extensions["portal_reads"] = found
    return found
