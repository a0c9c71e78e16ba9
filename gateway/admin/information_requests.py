"""Information requests: what a project asks its customer for, item by item. Documents
owns them; the customer's contacts answer them in the portal once sent."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, g, stream_with_context

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from gateway.web import content_disposition
from porchlight.contracts.information_requests import (
    InformationRequest,
    InformationRequestInput,
    InformationRequestList,
    InformationRequestPatch,
    InformationRequestQuery,
    ReturnItemInput,
    SentInformationRequest,
)

api = Api(Blueprint("information_requests", __name__))
TAG = "information requests"
REQUEST_LINKS = {"getInformationRequest": {"request_id": "/id"},
                 "updateInformationRequest": {"request_id": "/id"},
                 "sendInformationRequest": {"request_id": "/id"},
                 "cancelInformationRequest": {"request_id": "/id"}}


@api.operation("POST", "/projects/<project_id>/information-requests", "createInformationRequest", tag=TAG,
               status=201, body=InformationRequestInput, reply=InformationRequest, errors=(404, 409, 422),
               links=REQUEST_LINKS)
def create_information_request(project_id: str, body: InformationRequestInput) -> Any:
    """Ask a project's customer for information

    Creates a draft request numbered IR-0001, IR-0002, … with its items (1 to 50 prompts, in the order
    the customer reads them). Nothing reaches the customer until it is sent. A completed or cancelled
    project takes no new request (409).
    """
    with rpc() as services:
        return services.documents.create_information_request(g.workspace_id, g.actor, project_id, wire(body))


@api.operation("GET", "/projects/<project_id>/information-requests", "listInformationRequests", tag=TAG,
               query=InformationRequestQuery, reply=InformationRequestList, errors=(404, 422))
def list_information_requests(project_id: str, query: InformationRequestQuery) -> Any:
    """List a project's information requests

    Newest first, each with its items, their answers and its progress; filter by `status`.
    """
    with rpc() as services:
        return services.documents.list_information_requests(g.workspace_id, project_id,
                                                            wire(query, partial=True))


@api.operation("GET", "/information-requests/<request_id>", "getInformationRequest", tag=TAG,
               reply=InformationRequest, errors=(404,))
def get_information_request(request_id: str) -> Any:
    """Get an information request

    The request with each item: its prompt, its state, the customer's latest answer (text and files)
    and the note of a returned one; `progress` counts the accepted items out of all.
    """
    with rpc() as services:
        return services.documents.get_information_request(g.workspace_id, request_id)


@api.operation("PATCH", "/information-requests/<request_id>", "updateInformationRequest", tag=TAG,
               body=InformationRequestPatch, reply=InformationRequest, errors=(404, 409, 422))
def update_information_request(request_id: str, body: InformationRequestPatch) -> Any:
    """Change a draft information request

    Changes only the fields sent; `items` replaces every item. Only a draft changes: a request that
    was sent is 409 (cancel it and write a new one). A patch that changes nothing is no change.
    """
    with rpc() as services:
        return services.documents.update_information_request(g.workspace_id, g.actor, request_id,
                                                             wire(body, partial=True))


@api.operation("POST", "/information-requests/<request_id>/send", "sendInformationRequest", tag=TAG,
               reply=SentInformationRequest, errors=(404, 409))
def send_information_request(request_id: str) -> Any:
    """Send an information request

    A draft becomes `sent`, and the portal contacts of every customer the project is shared with are
    emailed a link to the request in their account (no secret in it: it opens nothing until they sign
    in). The project must be shared with at least one customer who has a contact that accepted their
    invitation, and must not be completed or cancelled (409 with the reason otherwise).

    Sending a sent or answered request again emails again, as a reminder; a completed or cancelled
    request is 409.
    """
    with rpc() as services:
        return services.documents.send_information_request(g.workspace_id, g.actor, request_id)


@api.operation("POST", "/information-requests/<request_id>/cancel", "cancelInformationRequest", tag=TAG,
               reply=InformationRequest, errors=(404, 409))
def cancel_information_request(request_id: str) -> Any:
    """Cancel an information request

    Withdraws a draft, sent or answered request: the customer no longer sees it (its page is the 404
    page). Completed and cancelled requests are final (409).
    """
    with rpc() as services:
        return services.documents.cancel_information_request(g.workspace_id, g.actor, request_id)


@api.operation("POST", "/information-requests/<request_id>/items/<item_id>/accept", "acceptInformationItem",
               tag=TAG, reply=InformationRequest, errors=(404, 409))
def accept_information_item(request_id: str, item_id: str) -> Any:
    """Accept an answer

    Accepts the customer's answer to one item; accepting the last one completes the request. Only an
    answered (`submitted`) item is accepted (409 otherwise); accepting an accepted item changes nothing.
    """
    with rpc() as services:
        return services.documents.accept_information_item(g.workspace_id, g.actor, request_id, item_id)


@api.operation("POST", "/information-requests/<request_id>/items/<item_id>/return", "returnInformationItem",
               tag=TAG, body=ReturnItemInput, reply=InformationRequest, errors=(404, 409, 422))
def return_information_item(request_id: str, item_id: str, body: ReturnItemInput) -> Any:
    """Return an answer to the customer

    Sends an answered (`submitted`) item back with `note` — what is missing or wrong — which the
    customer reads beside the item until they answer it again (409 for an item not answered).
    """
    with rpc() as services:
        return services.documents.return_information_item(g.workspace_id, g.actor, request_id, item_id,
                                                          wire(body))


@api.operation("GET", "/information-requests/<request_id>/items/<item_id>/files/<file_id>",
               "getInformationAnswerFile", tag=TAG, media="application/octet-stream", errors=(404,),
               reply_schema={"type": "string", "contentMediaType": "application/octet-stream"},
               reply_headers={
                   "X-Content-SHA256": {"description": "SHA-256 of the file.",
                                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                   "Content-Disposition": {"description": "attachment, with the file's name.",
                                           "schema": {"type": "string"}}})
def get_information_answer_file(request_id: str, item_id: str, file_id: str) -> Any:
    """Download a file of an answer

    One file of the customer's latest answer to an item (its `files`), as they uploaded it (a photo
    without its camera's metadata). A file of an answer that was replaced is gone (404).
    """
    with rpc() as services:
        opened = services.documents.open_information_answer_file(g.workspace_id, request_id, item_id, file_id)

    def pieces() -> Any:
        for n in range(opened["pieces"]):
            with rpc() as services:
                piece = services.documents.information_answer_file_piece(g.workspace_id, request_id, item_id,
                                                                         file_id, n)
            yield base64.b64decode(piece["content_b64"])

    return Response(stream_with_context(pieces()), mimetype=opened["content_type"], headers={
        "Content-Disposition": content_disposition("attachment", opened["name"]),
        "Content-Length": str(opened["size"]), "X-Content-SHA256": opened["sha256"],
    })
