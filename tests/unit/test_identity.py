import pytest

from porchlight.errors import InvalidInput, NotFound, Unauthorized
from services.identity.models import ALIAS, ApiKey
from services.identity.repository import IdentityRepository, hash_api_key
from services.identity.service import IdentityService
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
    assert customer["preferred_language"] == "en"
    assert identity.get_customer(a, customer["id"])["name"] == "Alex"
    with pytest.raises(NotFound):
        identity.get_customer(b, customer["id"])
    with pytest.raises(NotFound):
        identity.get_customer(a, "not-an-id")
    assert identity.list_customers(b) == []


def test_customer_needs_a_way_to_be_reached(identity):
    ws = identity.create_workspace({"name": "A"})["workspace"]["id"]
    with pytest.raises(InvalidInput) as info:
        identity.create_customer(ws, "test", {"name": "Alex"})
    assert "email" in info.value.fields
    with pytest.raises(InvalidInput) as info:
        identity.create_customer(ws, "test", {"name": "Alex", "phone": "12", "preferred_language": "xx"})
    assert set(info.value.fields) == {"phone", "preferred_language"}
    assert identity.list_customers(ws) == []


def test_customer_for_unknown_workspace_is_not_found(identity):
    with pytest.raises(NotFound):
        identity.create_customer("0" * 24, "test", {"name": "Alex", "phone": "+44 20 7946 0123"})
