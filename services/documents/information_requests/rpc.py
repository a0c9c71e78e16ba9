"""The information-request RPC methods of the documents service.

Staff write a request as a draft on a project, change it while it is one, send it, cancel
it, and accept or return each answered item. Sending needs someone to answer: the project
must be shared with at least one customer who has a portal contact who joined (``Conflict``
otherwise); each such customer's contacts are then emailed a link to the request in their
account — no secret in it: it opens nothing until they sign in.

A customer's signed-in contacts see the requests of the projects shared with their
customer (never a draft nor a cancelled one), read them with a ``view`` share, and answer
them with ``comment`` or higher (an answer is the customer writing to the project, as a
comment is; members too). Every refusal of a request they may not see — unknown, another
workspace's or customer's, a draft, cancelled, its project no longer shared — is the same
``NotFound``.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from porchlight.contracts import parse
from porchlight.contracts.errors import CONTRACT_ERRORS, Conflict, NotFound
from porchlight.contracts.events import fact
from porchlight.contracts.information_requests import (
    OPEN,
    SHOWN,
    AnswerInput,
    CustomerRequestQuery,
    InformationRequestInput,
    InformationRequestPatch,
    InformationRequestQuery,
    ReturnItemInput,
)
from porchlight.contracts.paging import DEFAULT_PAGE, QUERY_ATTENTION
from porchlight.kit.grants import CustomerGrant
from porchlight.kit.idempotency import idempotent
from porchlight.kit.service_rpc import rpc
from porchlight.kit.storage import next_cursor
from services.documents import customer_access, customer_mail
from services.documents.dependencies import DocumentsDependencies
from services.documents.information_requests import rules
from services.documents.information_requests.models import InformationRequest
from services.documents.information_requests.wire import customer_card, customer_request, request_to_wire
from services.documents.projects.rules import FINAL as FINAL_PROJECT
from services.documents.projects.rules import final_message

NO_PIECE = "No such piece of this file."
NOBODY_TO_ASK = ("Nobody would see this request: share the project with a customer who has a portal "
                 "contact that accepted their invitation (POST /share-grants), then send it.")
# A project is shared with a handful of customers; one page of its live shares holds them all.
SHARES_PAGE = "100"
TABS = {"open": OPEN, "completed": ("completed",)}


class InformationRequestRpc(DocumentsDependencies):
    # -- staff ------------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def create_information_request(self, workspace_id: str, actor: str, project_id: str,
                                   data: dict) -> dict[str, Any]:
        """A new request (``InformationRequestInput``), a draft, numbered IR-0001, … on a
        project that is not completed or cancelled."""
        project = self.repo.projects.get(workspace_id, project_id)
        request = parse(InformationRequestInput, data)
        if project.status in FINAL_PROJECT:
            raise Conflict(final_message(project.status))
        created = self.repo.information_requests.create(workspace_id, actor, str(project.id), request.title,
                                                        [item.prompt for item in request.items])
        self.dispatch("information_request_created", fact(
            workspace_id, actor, information_request_id=str(created.id), project_id=created.project_id))
        return request_to_wire(created)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_information_request(self, workspace_id: str, request_id: str) -> dict[str, Any]:
        return request_to_wire(self.repo.information_requests.get(workspace_id, request_id))

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def list_information_requests(self, workspace_id: str, project_id: str, query: dict) -> dict[str, Any]:
        """A project's requests, newest first, a page at a time, filtered by state if asked."""
        request = parse(InformationRequestQuery, query, message=QUERY_ATTENTION)
        project = self.repo.projects.get(workspace_id, project_id)
        found, more = self.repo.information_requests.page(
            workspace_id, str(project.id), request.status, cursor=request.cursor,
            limit=request.limit or DEFAULT_PAGE)
        return {"information_requests": [request_to_wire(r) for r in found],
                "next_cursor": next_cursor(found, more)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def update_information_request(self, workspace_id: str, actor: str, request_id: str,
                                   data: dict) -> dict[str, Any]:
        """Change a draft's title or items (``InformationRequestPatch``); any other state is
        ``Conflict``. A patch that changes nothing is no change, whatever the state."""
        patch = parse(InformationRequestPatch, data)
        sent = patch.sent()
        prompts = [item.prompt for item in patch.items] if "items" in sent and patch.items else None
        title = patch.title if "title" in sent else None
        changed, did = self.repo.information_requests.edit_draft(workspace_id, actor, request_id, title,
                                                                 prompts)
        if did:
            fields = sorted(name for name, value in (("title", title), ("items", prompts))
                            if value is not None)
            self.dispatch("information_request_draft_changed", fact(
                workspace_id, actor, information_request_id=request_id, project_id=changed.project_id,
                fields=fields))
        return request_to_wire(changed)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def send_information_request(self, workspace_id: str, actor: str, request_id: str) -> dict[str, Any]:
        """draft → sent, and an email to the contacts of each customer the project is shared
        with. Sending a sent or answered request again emails again (a reminder; the same
        command retried under its key answers what it did the first time); a final one is
        ``Conflict``, and so is a request nobody would see (``NOBODY_TO_ASK``)."""
        current = self.repo.information_requests.get(workspace_id, request_id)
        rules.ensure_sendable(current.status)
        project = self.repo.projects.get(workspace_id, current.project_id)
        if project.status in FINAL_PROJECT:
            raise Conflict(final_message(project.status))
        customers = self._audience(workspace_id, current.project_id)
        if not customers:
            raise Conflict(NOBODY_TO_ASK)
        sent, changed = self.repo.information_requests.send(workspace_id, actor, request_id)
        if changed:
            self.dispatch("information_request_sent", fact(
                workspace_id, actor, information_request_id=request_id, project_id=sent.project_id,
                customer_ids=customers))
        emails = [customer_mail.email(
            self.notifications, workspace_id, actor, "information_request_sent",
            f"information_request_sent:{request_id}:{customer_id}:{uuid.uuid4().hex}",
            {"type": "information_request", "id": request_id, "number": sent.number, "title": sent.title,
             "customer_id": customer_id, "project_name": project.name})
            for customer_id in customers]
        return {"information_request": request_to_wire(sent), "customer_emails": emails}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def cancel_information_request(self, workspace_id: str, actor: str, request_id: str) -> dict[str, Any]:
        """Withdraw a request that is not final: the customer no longer sees it."""
        cancelled, _ = self.repo.information_requests.cancel(workspace_id, actor, request_id)
        self.dispatch("information_request_cancelled", fact(
            workspace_id, actor, information_request_id=request_id, project_id=cancelled.project_id))
        return request_to_wire(cancelled)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def accept_information_item(self, workspace_id: str, actor: str, request_id: str,
                                item_id: str) -> dict[str, Any]:
        """Accept an answered item; the last one accepted completes the request. Accepting
        an accepted item changes nothing; an item not answered (or returned) is ``Conflict``."""
        accepted, changed = self.repo.information_requests.accept(workspace_id, actor, request_id, item_id)
        if changed:
            self._reviewed(accepted, actor, item_id, "accepted")
        return request_to_wire(accepted)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    @idempotent()
    def return_information_item(self, workspace_id: str, actor: str, request_id: str, item_id: str,
                                data: dict) -> dict[str, Any]:
        """Send an answered item back to the customer with a note (``ReturnItemInput``)."""
        note = parse(ReturnItemInput, data).note
        returned = self.repo.information_requests.send_back(workspace_id, actor, request_id, item_id, note)
        self._reviewed(returned, actor, item_id, "returned")
        return request_to_wire(returned)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def open_information_answer_file(self, workspace_id: str, request_id: str, item_id: str,
                                     file_id: str) -> dict[str, Any]:
        """A file of an item's latest answer, to download: what it is and how many
        ``pieces`` to ask for (``information_answer_file_piece``)."""
        found, stored = self._answer_file(workspace_id, request_id, item_id, file_id)
        return {"name": found.name, "content_type": found.content_type, "size": found.size,
                "sha256": found.sha256, "pieces": max(stored.chunks, 1)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def information_answer_file_piece(self, workspace_id: str, request_id: str, item_id: str, file_id: str,
                                      n: int) -> dict[str, Any]:
        """The ``n``-th piece (from 0) of an answer's file: ``content_b64``."""
        _, stored = self._answer_file(workspace_id, request_id, item_id, file_id)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise NotFound(NO_PIECE)
        return {"content_b64": base64.b64encode(self.repo.files.piece(stored, n)).decode("ascii")}

    # -- customers --------------------------------------------------------------------------
    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def customer_information_requests(self, capability: str, query: dict | None = None) -> dict[str, Any]:
        """The requests of the projects shared with a signed-in contact's customer, in one
        tab (``CustomerRequestQuery``: ``open`` — sent or in progress — or ``completed``),
        the latest sent first, a page at a time: ``items`` (cards), ``next_cursor``,
        ``counts`` (open, completed; on every page) and ``project_ids`` (the shared
        projects the list is made of)."""
        grant = customer_access.session_of(capability)
        request = parse(CustomerRequestQuery, query or {}, message=QUERY_ATTENTION)
        shared = list(customer_access.shared_projects(self.sharing, grant))
        repo = self.repo.information_requests
        found, more = repo.shown_page(grant.workspace_id, shared, TABS[request.tab or "open"],
                                      cursor=request.cursor, limit=request.limit or DEFAULT_PAGE)
        names = self.repo.projects.names(grant.workspace_id, list({r.project_id for r in found}))
        return {"items": [customer_card(r, names.get(r.project_id)) for r in found],
                "next_cursor": next_cursor(found, more),
                "counts": repo.shown_counts(grant.workspace_id, shared), "project_ids": sorted(shared)}

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def get_information_request_for_customer(self, capability: str, request_id: str) -> dict[str, Any]:
        """One request of a project shared with the signed-in contact's customer, with its
        items, the notes on returned ones, and what they may do (``may_answer``: the share
        allows it and the request is open; ``answerable`` on each item)."""
        grant, found = self._shown(capability, request_id)
        allowed = customer_access.permissions(self.repo, grant, "project", found.project_id, self.sharing)
        if "view" not in allowed:
            raise NotFound(rules.NO_REQUEST)
        names = self.repo.projects.names(grant.workspace_id, [found.project_id])
        return customer_request(found, names.get(found.project_id), "comment" in allowed)

    @rpc(expected_exceptions=CONTRACT_ERRORS)
    def answer_information_item(self, capability: str, request_id: str, item_id: str,
                                data: dict) -> dict[str, Any]:
        """A signed-in contact's answer to one item (``AnswerInput``) while the request is
        open and the item pending or returned (``Conflict`` otherwise), when their
        customer's share allows answering (``NotFound`` otherwise, as for a request they
        cannot see). The first answer moves the request to ``in_progress``. The request
        as they now see it."""
        grant, found = self._shown(capability, request_id)
        customer_access.allowed(self.repo, capability, "project", found.project_id, "comment", self.sharing)
        answer = parse(AnswerInput, data)
        if not isinstance(item_id, str):
            raise NotFound(rules.NO_ITEM)
        files = rules.read_files([upload.model_dump() for upload in answer.files])
        actor = f"contact:{grant.contact_id}"
        answered = self.repo.information_requests.answer(grant.workspace_id, actor, request_id, item_id,
                                                         answer.text, files)
        self.dispatch("information_item_answered", fact(
            grant.workspace_id, actor, information_request_id=request_id, project_id=answered.project_id,
            item_id=item_id, customer_id=grant.customer_id, contact_id=grant.contact_id,
            number=answered.number, title=answered.title))
        names = self.repo.projects.names(grant.workspace_id, [answered.project_id])
        return customer_request(answered, names.get(answered.project_id), True)

    # -- shared steps -----------------------------------------------------------------------
    def _shown(self, capability: str, request_id: Any) -> tuple[CustomerGrant, InformationRequest]:
        """A signed-in contact's grant and a request customers may see (not a draft nor
        cancelled) of their workspace; whether it is theirs is the caller's check."""
        grant = customer_access.session_of(capability)
        if not isinstance(request_id, str):
            raise NotFound(rules.NO_REQUEST)
        found = self.repo.information_requests.get(grant.workspace_id, request_id)
        if found.status not in SHOWN:
            raise NotFound(rules.NO_REQUEST)
        return grant, found

    def _answer_file(self, workspace_id: str, request_id: str, item_id: Any, file_id: Any) -> tuple[Any, Any]:
        found = self.repo.information_requests.get(workspace_id, request_id)
        if not isinstance(item_id, str) or not isinstance(file_id, str):
            raise NotFound(rules.NO_ITEM)
        attached = self.repo.information_requests.answer_file(workspace_id, found, item_id, file_id)
        return attached, self.repo.files.get(workspace_id, attached.file_id)

    def _audience(self, workspace_id: str, project_id: str) -> list[str]:
        """The customers the project is shared with now who have a portal contact that
        joined: whom a sent request reaches."""
        shares = self.sharing.list_shares(workspace_id, {"resource": project_id, "live": "true",
                                                         "limit": SHARES_PAGE})["share_grants"]
        customers = sorted({share["customer_id"] for share in shares if share.get("level")})
        return [customer_id for customer_id in customers
                if self.identity.customer_portal_access(workspace_id, customer_id)["joined"]]

    def _reviewed(self, request: InformationRequest, actor: str, item_id: str, decision: str) -> None:
        self.dispatch("information_item_reviewed", fact(
            request.workspace_id, actor, information_request_id=str(request.id),
            project_id=request.project_id, item_id=item_id, decision=decision,
            completed=request.status == "completed"))
