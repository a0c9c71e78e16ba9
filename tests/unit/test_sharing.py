from datetime import timedelta

import pytest

from porchlight import share_tokens
from porchlight.clock import isoformat, utcnow
from porchlight.errors import Conflict, InvalidInput, NotFound
from services.sharing.models import ALIAS, ShareToken
from services.sharing.repository import SharingRepository
from services.sharing.service import SharingService
from tests.unit.conftest import dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
WO = "c" * 24


@pytest.fixture
def sharing(make_worker):
    return make_worker(SharingService, ALIAS, SharingRepository)


def mint(sharing, **extra):
    data = {"entity_type": "work_order", "entity_id": WO, "permissions": ["view"], **extra}
    return sharing.mint_token(WS, "staff", data)


def test_mint_returns_the_raw_token_once_and_stores_only_its_hash(sharing):
    minted = mint(sharing)
    raw = minted["token"]
    assert share_tokens.entity_type_of(raw) == "work_order"
    stored = ShareToken.objects.get(id=minted["share_token"]["id"])
    assert stored.token_hash == share_tokens.digest(raw)
    assert raw not in str(stored.to_mongo()) and raw[3:] not in str(stored.to_mongo())
    assert minted["share_token"]["last4"] == raw[-4:]
    assert "token" not in minted["share_token"] and "token_hash" not in minted["share_token"]
    assert dispatched(sharing) == ["share_token_minted"]
    event = sharing.dispatch.call_args.args[1]
    assert event["workspace_id"] == WS and event["actor"] == "staff" and event["occurred_at"]
    assert raw not in str(event)


def test_resolve_counts_each_use_exactly_once(sharing):
    raw = mint(sharing)["token"]
    for expected in (1, 2, 3):
        grant = sharing.resolve_token(raw, "work_order", "view")
        assert grant == {"share_token_id": grant["share_token_id"], "workspace_id": WS,
                         "entity_type": "work_order", "entity_id": WO, "permissions": ["view"]}
        token = ShareToken.objects.get(id=grant["share_token_id"])
        assert token.access_count == expected and token.last_accessed_at is not None


def test_resolve_refuses_every_kind_of_bad_token_the_same_way(sharing):
    raw = mint(sharing)["token"]
    bad = [
        (raw, "estimate", "view"),  # wrong entity type
        (raw, "work_order", "respond"),  # permission it does not carry
        ("wo_" + "0" * 40, "work_order", "view"),  # unknown
        (raw.upper(), "work_order", "view"),  # malformed
        (raw[:-1], "work_order", "view"),
    ]
    for args in bad:
        with pytest.raises(NotFound) as info:
            sharing.resolve_token(*args)
        assert info.value.message == "Unknown link."
    assert ShareToken.objects.get().access_count == 0


def test_revoked_and_expired_tokens_are_refused_and_not_counted(sharing):
    minted = mint(sharing)
    sharing.revoke_token(WS, "staff", minted["share_token"]["id"])
    with pytest.raises(NotFound):
        sharing.resolve_token(minted["token"], "work_order")
    expiring = mint(sharing, expires_at=isoformat(utcnow() + timedelta(hours=1)))
    ShareToken.objects(id=expiring["share_token"]["id"]).update_one(
        set__expires_at=utcnow() - timedelta(seconds=1)
    )
    with pytest.raises(NotFound):
        sharing.resolve_token(expiring["token"], "work_order")
    assert [t.access_count for t in ShareToken.objects] == [0, 0]


def test_revoke_is_workspace_scoped_and_safe_to_repeat(sharing):
    minted = mint(sharing)
    with pytest.raises(NotFound):
        sharing.revoke_token(OTHER_WS, "staff", minted["share_token"]["id"])
    first = sharing.revoke_token(WS, "staff", minted["share_token"]["id"])
    second = sharing.revoke_token(WS, "staff", minted["share_token"]["id"])
    assert first["revoked_at"] == second["revoked_at"] is not None
    assert dispatched(sharing) == ["share_token_minted", "share_token_revoked"]


def test_rotate_revokes_the_old_and_mints_a_twin(sharing):
    old = mint(sharing, expires_at=isoformat(utcnow() + timedelta(days=2)))
    new = sharing.rotate_token(WS, "staff", old["share_token"]["id"])
    assert new["token"] != old["token"]
    assert new["share_token"]["rotated_from"] == old["share_token"]["id"]
    assert new["share_token"]["expires_at"] == old["share_token"]["expires_at"]
    assert new["share_token"]["permissions"] == ["view"]
    with pytest.raises(NotFound):
        sharing.resolve_token(old["token"], "work_order")
    assert sharing.resolve_token(new["token"], "work_order")["entity_id"] == WO
    with pytest.raises(Conflict):
        sharing.rotate_token(WS, "staff", old["share_token"]["id"])
    with pytest.raises(NotFound):
        sharing.rotate_token(OTHER_WS, "staff", new["share_token"]["id"])


def test_rotating_an_expired_token_is_refused(sharing):
    old = mint(sharing, expires_at=isoformat(utcnow() + timedelta(hours=1)))
    ShareToken.objects(id=old["share_token"]["id"]).update_one(set__expires_at=utcnow() - timedelta(1))
    with pytest.raises(Conflict):
        sharing.rotate_token(WS, "staff", old["share_token"]["id"])
    assert ShareToken.objects.get(id=old["share_token"]["id"]).revoked_at is None


@pytest.mark.parametrize("data, field", [
    ({"entity_type": "invoice"}, "entity_type"),
    ({"entity_id": "123"}, "entity_id"),
    ({"permissions": ["sign"]}, "permissions"),  # work orders are view-only
    ({"permissions": []}, "permissions"),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "soon"}, "expires_at"),
    ({"note": "hi"}, "note"),
])
def test_mint_validation_writes_nothing(sharing, data, field):
    with pytest.raises(InvalidInput) as info:
        mint(sharing, **data)
    assert field in info.value.fields
    assert ShareToken.objects.count() == 0


def test_list_shows_no_secrets_and_only_this_workspace(sharing):
    minted = mint(sharing)
    listed = sharing.list_tokens(WS, "work_order", WO)
    assert [t["id"] for t in listed] == [minted["share_token"]["id"]]
    assert minted["token"] not in str(listed)
    assert sharing.list_tokens(OTHER_WS, "work_order", WO) == []


def test_check_token_tells_live_from_ended_without_counting(sharing):
    minted = mint(sharing)
    token_id = minted["share_token"]["id"]
    assert sharing.check_token(WS, token_id) is True
    assert sharing.check_token(OTHER_WS, token_id) is False
    assert sharing.check_token(WS, "nonsense") is False
    sharing.revoke_token(WS, "staff", token_id)
    assert sharing.check_token(WS, token_id) is False
    assert ShareToken.objects.get(id=token_id).access_count == 0
