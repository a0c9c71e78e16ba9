"""The contract models: what each bad input is told, and what good input becomes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from porchlight.contracts import parse
from porchlight.contracts.base import field_path
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.customers import CustomerInput
from porchlight.contracts.errors import InvalidInput
from porchlight.contracts.estimates import EstimateInput, EstimatePatch
from porchlight.contracts.share_links import ShareTokenInput, ShareTokenQuery
from porchlight.contracts.work_orders import WorkOrderInput, WorkOrderPatch, WorkOrderQuery
from porchlight.contracts.workspaces import WorkspaceInput

ID = "a" * 24
LINE = {"description": "Labour", "quantity": "1.5", "unit_price": "97.35"}


def refused(model, data):
    with pytest.raises(InvalidInput) as info:
        parse(model, data)
    return info.value.fields


@pytest.mark.parametrize("data", [None, [], "x", 3])
def test_a_body_must_be_an_object(data):
    with pytest.raises(InvalidInput):
        parse(WorkOrderInput, data)


@pytest.mark.parametrize("title, message", [
    (None, "This field is required."), ("   ", "This field is required."), ("", "This field is required."),
    (42, "Must be text."), (True, "Must be text."), ("x" * 201, "Must be at most 200 characters."),
    ("bell\x07", "Contains characters that are not allowed."),
    ("line\nbreak", "Contains characters that are not allowed."),
    ("rtl\u202eoverride", "Contains characters that are not allowed."),
])
def test_text_refusals_say_what_is_wrong(title, message):
    assert refused(WorkOrderInput, {"title": title}) == {"title": message}


def test_text_is_trimmed_and_multiline_fields_keep_newlines():
    order = parse(WorkOrderInput, {"title": "  Boiler  ", "description": "one\ntwo\ttabbed"})
    assert order.title == "Boiler" and order.description == "one\ntwo\ttabbed"


def test_every_error_at_once_with_unknown_fields_named():
    fields = refused(WorkOrderInput, {"status": "done", "customer_id": "nope", "number": "#1", "vip": 1})
    assert fields == {
        "title": "This field is required.",
        "status": "Must be one of: new, scheduled, in_progress, on_hold, completed, cancelled.",
        "customer_id": "Must be an id as returned by the API.",
        "number": "Use letters, digits and . _ / - only (at most 32).",
        "vip": "Unknown field.",
    }


def test_a_patch_knows_what_was_sent_and_blank_text_clears():
    patch = parse(WorkOrderPatch, {"location": "  ", "internal_notes": None})
    assert patch.sent() == {"location", "internal_notes"} and patch.location is None
    assert refused(WorkOrderPatch, {"title": None}) == {"title": "This field is required."}
    assert refused(WorkOrderPatch, {"customer_id": ""}) == {
        "customer_id": "Must be an id as returned by the API."}


@pytest.mark.parametrize("data, field", [
    ({"name": "A", "email": "nope"}, "email"), ({"name": "A", "email": "a b@example.com"}, "email"),
    ({"name": "A", "phone": "call me"}, "phone"), ({"name": "A", "phone": "+1 (2)"}, "phone"),
    ({"name": "A", "preferred_language": "xx"}, "preferred_language"),
])
def test_customer_fields(data, field):
    assert set(refused(CustomerInput, data)) == {field}


@pytest.mark.parametrize("address", [
    '"a b"@example.com', "a,b@example.com", "<a>@example.com", "a@b@example.com", "a..b@example.com",
    ".a@example.com", "a.@example.com", "a\x00@example.com", "a\r\nBcc: x@example.com", "é@example.com",
    "a@example", "a@-example.com", "x" * 65 + "@example.com",
])
def test_an_email_address_must_be_a_plain_dot_atom(address):
    """Quotes, commas, angle brackets and line breaks are how one address field becomes two
    recipients or an extra header; none is needed for a customer's address."""
    assert refused(CustomerInput, {"name": "A", "email": address}) == {
        "email": "Must be an email address like name@example.com."}


@pytest.mark.parametrize("address", ["dana@example.org", "o'neil+quotes@mail.example.co.uk", "a.b-c_d@x.io"])
def test_ordinary_addresses_are_taken(address):
    assert parse(CustomerInput, {"name": "A", "email": address}).email == address


def test_email_domain_is_lower_cased_not_the_local_part():
    assert parse(CustomerInput, {"name": "A", "email": "Alex@Example.COM"}).email == "Alex@example.com"


def test_json_types_are_not_coerced():
    fields = refused(EstimateInput, {"title": "T", "valid_until": "2030-01-01", "line_items": [
        {**LINE, "optional": 1}, {**LINE, "quantity": 1.5}, {**LINE, "unit_price": "1e3"}]})
    assert fields == {
        "line_items[0].optional": "Must be true or false.",
        "line_items[1].quantity": 'Send numbers as text like "12.50" or as whole numbers.',
        "line_items[2].unit_price": "Must be a plain number like 12.50.",
    }


@pytest.mark.parametrize("line, field", [
    ({**LINE, "quantity": "0"}, "quantity"), ({**LINE, "quantity": "1.0001"}, "quantity"),
    ({**LINE, "tax_rate": "100.5"}, "tax_rate"), ({**LINE, "unit_price": "-1"}, "unit_price"),
    ({**LINE, "description": ""}, "description"),
])
def test_line_item_bounds(line, field):
    fields = refused(EstimateInput, {"title": "T", "valid_until": "2030-01-01", "line_items": [line]})
    assert set(fields) == {f"line_items[0].{field}"}


def test_decimals_are_read_exactly():
    estimate = parse(EstimateInput, {"title": "T", "valid_until": "2030-01-01",
                                     "line_items": [{**LINE, "quantity": 2}]})
    line = estimate.line_items[0]
    assert (line.quantity, line.unit_price, line.tax_rate) == (Decimal(2), Decimal("97.35"), Decimal(0))


@pytest.mark.parametrize("day, message", [
    ("2030-02-30", "Must be a real date like 2026-12-31."), ("20300101", "Must be a date like 2026-12-31."),
    ("", "Must be a date like 2026-12-31."),
])
def test_dates(day, message):
    assert refused(EstimatePatch, {"valid_until": day}) == {"valid_until": message}


@pytest.mark.parametrize("moment", ["2030-01-01T00:00:00", "20300101T000000Z", "2030-01-01 00:00:00Z", ""])
def test_timestamps_are_rfc3339_with_an_offset(moment):
    body = {"entity": {"type": "work_order", "id": ID}, "expires_at": moment}
    assert set(refused(ShareTokenInput, body)) == {"expires_at"}


def test_a_link_expiry_must_be_in_the_future():
    past = isoformat(utcnow() - timedelta(minutes=1))
    body = {"entity": {"type": "work_order", "id": ID}, "expires_at": past}
    assert refused(ShareTokenInput, body) == {"expires_at": "Must be in the future."}
    later = parse(ShareTokenInput, {**body, "expires_at": "2099-01-01T01:00:00+01:00"})
    assert isoformat(later.expires_at) == "2099-01-01T00:00:00.000Z"


def test_nested_errors_are_named_by_path():
    assert refused(ShareTokenInput, {"entity": {"type": "invoice"}, "permissions": []}) == {
        "entity.type": "Must be one of: work_order, estimate, service_report.",
        "entity.id": "This field is required.",
        "permissions": "Give at least 1.",
    }
    assert field_path(("line_items", 3, "quantity")) == "line_items[3].quantity"


def test_query_strings_refuse_empty_and_unknown_values_but_ignore_unknown_parameters():
    assert set(refused(WorkOrderQuery, {"status": ""})) == {"status"}
    assert set(refused(ShareTokenQuery, {"entity_type": "work_order", "entity_id": "null"})) == {"entity_id"}
    assert parse(WorkOrderQuery, {"status": "new", "_": "1"}).status == "new"


@pytest.mark.parametrize("data, field", [
    ({"name": "A", "currency": "eur"}, "currency"), ({"name": "A", "timezone": "Mars/Base"}, "timezone"),
    ({"name": "A", "brand_colour": "teal"}, "brand_colour"),
    ({"name": "A", "logo_url": "http://example.com/logo.png"}, "logo_url"),
    ({"name": "A", "logo_url": "https://user:pw@example.com/logo.png"}, "logo_url"),
])
def test_workspace_fields(data, field):
    assert set(refused(WorkspaceInput, data)) == {field}


def test_workspace_defaults_and_a_lower_cased_colour():
    workspace = parse(WorkspaceInput, {"name": "Brightwater", "brand_colour": "#0F766E"})
    assert (workspace.currency, workspace.timezone, workspace.brand_colour) == ("EUR", "UTC", "#0f766e")
