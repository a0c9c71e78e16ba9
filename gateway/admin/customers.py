"""Customers: the people and companies the workspace works for. Identity owns them; their
portal contacts are ``gateway.admin.contacts``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from gateway.admin.common import rpc, wire
from gateway.admin.operations import Api
from porchlight.contracts.customers import Customer, CustomerInput, CustomerList, CustomerQuery

api = Api(Blueprint("customers", __name__))


@api.operation("POST", "/customers", "createCustomer", tag="customers", status=201, body=CustomerInput,
               reply=Customer, errors=(422,), links={"getCustomer": {"customer_id": "/id"}})
def create_customer(body: CustomerInput) -> Any:
    """Add a customer

    Creates a customer in the workspace. Identity requires an email address or a phone number (or
    both).
    """
    with rpc() as services:
        return services.identity.create_customer(g.workspace_id, g.actor, wire(body))


@api.operation("GET", "/customers", "listCustomers", tag="customers", query=CustomerQuery, reply=CustomerList,
               errors=(422,))
def list_customers(query: CustomerQuery) -> Any:
    """List customers

    The workspace's customers by name; `q` finds those whose name or email address contains it.
    """
    with rpc() as services:
        return services.identity.list_customers(g.workspace_id, wire(query, partial=True))


@api.operation("GET", "/customers/<customer_id>", "getCustomer", tag="customers", reply=Customer,
               errors=(404,))
def get_customer(customer_id: str) -> Any:
    """Get a customer

    One customer of the workspace.
    """
    with rpc() as services:
        return services.identity.get_customer(g.workspace_id, customer_id)
