"""The admin API through Flask's test client, against the real services on RabbitMQ."""

from datetime import timedelta

import pytest

from porchlight.contracts.clock import isoformat, parse_iso, utcnow


def error_of(response, status):
    assert response.status_code == status, response.json
    body = response.json["error"]
    assert set(body) == {"code", "message", "fields"} and body["message"]
    return body


# -- authentication -------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer plk_wrong",
                                    "plk_no_scheme"])
def test_requests_without_a_valid_key_are_401(admin_app, staff, header):
    headers = {"Authorization": header} if header is not None else {}
    response = admin_app.test_client().get("/api/v1/work-orders", headers=headers)
    error_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_stops_working_at_once(staff, rpc):
    assert staff.get("/work-orders").status_code == 200
    key_id = rpc.call("identity", "authenticate_api_key", staff.api_key)["api_key_id"]
    rpc.call("identity", "revoke_api_key", staff.workspace_id, "test", key_id)
    error_of(staff.get("/work-orders"), 401)


# -- the workspace --------------------------------------------------------------------
def test_staff_read_and_change_their_workspace(make_staff):
    staff, other = make_staff("Acme Heating", currency="GBP"), make_staff("Other Co")
    before = staff.workspace()
    assert before["id"] == staff.workspace_id and before["name"] == "Acme Heating"
    assert before["currency"] == "GBP" and before["logo_url"] is None
    changed = staff.patch("/workspace", {"brand_colour": "#0A7F3F", "sender_name": "Acme"})
    assert changed.status_code == 200, changed.text
    assert changed.json == {**before, "brand_colour": "#0a7f3f", "sender_name": "Acme"}
    assert staff.workspace() == changed.json
    assert other.workspace()["brand_colour"] == "#1d4ed8"  # only the key's own workspace


def test_a_workspace_writes_numbers_and_dates_in_its_locale_and_an_unknown_one_is_refused(staff, portal):
    assert staff.workspace()["locale"] == "en-GB"
    refused = error_of(staff.patch("/workspace", {"locale": "it-IT"}), 422)
    assert "en, fr, es, de" in refused["fields"]["locale"]  # the languages Porchlight is written in
    assert staff.patch("/workspace", {"locale": "en-US"}).json["locale"] == "en-US"
    sent = staff.sent_estimate([{"description": "Boiler", "quantity": 1, "unit_price": "1353.12"}],
                               currency="USD", valid_until="2030-12-24")
    page = portal.get(sent["url"].replace("http://portal.test", "")).text
    assert "$1,353.12" in page and "December 24, 2030" in page


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"currency": "euro"}, "currency"),
    ({"timezone": "Europe/Atlantis"}, "timezone"), ({"brand_colour": "#12345"}, "brand_colour"),
    ({"logo_url": "ftp://acme.example/l.png"}, "logo_url"), ({"workspace_id": "a" * 24}, "workspace_id"),
    ({"locale": "en_GB"}, "locale"), ({"locale": "en"}, "locale"), ({"locale": "it-IT"}, "locale"),
    ({"locale": "en-ZZ"}, "locale"), ({"locale": None}, "locale"), ({"locale": 7}, "locale"),
])
def test_workspace_changes_are_checked_per_field_and_a_bad_one_changes_nothing(staff, body, field):
    before = staff.workspace()
    response = staff.patch("/workspace", {"name": "Renamed", **body})
    assert set(error_of(response, 422)["fields"]) == {field}
    assert staff.workspace() == before


def test_the_workspace_needs_a_key_and_a_json_object(admin_app, staff):
    error_of(admin_app.test_client().get("/api/v1/workspace"), 401)
    error_of(admin_app.test_client().patch("/api/v1/workspace", json={"name": "X"}), 401)
    error_of(staff.send("PATCH", "/workspace", {**staff.headers, "Content-Type": "application/json"},
                        data="[1]"), 400)
    assert staff.workspace()["name"] == "Acme Heating"


# -- customers ------------------------------------------------------------------------
def test_customer_create_and_read(staff):
    created = staff.post("/customers", {"name": "Alex Morgan", "email": "alex@example.com",
                                        "preferred_language": "fr"})
    assert created.status_code == 201
    fetched = staff.get(f"/customers/{created.json['id']}")
    assert fetched.json == created.json and fetched.json["preferred_language"] == "fr"


@pytest.mark.parametrize("body, fields", [
    ({}, {"name"}),
    ({"name": "A", "email": "nope"}, {"email"}),
    ({"name": "A"}, {"email"}),
    ({"name": "A" * 161, "phone": "+1 555 0100", "vip": True}, {"name", "vip"}),
])
def test_customer_validation_is_422_with_fields_and_writes_nothing(staff, body, fields):
    assert set(error_of(staff.post("/customers", body), 422)["fields"]) == fields
    assert staff.get("/customers").json["customers"] == []


@pytest.mark.parametrize("raw, content_type", [
    ("not json", "application/json"), ("[1, 2]", "application/json"),
    ('{"name": "A"}', "text/plain"), ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_400(staff, raw, content_type):
    error_of(staff.post_raw("/customers", raw, content_type), 400)


# -- work orders ----------------------------------------------------------------------
def test_work_order_lifecycle(staff):
    customer = staff.post("/customers", {"name": "Alex", "phone": "+44 20 7946 0123"}).json
    wo = staff.work_order(customer_id=customer["id"], internal_notes="gate 4471")
    assert wo["number"] == "WO-0001" and wo["status"] == "new"
    assert staff.get(f"/work-orders/{wo['id']}").json["internal_notes"] == "gate 4471"
    moved = staff.patch(f"/work-orders/{wo['id']}", {"status": "completed"})
    assert moved.status_code == 200 and moved.json["completed_at"]
    error_of(staff.patch(f"/work-orders/{wo['id']}", {"status": "in_progress"}), 409)
    assert staff.get(f"/work-orders/{wo['id']}").json["status"] == "completed"
    assert [w["id"] for w in staff.get("/work-orders?status=completed").json["work_orders"]] == [wo["id"]]
    error_of(staff.get("/work-orders?status=finished"), 422)


def test_work_order_validation_and_conflicts(staff):
    body = error_of(staff.post("/work-orders", {"title": "", "status": "done"}), 422)
    assert set(body["fields"]) == {"title", "status"}
    error_of(staff.post("/work-orders", {"title": "X", "customer_id": "f" * 24}), 422)
    staff.work_order(number="JOB-1")
    error_of(staff.post("/work-orders", {"title": "Y", "number": "JOB-1"}), 409)
    assert len(staff.get("/work-orders").json["work_orders"]) == 1
    error_of(staff.get("/work-orders/nope"), 404)
    error_of(staff.patch("/work-orders/" + "f" * 24, {"title": "x"}), 404)


# -- share tokens ---------------------------------------------------------------------
def test_share_token_mint_list_revoke_rotate(staff):
    wo = staff.work_order()
    minted = staff.share(wo["id"], expires_at=isoformat(utcnow() + timedelta(days=7)))
    token = minted["token"]
    assert minted["url"] == f"http://portal.test/portal/fsm/{token}"
    listed = staff.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}").json
    assert [t["last4"] for t in listed["share_tokens"]] == [token[-4:]]
    assert token not in str(listed)
    rotated = staff.post(f"/share-tokens/{minted['share_token']['id']}/rotate")
    assert rotated.status_code == 201 and rotated.json["token"] != token
    error_of(staff.post(f"/share-tokens/{minted['share_token']['id']}/rotate"), 409)
    revoked = staff.post(f"/share-tokens/{rotated.json['share_token']['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    again = staff.post(f"/share-tokens/{rotated.json['share_token']['id']}/revoke")
    assert again.json["revoked_at"] == revoked.json["revoked_at"]


@pytest.mark.parametrize("body, fields", [
    ({"entity": "wo"}, {"entity"}),
    ({"entity": {"type": "invoice", "id": "f" * 24}}, {"entity.type"}),
    ({"entity": {"type": "work_order", "id": 7}}, {"entity.id"}),
    ({"permissions": ["sign"]}, {"permissions"}),
    ({"expires_at": "2000-01-01T00:00:00Z"}, {"expires_at"}),
    ({"expires_at": "next week"}, {"expires_at"}),
    ({"expires_at": isoformat(utcnow() + timedelta(days=731))}, {"expires_at"}),  # over two years
    ({"extra": 1}, {"extra"}),
])
def test_share_token_validation(staff, body, fields):
    wo = staff.work_order()
    full = {"entity": {"type": "work_order", "id": wo["id"]}, **body}
    assert set(error_of(staff.post("/share-tokens", full), 422)["fields"]) == fields
    listed = staff.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}").json
    assert listed["share_tokens"] == []


def test_a_link_without_expiry_gets_its_default_and_says_so(staff):
    wo = staff.work_order()
    before = utcnow()
    minted = staff.share(wo["id"])
    expires = parse_iso(minted["share_token"]["expires_at"])
    assert before + timedelta(days=180) <= expires <= utcnow() + timedelta(days=180)
    listed = staff.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}").json
    assert listed["share_tokens"][0]["expires_at"] == minted["share_token"]["expires_at"]


def test_listing_needs_an_entity(staff):
    assert set(error_of(staff.get("/share-tokens"), 422)["fields"]) == {"entity_type", "entity_id"}


# -- tenancy --------------------------------------------------------------------------
def test_another_workspace_gets_404_and_never_data(make_staff):
    a, b = make_staff("A Heating"), make_staff("B Plumbing")
    customer = a.post("/customers", {"name": "Alex", "email": "alex@example.com"}).json
    wo = a.work_order(customer_id=customer["id"], internal_notes="secret gate code")
    share = a.share(wo["id"])
    share_id = share["share_token"]["id"]
    for response in (
        b.get(f"/customers/{customer['id']}"),
        b.get(f"/work-orders/{wo['id']}"),
        b.patch(f"/work-orders/{wo['id']}", {"title": "Hijacked"}),
        b.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}"),
        b.post(f"/share-tokens/{share_id}/revoke"),
        b.post(f"/share-tokens/{share_id}/rotate"),
    ):
        error_of(response, 404)
        assert "secret" not in response.text
    # Minting for A's work order: the record named in the body is not B's.
    refused = error_of(b.post("/share-tokens", {"entity": {"type": "work_order", "id": wo["id"]}}), 422)
    assert refused["fields"] == {"entity.id": "No such record in this workspace."}
    # B cannot attach A's customer to its own work order either.
    error_of(b.post("/work-orders", {"title": "X", "customer_id": customer["id"]}), 422)
    assert a.get(f"/work-orders/{wo['id']}").json["title"] == "Fix the boiler"
    listed = a.get(f"/share-tokens?entity_type=work_order&entity_id={wo['id']}").json["share_tokens"]
    assert listed[0]["revoked_at"] is None


def test_unknown_routes_answer_json(staff):
    error_of(staff.get("/nothing-here"), 404)
    assert staff.delete("/work-orders").status_code == 405
