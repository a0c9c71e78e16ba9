from datetime import timedelta

import pytest
import time_machine

from porchlight.contracts import share_tokens
from porchlight.contracts.clock import as_utc, isoformat, parse_iso, utcnow
from porchlight.contracts.errors import Conflict, InvalidInput, NotFound
from porchlight.kit import grants
from porchlight.runtime.settings import get_settings
from services.sharing import lifetimes
from services.sharing.models import ALIAS, ShareToken
from services.sharing.repository import SharingRepository
from services.sharing.service import SharingService
from tests.unit.conftest import dispatched

WS = "a" * 24
OTHER_WS = "b" * 24
WO = "c" * 24
EST = "d" * 24
SRP = "e" * 24
UNKNOWN = "f" * 24


@pytest.fixture
def sharing(make_worker):
    """The sharing service. Its one caller, documents, says when a record ends: here
    ``worker.ends`` holds the end of each record that has one, and ``mint_token`` and
    ``replace_token`` pass it on as documents would."""
    worker = make_worker(SharingService, ALIAS, SharingRepository)
    worker.ends = {}

    def as_documents_asks(method):
        def call(workspace_id, actor, data, ends_at=None):
            if ends_at is None and isinstance(data, dict) and isinstance(data.get("entity"), dict):
                ends_at = isoformat(worker.ends.get(data["entity"].get("id")))
            return method(workspace_id, actor, data, ends_at)
        return call

    worker.mint_token = as_documents_asks(worker.mint_token)
    worker.replace_token = as_documents_asks(worker.replace_token)
    return worker


def mint(sharing, **extra):
    data = {"entity": {"type": "work_order", "id": WO}, "permissions": ["view"], **extra}
    return sharing.mint_token(WS, "staff", data)


def test_mint_returns_the_raw_token_once_and_stores_only_its_hash(sharing):
    minted = mint(sharing)
    raw = minted["token"]
    assert share_tokens.entity_type_of(raw) == "work_order"
    # What the customer opens: the portal's address from the settings, then the token.
    assert minted["url"] == share_tokens.portal_url(get_settings().portal_base_url, "work_order", raw)
    stored = ShareToken.objects.get(id=minted["share_token"]["id"])
    assert stored.token_hash == share_tokens.digest(raw)
    assert raw not in str(stored.to_mongo()) and raw[3:] not in str(stored.to_mongo())
    assert minted["share_token"]["last4"] == raw[-4:]
    assert "token" not in minted["share_token"] and "token_hash" not in minted["share_token"]
    assert dispatched(sharing) == ["share_token_minted"]
    event = sharing.dispatch.call_args.args[1]
    assert event["workspace_id"] == WS and event["actor"] == "staff" and event["occurred_at"]
    assert raw not in str(event)


def test_resolve_answers_the_grant_and_counts_no_view(sharing):
    minted = mint(sharing)
    raw = minted["token"]
    expires_at = minted["share_token"]["expires_at"]
    assert expires_at is not None
    for _ in range(3):
        grant = sharing.resolve_token(raw, "work_order", "view")
        assert grant == {"share_token_id": grant["share_token_id"], "workspace_id": WS,
                         "entity_type": "work_order", "entity_id": WO, "permissions": ["view"],
                         "customer_id": None, "expires_at": expires_at, "capability": grant["capability"],
                         "capability_expires_at": grant["capability_expires_at"]}
        # The capability says the same, signed for documents.
        said = grants.verify(grant["capability"])
        assert (said.workspace_id, said.entity_type, said.entity_id, said.permissions,
                said.share_token_id) == (WS, "work_order", WO, ("view",), grant["share_token_id"])
        assert said.expires_at == int(parse_iso(grant["capability_expires_at"]).timestamp())
        # Resolving counts nothing: scanners resolve links too; the portal counts the
        # views a person's browser shows (record_views).
        token = ShareToken.objects.get(id=grant["share_token_id"])
        assert token.access_count == 0 and token.last_accessed_at is None


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


def test_a_link_from_before_every_link_had_an_end_is_given_one_once(sharing):
    """Old links were minted without an end; at start, sharing gives each its kind's
    default from its minting, but at least 30 days from now — and never touches a link
    that has an end, or the same link twice."""
    now = utcnow()
    repo = sharing.repo
    old, _ = repo.mint(WS, "staff", "work_order", WO, ["view"], None)
    ShareToken.objects(id=old.id).update_one(set__created_at=now - timedelta(days=400))
    recent, _ = repo.mint(WS, "staff", "service_report", SRP, ["view", "sign"], None)
    ShareToken.objects(id=recent.id).update_one(set__created_at=now - timedelta(days=10))
    dated = mint(sharing, expires_at=isoformat(now + timedelta(days=3)))
    assert repo.migrate(now) == 2

    def stored(moment):  # stored times keep milliseconds
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    # 400 days old: its 180 would be over, so 30 days from now.
    assert as_utc(ShareToken.objects.get(id=old.id).expires_at) == stored(now + lifetimes.GRACE)
    # 10 days old: its own 60 days from minting.
    assert as_utc(ShareToken.objects.get(id=recent.id).expires_at) == stored(
        now - timedelta(days=10) + lifetimes.SERVICE_REPORT_LINK_LIFETIME)
    assert isoformat(ShareToken.objects.get(id=dated["share_token"]["id"]).expires_at) == \
        dated["share_token"]["expires_at"]
    assert repo.migrate(now + timedelta(days=1)) == 0  # nothing left to give


def test_rotating_a_link_without_an_end_gives_the_new_one_the_default(sharing):
    old, _ = sharing.repo.mint(WS, "staff", "work_order", WO, ["view"], None)
    before = utcnow()
    new = sharing.rotate_token(WS, "staff", str(old.id))
    ends = parse_iso(new["share_token"]["expires_at"])
    assert before + lifetimes.WORK_ORDER_LINK_LIFETIME - timedelta(seconds=1) <= ends
    assert ends <= utcnow() + lifetimes.WORK_ORDER_LINK_LIFETIME


def test_rotating_an_expired_token_is_refused(sharing):
    old = mint(sharing, expires_at=isoformat(utcnow() + timedelta(hours=1)))
    ShareToken.objects(id=old["share_token"]["id"]).update_one(set__expires_at=utcnow() - timedelta(1))
    with pytest.raises(Conflict):
        sharing.rotate_token(WS, "staff", old["share_token"]["id"])
    assert ShareToken.objects.get(id=old["share_token"]["id"]).revoked_at is None


@pytest.mark.parametrize("data, field", [
    ({"entity": {"type": "invoice", "id": "a" * 24}}, "entity.type"),
    ({"entity": {"type": "work_order", "id": "123"}}, "entity.id"),
    ({"entity": None}, "entity"),
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
    assert ShareToken.objects.count() == 0 and dispatched(sharing) == []


# -- asking nobody ----------------------------------------------------------------------
def test_sharing_asks_no_other_service():
    """Calls flow one way: documents asks sharing for links, never the reverse."""
    from porchlight.kit.service_calls import _BoundedProxy

    assert not [name for name, value in vars(SharingService).items() if isinstance(value, _BoundedProxy)]


def test_the_owners_end_of_the_record_is_read_as_a_moment(sharing):
    ends = utcnow() + timedelta(days=2)
    minted = sharing.mint_token(WS, "documents", {
        "entity": {"type": "estimate", "id": EST}, "permissions": ["view"]}, isoformat(ends))
    assert minted_expiry(minted) == ends + timedelta(days=30)


# -- expiry ----------------------------------------------------------------------------
def minted_expiry(minted):
    return parse_iso(minted["share_token"]["expires_at"])


def test_every_kind_of_record_has_a_default_link_lifetime():
    covered = set(lifetimes.LIFETIME_FROM_MINTING) | set(lifetimes.LIFETIME_AFTER_END)
    assert covered == set(share_tokens.ENTITY_TYPES)
    assert not set(lifetimes.LIFETIME_FROM_MINTING) & set(lifetimes.LIFETIME_AFTER_END)


@pytest.mark.parametrize("entity_type, entity_id, lifetime", [
    ("work_order", WO, timedelta(days=180)),
    ("service_report", SRP, timedelta(days=60)),
])
def test_a_link_without_expiry_gets_its_kinds_default(sharing, entity_type, entity_id, lifetime):
    before = utcnow()
    minted = sharing.mint_token(WS, "staff", {
        "entity": {"type": entity_type, "id": entity_id}, "permissions": ["view"]})
    assert before + lifetime <= minted_expiry(minted) <= utcnow() + lifetime
    stored = ShareToken.objects.get(id=minted["share_token"]["id"])
    assert as_utc(stored.expires_at) == minted_expiry(minted)


def test_an_estimate_link_lives_30_days_past_the_estimate(sharing):
    ends = utcnow() + timedelta(days=14)
    sharing.ends[EST] = ends
    minted = sharing.mint_token(WS, "staff", {
        "entity": {"type": "estimate", "id": EST}, "permissions": ["view", "respond"]})
    assert minted_expiry(minted) == ends + timedelta(days=30)


def test_no_default_reaches_past_two_years(sharing):
    sharing.ends[EST] = utcnow() + timedelta(days=729)
    before = utcnow()
    minted = sharing.mint_token(WS, "staff", {"entity": {"type": "estimate", "id": EST},
                                              "permissions": ["view"]})
    assert before + timedelta(days=730) <= minted_expiry(minted) <= utcnow() + timedelta(days=730)


def test_a_long_ended_estimate_needs_an_explicit_expiry(sharing):
    sharing.ends[EST] = utcnow() - timedelta(days=31)
    data = {"entity": {"type": "estimate", "id": EST}, "permissions": ["view"]}
    with pytest.raises(InvalidInput) as info:
        sharing.mint_token(WS, "staff", data)
    assert "give an expiry" in info.value.fields["expires_at"]
    assert ShareToken.objects.count() == 0
    explicit = utcnow() + timedelta(days=3)
    minted = sharing.mint_token(WS, "staff", {**data, "expires_at": isoformat(explicit)})
    assert minted_expiry(minted) == explicit


def test_an_explicit_expiry_is_kept_up_to_two_years_and_refused_beyond(sharing):
    within = utcnow() + timedelta(days=729)
    assert minted_expiry(mint(sharing, expires_at=isoformat(within))) == within
    with pytest.raises(InvalidInput) as info:
        mint(sharing, expires_at=isoformat(utcnow() + timedelta(days=731)))
    assert "at most 730 days from now" in info.value.fields["expires_at"]
    assert ShareToken.objects.count() == 1


# -- replacing -------------------------------------------------------------------------
def estimate_link(sharing, method="mint_token", permissions=("view", "respond"), ws=WS, entity_id=EST):
    return getattr(sharing, method)(ws, "staff", {
        "entity": {"type": "estimate", "id": entity_id}, "permissions": list(permissions)})


def test_replace_revokes_earlier_live_links_with_the_same_permissions_only(sharing):
    sharing.ends[EST] = utcnow() + timedelta(days=7)
    first, second = estimate_link(sharing), estimate_link(sharing)
    view_only = estimate_link(sharing, permissions=("view",))
    other_estimate = estimate_link(sharing, entity_id="9" * 24)
    other_workspace = estimate_link(sharing, ws=OTHER_WS)
    already_revoked = estimate_link(sharing)
    sharing.revoke_token(WS, "earlier", already_revoked["share_token"]["id"])
    sharing.dispatch.reset_mock()

    new = estimate_link(sharing, method="replace_token")

    for old in (first, second):
        with pytest.raises(NotFound):
            sharing.resolve_token(old["token"], "estimate", "view")
    for kept in (view_only, other_estimate, other_workspace):
        assert sharing.resolve_token(kept["token"], "estimate", "view")
    assert sharing.resolve_token(new["token"], "estimate", "respond")["entity_id"] == EST
    assert dispatched(sharing) == ["share_token_minted", "share_token_revoked", "share_token_revoked"]
    revoked_events = [c.args[1] for c in sharing.dispatch.call_args_list[1:]]
    assert {e["share_token_id"] for e in revoked_events} == {
        first["share_token"]["id"], second["share_token"]["id"]}
    assert all(e["replaced_by"] == new["share_token"]["id"] for e in revoked_events)
    assert ShareToken.objects.get(id=already_revoked["share_token"]["id"]).revoked_by == "earlier"
    assert new["share_token"]["expires_at"] == isoformat(sharing.ends[EST] + timedelta(days=30))


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_of_two_concurrent_replacements_the_newer_link_survives(sharing, order):
    repo = sharing.repo
    older, _ = repo.mint(WS, "a", "estimate", EST, ["view", "respond"], None)
    newer, _ = repo.mint(WS, "b", "estimate", EST, ["view", "respond"], None)
    calls = [older, newer] if order == "older first" else [newer, older]
    revoked = {str(t.id) for token in calls for t in repo.revoke_replaced(WS, "staff", token)}
    assert revoked == {str(older.id)}
    assert ShareToken.objects.get(id=newer.id).revoked_at is None


def test_list_shows_no_secrets_and_only_this_workspace(sharing):
    minted = mint(sharing)
    listed = sharing.list_tokens(WS, {"entity_type": "work_order", "entity_id": WO})["share_tokens"]
    assert [t["id"] for t in listed] == [minted["share_token"]["id"]]
    assert minted["token"] not in str(listed)
    assert sharing.list_tokens(OTHER_WS, {"entity_type": "work_order", "entity_id": WO})["share_tokens"] == []


def test_check_token_tells_live_from_ended_without_counting(sharing):
    minted = mint(sharing)
    token_id = minted["share_token"]["id"]
    assert sharing.check_token(WS, token_id) is True
    assert sharing.check_token(OTHER_WS, token_id) is False
    assert sharing.check_token(WS, "nonsense") is False
    sharing.revoke_token(WS, "staff", token_id)
    assert sharing.check_token(WS, token_id) is False
    assert ShareToken.objects.get(id=token_id).access_count == 0


def test_listing_the_links_of_an_unknown_kind_of_record_is_refused(sharing):
    with pytest.raises(InvalidInput) as refused:
        sharing.list_tokens(WS, {"entity_type": "invoice", "entity_id": WO})
    assert set(refused.value.fields) == {"entity_type"}


def test_resolve_names_the_links_own_expiry_so_a_reader_can_check_it(sharing):
    moment = utcnow().replace(microsecond=0) + timedelta(days=3)
    raw = mint(sharing, expires_at=isoformat(moment))["token"]
    assert parse_iso(sharing.resolve_token(raw, "work_order")["expires_at"]) == moment
    ShareToken.objects.update(unset__expires_at=True)  # links minted before expiry was required
    assert sharing.resolve_token(raw, "work_order")["expires_at"] is None


# -- view counts sent in batches by the portal's readers ---------------------------------
def views(*entries):
    return {"views": [{"share_token_id": i, "count": n, "last_accessed_at": at} for i, n, at in entries]}


def test_batches_of_views_add_up_and_the_latest_view_wins(sharing):
    a, b = (mint(sharing)["share_token"]["id"] for _ in range(2))
    sharing.dispatch.reset_mock()
    early, late = utcnow() - timedelta(minutes=10), utcnow() - timedelta(minutes=1)
    assert sharing.record_views(views((a, 3, isoformat(late)), (b, 1, isoformat(early)))) == {"updated": 2}
    # An older batch arriving later adds its count but cannot move the time backwards.
    assert sharing.record_views(views((a, 2, isoformat(early)))) == {"updated": 1}
    by_id = {str(t.id): t for t in ShareToken.objects}
    assert by_id[a].access_count == 5 and as_utc(by_id[a].last_accessed_at) == late
    assert by_id[b].access_count == 1 and as_utc(by_id[b].last_accessed_at) == early
    assert dispatched(sharing) == []  # views are counted, not announced


def test_the_same_link_twice_in_one_batch_counts_both(sharing):
    a = mint(sharing)["share_token"]["id"]
    at = utcnow() - timedelta(seconds=5)
    assert sharing.record_views(views((a, 2, isoformat(at - timedelta(seconds=1))),
                                      (a, 4, isoformat(at)))) == {"updated": 1}
    token = ShareToken.objects.get()
    assert token.access_count == 6 and as_utc(token.last_accessed_at) == at


def test_a_view_from_a_clock_ahead_of_ours_is_stamped_with_our_now(sharing):
    a = mint(sharing)["share_token"]["id"]
    with time_machine.travel(utcnow(), tick=False):
        now = utcnow()
        sharing.record_views(views((a, 1, isoformat(now + timedelta(hours=2)))))
    assert as_utc(ShareToken.objects.get().last_accessed_at) == now


def test_unknown_and_malformed_ids_are_skipped_not_fatal(sharing):
    a = mint(sharing)["share_token"]["id"]
    at = isoformat(utcnow())
    result = sharing.record_views(views((UNKNOWN, 5, at), ("not-an-id", 5, at), (a, 1, at)))
    assert result == {"updated": 1}
    assert [t.access_count for t in ShareToken.objects] == [1]
    assert sharing.record_views(views()) == {"updated": 0}


def test_views_of_a_link_revoked_since_still_count(sharing):
    minted = mint(sharing)
    link = minted["share_token"]["id"]
    sharing.revoke_token(WS, "staff", link)
    assert sharing.record_views(views((link, 2, isoformat(utcnow())))) == {"updated": 1}
    assert ShareToken.objects.get().access_count == 2


@pytest.mark.parametrize("batch, field", [
    ({}, "views"),
    ({"views": "all"}, "views"),
    ({"views": [{"share_token_id": "a" * 24, "count": 0, "last_accessed_at": "2026-01-01T00:00:00Z"}]},
     "views[0].count"),
    ({"views": [{"share_token_id": "a" * 24, "count": "3", "last_accessed_at": "2026-01-01T00:00:00Z"}]},
     "views[0].count"),
    ({"views": [{"share_token_id": "a" * 24, "count": 1, "last_accessed_at": "2026-01-01 00:00"}]},
     "views[0].last_accessed_at"),
    ({"views": [{"share_token_id": "a" * 24, "count": 1}]}, "views[0].last_accessed_at"),
    ({"views": [{"share_token_id": 7, "count": 1, "last_accessed_at": "2026-01-01T00:00:00Z"}]},
     "views[0].share_token_id"),
    ({"views": [{"share_token_id": "a" * 24, "count": 1, "last_accessed_at": "2026-01-01T00:00:00Z",
                 "token": "wo_x"}]}, "views[0].token"),
    ({"views": [{"share_token_id": "a" * 24, "count": 1,
                 "last_accessed_at": "2026-01-01T00:00:00Z"}] * 10_001}, "views"),
])
def test_a_malformed_batch_is_refused_whole_with_the_field_named(sharing, batch, field):
    a = mint(sharing)["share_token"]["id"]
    good = {"share_token_id": a, "count": 1, "last_accessed_at": isoformat(utcnow())}
    if isinstance(batch.get("views"), list) and len(batch["views"]) < 10:
        batch = {"views": [good, *batch["views"]]}
        field = field.replace("views[0]", "views[1]")
    with pytest.raises(InvalidInput) as info:
        sharing.record_views(batch)
    assert field in info.value.fields, info.value.fields
    assert ShareToken.objects.get().access_count == 0


# -- share grants: who a resource is shared with ----------------------------------------------
PRJ = "9" * 24
DANA, LEE = "1" * 24, "2" * 24


def test_resource_shares_names_the_customers_a_resource_is_shared_with_now(sharing):
    """What notifications asks before it emails a project's customers its changes: live
    shares only, of this workspace and resource."""
    assert sharing.resource_shares(WS, "project", PRJ) == {"shares": []}
    sharing.share_resource(WS, "staff", "project", PRJ, DANA, "comment")
    lee = sharing.share_resource(WS, "staff", "project", PRJ, LEE, "view")
    sharing.share_resource(OTHER_WS, "staff", "project", PRJ, "3" * 24, "view")
    sharing.share_resource(WS, "staff", "project", "8" * 24, "4" * 24, "view")
    shares = sharing.resource_shares(WS, "project", PRJ)["shares"]
    assert sorted(shares, key=lambda s: s["customer_id"]) == [
        {"customer_id": DANA, "level": "comment"}, {"customer_id": LEE, "level": "view"}]
    sharing.change_share(WS, "staff", lee["id"], None)  # stopped: no longer named
    assert sharing.resource_shares(WS, "project", PRJ)["shares"] == [
        {"customer_id": DANA, "level": "comment"}]
