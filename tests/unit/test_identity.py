import pytest

from porchlight.contracts.errors import InvalidInput, NotFound, Unauthorized
from services.identity import ALIAS
from services.identity.service import IdentityService
from services.identity.store import IdentityRepository
from services.identity.tenancy.models import ApiKey
from services.identity.tenancy.rules import hash_api_key
from tests.unit.conftest import dispatched


@pytest.fixture
def identity(make_worker):
    return make_worker(IdentityService, ALIAS, IdentityRepository)


def test_create_workspace_returns_a_key_once_and_stores_only_its_hash(identity):
    created = identity.create_workspace({"name": "Acme", "currency": "GBP", "timezone": "Europe/London"})
    raw = created["api_key"]
    assert raw.startswith("plk_") and len(raw) > 40
    assert created["workspace"]["currency"] == "GBP"
    assert created["workspace"]["brand_colour"] == "#1d4ed8"
    stored = ApiKey.objects.get(id=created["api_key_id"])
    assert stored.key_hash == hash_api_key(raw) and raw not in str(stored.to_mongo())
    assert dispatched(identity) == ["workspace_created", "api_key_created"]


def test_authenticate_accepts_live_keys_and_refuses_everything_else(identity):
    created = identity.create_workspace({"name": "Acme"})
    who = identity.authenticate_api_key(created["api_key"])
    assert who["workspace_id"] == created["workspace"]["id"]
    for bad in ("", "plk_nope", created["api_key"] + "x", None, "Bearer " + created["api_key"]):
        with pytest.raises(Unauthorized):
            identity.authenticate_api_key(bad)
    identity.revoke_api_key(created["workspace"]["id"], "test", created["api_key_id"])
    with pytest.raises(Unauthorized):
        identity.authenticate_api_key(created["api_key"])


def test_revoking_twice_is_harmless_and_other_workspaces_cannot(identity):
    a = identity.create_workspace({"name": "A"})
    b = identity.create_workspace({"name": "B"})
    with pytest.raises(NotFound):
        identity.revoke_api_key(b["workspace"]["id"], "test", a["api_key_id"])
    first = identity.revoke_api_key(a["workspace"]["id"], "test", a["api_key_id"])
    second = identity.revoke_api_key(a["workspace"]["id"], "test", a["api_key_id"])
    assert first["revoked_at"] == second["revoked_at"] is not None
    assert dispatched(identity).count("api_key_revoked") == 2


def test_workspace_validation_names_every_bad_field_and_writes_nothing(identity):
    with pytest.raises(InvalidInput) as info:
        identity.create_workspace({"name": "", "currency": "euro", "timezone": "Nowhere",
                                   "brand_colour": "red", "logo_url": "http://x", "plan": "gold"})
    assert set(info.value.fields) == {"name", "currency", "timezone", "brand_colour", "logo_url", "plan"}
    assert ApiKey.objects.count() == 0


def test_customers_are_scoped_to_their_workspace(identity):
    a = identity.create_workspace({"name": "A"})["workspace"]["id"]
    b = identity.create_workspace({"name": "B"})["workspace"]["id"]
    customer = identity.create_customer(a, "test", {"name": "Alex", "email": "alex@example.com"})
    assert customer["preferred_language"] is None  # unsaid: the reader's browser decides
    assert identity.get_customer(a, customer["id"])["name"] == "Alex"
    with pytest.raises(NotFound):
        identity.get_customer(b, customer["id"])
    with pytest.raises(NotFound):
        identity.get_customer(a, "not-an-id")
    assert identity.list_customers(b, {})["customers"] == []


def test_customer_needs_a_way_to_be_reached(identity):
    ws = identity.create_workspace({"name": "A"})["workspace"]["id"]
    with pytest.raises(InvalidInput) as info:
        identity.create_customer(ws, "test", {"name": "Alex"})
    assert "email" in info.value.fields
    with pytest.raises(InvalidInput) as info:
        identity.create_customer(ws, "test", {"name": "Alex", "phone": "12", "preferred_language": "xx"})
    assert set(info.value.fields) == {"phone", "preferred_language"}
    assert identity.list_customers(ws, {})["customers"] == []


def test_customer_for_unknown_workspace_is_not_found(identity):
    with pytest.raises(NotFound):
        identity.create_customer("0" * 24, "test", {"name": "Alex", "phone": "+44 20 7946 0123"})


# -- changing a workspace --------------------------------------------------------------
def test_update_workspace_changes_only_what_was_sent_and_announces_it(identity):
    ws = identity.create_workspace({"name": "Acme", "currency": "GBP"})["workspace"]
    identity.dispatch.reset_mock()
    updated = identity.update_workspace(ws["id"], "api_key:1", {
        "name": " Acme Heating ", "brand_colour": "#AA0011", "sender_name": "Acme Heating Ltd"})
    assert updated == {**ws, "name": "Acme Heating", "brand_colour": "#aa0011",
                       "sender_name": "Acme Heating Ltd"}
    assert identity.get_workspace(ws["id"]) == updated
    assert dispatched(identity) == ["workspace_updated"]
    event = identity.dispatch.call_args.args[1]
    assert event["workspace_id"] == ws["id"] and event["actor"] == "api_key:1"
    assert event["fields"] == ["brand_colour", "name", "sender_name"]
    assert "Acme Heating" not in str(event)  # ids and field names, never the values

    cleared = identity.update_workspace(ws["id"], "api_key:1",
                                        {"sender_name": None, "timezone": "Europe/Paris"})
    assert cleared["sender_name"] is None and cleared["timezone"] == "Europe/Paris"
    assert cleared["currency"] == "GBP" and cleared["name"] == "Acme Heating"
    assert identity.dispatch.call_args.args[1]["fields"] == ["sender_name", "timezone"]


def test_sending_the_current_values_changes_and_announces_nothing(identity):
    ws = identity.create_workspace({"name": "Acme"})["workspace"]
    identity.dispatch.reset_mock()
    assert identity.update_workspace(ws["id"], "t", {}) == ws
    assert identity.update_workspace(ws["id"], "t", {"name": "Acme", "currency": "EUR"}) == ws
    assert dispatched(identity) == []


@pytest.mark.parametrize("data, field", [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"name": "x" * 121}, "name"),
    ({"currency": "eur"}, "currency"), ({"currency": None}, "currency"),
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"brand_colour": "red"}, "brand_colour"),
    ({"brand_colour": None}, "brand_colour"), ({"logo_url": "http://acme.example/l.png"}, "logo_url"),
    ({"plan": "gold"}, "plan"),
])
def test_bad_workspace_changes_name_the_field_and_change_nothing(identity, data, field):
    ws = identity.create_workspace({"name": "Acme"})["workspace"]
    identity.dispatch.reset_mock()
    with pytest.raises(InvalidInput) as info:
        identity.update_workspace(ws["id"], "t", {"brand_colour": "#000000", **data})
    assert set(info.value.fields) == {field}
    assert identity.get_workspace(ws["id"]) == ws
    assert dispatched(identity) == []


def test_updating_an_unknown_workspace_is_not_found(identity):
    with pytest.raises(NotFound):
        identity.update_workspace("f" * 24, "t", {"name": "Other"})
    with pytest.raises(NotFound):
        identity.update_workspace("nope", "t", {"name": "Other"})


def test_a_sign_in_form_sent_twice_sends_one_email_and_counts_once(identity):
    from porchlight.runtime import request_context
    from services.identity.accounts.models import Attempt

    address = {"email": "frances@northwind.example"}
    key = request_context.new_form_key()
    with request_context.command(key):
        assert identity.request_sign_in(address, "203.0.113.9") == {"sent": True}
        assert identity.request_sign_in(address, "203.0.113.9") == {"sent": True}
    identity.later.email_sign_in.assert_called_once_with("frances@northwind.example", "sign_in")
    assert Attempt.objects.get(key="ip:203.0.113.9").count == 1
    # Without the form's key (or with a new one) it is a new request.
    identity.request_sign_in(address, "203.0.113.9")
    assert identity.later.email_sign_in.call_count == 2


# -- the logo ------------------------------------------------------------------------------
def logo_upload(content: bytes, content_type: str = "image/png") -> dict:
    import base64
    return {"content_type": content_type, "content_b64": base64.b64encode(content).decode()}


def test_a_logo_is_stored_without_its_metadata_and_served_from_the_portal(identity):
    import base64
    import hashlib

    from tests import images

    ws = identity.create_workspace({"name": "Acme"})["workspace"]
    identity.dispatch.reset_mock()
    raw = images.png()
    with_logo = identity.set_workspace_logo(ws["id"], "api_key:1", logo_upload(raw))
    stored = identity.get_workspace_logo(ws["id"])
    content = base64.b64decode(stored["content_b64"])
    assert images.CAMERA not in content and images.pixels(content) == images.pixels(raw)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest() == with_logo["logo_sha256"]
    assert stored["content_type"] == "image/png"
    # Its address is the portal's own, named by its content.
    assert with_logo["logo_url"] == f"http://portal.test/logos/{ws['id']}/{stored['sha256']}"
    assert identity.dispatch.call_args.args[1]["fields"] == ["logo"]
    # The same image again changes and announces nothing; another replaces it.
    identity.dispatch.reset_mock()
    assert identity.set_workspace_logo(ws["id"], "api_key:1", logo_upload(raw)) == with_logo
    assert dispatched(identity) == []
    other = identity.set_workspace_logo(ws["id"], "api_key:1", logo_upload(images.jpeg(), "image/jpeg"))
    assert other["logo_sha256"] != with_logo["logo_sha256"]
    assert identity.get_workspace_logo(ws["id"])["content_type"] == "image/jpeg"
    removed = identity.remove_workspace_logo(ws["id"], "api_key:1")
    assert removed["logo_url"] is None and removed["logo_sha256"] is None
    with pytest.raises(NotFound):
        identity.get_workspace_logo(ws["id"])


@pytest.mark.parametrize("upload, field", [
    (logo_upload(b"<svg onload=alert(1)>", "image/png"), "file"),  # not the type it is sent as
    (logo_upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 10), "file"),  # a PNG cut short
    ({"content_type": "image/svg+xml", "content_b64": "PHN2Zz4="}, "content_type"),
    ({"content_type": "image/png", "content_b64": "%%%"}, "content_b64"),
    ({"content_type": "image/png", "content_b64": "A" * (300 * 1024)}, "file"),  # too large
    ({"content_type": "image/png"}, "content_b64"),
])
def test_a_bad_logo_names_the_field_and_changes_nothing(identity, upload, field):
    ws = identity.create_workspace({"name": "Acme"})["workspace"]
    with pytest.raises(InvalidInput) as info:
        identity.set_workspace_logo(ws["id"], "api_key:1", upload)
    assert field in info.value.fields
    assert identity.get_workspace(ws["id"])["logo_sha256"] is None
