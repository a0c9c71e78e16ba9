"""Customers of a workspace (owned by identity)."""

from __future__ import annotations

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, Moment
from porchlight.contracts.fields import Email, Phone, optional, text
from porchlight.contracts.languages import Language
from porchlight.contracts.paging import NextCursor, PageQuery


class CustomerInput(Contract):
    """A new customer. Identity also requires an email address or a phone number (or both)."""

    name: text(160, description="Full name or company name.")
    email: optional(Email) = None
    phone: optional(Phone) = None
    preferred_language: Language | None = Field(
        None, description="The language of the customer's pages, emails and signed PDFs (their portal "
                          "contacts may each choose their own). Unsaid: a page follows the reader's "
                          "browser, an email the workspace's locale.")


class Customer(Reply):
    """A customer of the workspace."""

    id: IdText
    workspace_id: IdText
    name: str
    email: str | None
    phone: str | None
    preferred_language: str | None
    created_at: Moment


class CustomerQuery(PageQuery):
    """``identity.list_customers``'s query, and the admin API's query string."""

    q: text(100, description="Only customers whose name or email address contains this, "
                             "whatever the case.") = None


class CustomerList(Reply):
    customers: list[Customer]
    next_cursor: NextCursor
