"""Share links: links that open one record in the customer portal. Documents checks the
record a link is minted for; sharing keeps the links, lists a record's or a customer's,
revokes and replaces them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import SHARE_LINK_LINKS, rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.share_links import (
    MintedShareToken,
    ShareToken,
    ShareTokenInput,
    ShareTokenList,
    ShareTokenQuery,
)

api = Api(Blueprint("share_links", __name__))


@api.operation("POST", "/share-tokens", "mintShareToken", tag="share links", status=201, body=ShareTokenInput,
               reply=MintedShareToken, errors=(422,), links=SHARE_LINK_LINKS)
def mint_share_token(body: ShareTokenInput) -> Any:
    """Mint a share link

    Creates a link that opens one record in the customer portal; the token is returned only here.
    The documents service checks that the record exists in the workspace, the sharing service that
    the permissions suit its kind and the expiry is within the maximum (422). Without `expires_at` a
    link lives 180 days for a work order, until 30 days after the valid-until day for an estimate,
    60 days for a service report; never more than two years.
    """
    with rpc() as services:
        return services.documents.share_record(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/share-tokens", "listShareTokens", tag="share links", query=ShareTokenQuery,
               reply=ShareTokenList, errors=(404, 422))
def list_share_tokens(query: ShareTokenQuery) -> Any:
    """List a record's or a customer's share links

    The links minted for one record (`entity_type` and `entity_id`) or for a customer's records
    (`customer_id`: the staff overview of what a customer was sent), newest first, revoked and
    expired ones included unless `live=true`. A record or customer the workspace does not hold
    answers 404.
    """
    with rpc() as services:
        # their owners say whether the workspace holds the record or the customer (404
        # otherwise); sharing refuses a query that names neither
        if query.entity_type is not None and query.entity_id is not None:
            services.documents.entity_exists(g.workspace_id, query.entity_type, query.entity_id)
        if query.customer_id is not None:
            services.identity.get_customer(g.workspace_id, query.customer_id)
        return services.sharing.list_tokens(g.workspace_id, wire(query, partial=True))


@api.operation("POST", "/share-tokens/<token_id>/revoke", "revokeShareToken", tag="share links",
               reply=ShareToken, errors=(404,))
def revoke_share_token(token_id: str) -> Any:
    """Revoke a share link

    Stops the link from working at once. Revoking a revoked link changes nothing.
    """
    with rpc() as services:
        return services.sharing.revoke_token(g.workspace_id, g.actor, token_id)


@api.operation("POST", "/share-tokens/<token_id>/rotate", "rotateShareToken", tag="share links", status=201,
               reply=MintedShareToken, errors=(404, 409), links=SHARE_LINK_LINKS)
def rotate_share_token(token_id: str) -> Any:
    """Replace a share link

    Revokes a live link and mints a new one with the same record, permissions and expiry. A revoked
    or expired link cannot be rotated (409).
    """
    with rpc() as services:
        return services.sharing.rotate_token(g.workspace_id, g.actor, token_id)
