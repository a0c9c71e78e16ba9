"""The local store (``devtools.store_server``) as its clients see it: the same answers as the
embedded store gives in-process, one data set for every connection, MongoDB's errors.

It runs as the stack runs it, a child process on a free port; pymongo and mongoengine
talk to it over the wire.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import mongoengine
import pymongo
import pytest
from nameko.rpc import rpc
from nameko.testing.services import entrypoint_hook
from pymongo import DeleteMany, InsertOne, ReturnDocument, UpdateOne
from pymongo.collation import Collation
from pymongo.errors import AutoReconnect, BulkWriteError, DuplicateKeyError, OperationFailure, WriteError
from pymongo.write_concern import WriteConcern

from devtools import store_server
from devtools.stack import ROOT, Stack, free_port
from porchlight.kit import storage


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    port = free_port()
    process = store_server.start("127.0.0.1", port, ROOT / "tests" / "output" / "store-server.log")
    try:
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def client(uri: str) -> Iterator[pymongo.MongoClient]:
    with pymongo.MongoClient(uri, uuidRepresentation="standard", tz_aware=True,
                             serverSelectionTimeoutMS=5000) as connected:
        yield connected


def _script(db: Any) -> list[Any]:
    """What the services ask of their databases, each answer kept."""
    jobs = db.jobs
    out: list[Any] = [jobs.create_index([("workspace_id", 1), ("number", 1)], unique=True, name="number")]
    out.append(jobs.create_index([("workspace_id", 1), ("number", 1)], unique=True, name="number"))
    out.append(jobs.insert_many([{"_id": n, "workspace_id": "w1" if n < 5 else "w2", "number": n,
                                  "status": "open", "tags": ["a"] if n % 2 else []}
                                 for n in range(8)]).inserted_ids)
    out.append(list(jobs.find({"workspace_id": "w1"}, {"number": 1}).sort("number", -1).skip(1).limit(2)))
    out.append(jobs.count_documents({"workspace_id": "w1", "tags": "a"}))
    out.append(sorted(jobs.distinct("workspace_id")))
    out.append(jobs.find_one_and_update({"_id": 1, "status": "open"}, {"$set": {"status": "done"}},
                                        return_document=ReturnDocument.AFTER))
    out.append(jobs.find_one_and_update({"_id": 1, "status": "open"}, {"$set": {"status": "done"}}))
    out.append(jobs.find_one_and_update({"_id": 99}, {"$set": {"status": "new"}}, upsert=True,
                                        return_document=ReturnDocument.AFTER))
    out.append(jobs.find_one_and_delete({"workspace_id": "w2"}, sort=[("number", -1)],
                                        projection={"number": 1}))
    result = jobs.bulk_write([UpdateOne({"_id": 2}, {"$inc": {"views": 3}}),
                              UpdateOne({"_id": 50}, {"$set": {"number": 50}}, upsert=True),
                              InsertOne({"_id": 60, "workspace_id": "w3", "number": 60}),
                              DeleteMany({"workspace_id": "w2", "number": {"$lt": 6}})])
    # The counts and the upserted ids (mongomock numbers an upsert within its kind of
    # operation, MongoDB and the server within the whole bulk).
    out.append({key: value for key, value in result.bulk_api_result.items() if key != "upserted"})
    out.append(sorted(result.upserted_ids.values()))
    replaced = jobs.replace_one({"_id": 3}, {"workspace_id": "w1", "number": 3, "status": "replaced"})
    pushed = jobs.update_many({"workspace_id": "w1"}, {"$push": {"tags": "b"}})
    out.append([(r.matched_count, r.modified_count, r.upserted_id) for r in (replaced, pushed)])
    out.append(list(jobs.aggregate([{"$match": {"workspace_id": "w1"}},
                                    {"$group": {"_id": "$status", "n": {"$sum": 1}}},
                                    {"$sort": {"_id": 1}}])))
    out.append(jobs.delete_one({"_id": 4}).deleted_count)
    out.append(sorted(jobs.index_information()))
    out.append(list(jobs.find({}, sort=[("_id", 1)])))
    out.append(db.missing.index_information())
    out.append(sorted(db.list_collection_names()))
    return out


def test_it_answers_as_the_embedded_store_does_in_process(client):
    """The same script against the embedded store as a service opens it in-process and
    against the server: every answer equal, so a service sees no difference but that its
    data is shared."""
    storage.connect("parity", db_prefix="store-server-")
    try:
        assert _script(client["parity"]) == _script(mongoengine.get_db("parity"))
    finally:
        storage.drop("parity")


def test_every_connection_sees_one_data_set(uri, client):
    client.shared.items.insert_one({"_id": "from-one", "n": 1})
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as other:
        assert other.shared.items.find_one({"_id": "from-one"}) == {"_id": "from-one", "n": 1}
        other.shared.items.update_one({"_id": "from-one"}, {"$set": {"n": 2}})
    assert client.shared.items.find_one({"_id": "from-one"})["n"] == 2


def test_a_duplicate_is_mongodbs_duplicate_key_error_and_writes_nothing(client):
    items = client.dupes.items
    items.create_index("email", unique=True)
    items.insert_one({"email": "a@example.org"})
    with pytest.raises(DuplicateKeyError) as refused:
        items.insert_one({"email": "a@example.org"})
    assert refused.value.code == 11000
    with pytest.raises(DuplicateKeyError):
        items.find_one_and_update({"email": "b@example.org"}, {"$set": {"email": "a@example.org"}},
                                  upsert=True)
    with pytest.raises(BulkWriteError) as bulk:
        items.insert_many([{"email": f"{name}@example.org"} for name in ("c", "a", "d")])
    # Ordered: the first is written, the duplicate stops the rest.
    assert bulk.value.details["nInserted"] == 1 and bulk.value.details["writeErrors"][0]["index"] == 1
    assert sorted(d["email"] for d in items.find()) == ["a@example.org", "c@example.org"]


def test_an_unknown_command_is_refused_by_name(client):
    with pytest.raises(OperationFailure) as refused:
        client.admin.command("replSetGetStatus")
    assert refused.value.code == 59 and "no such command: 'replSetGetStatus'" in str(refused.value)


def test_what_mongomock_refuses_is_mongodbs_error_on_a_connection_that_stays(client):
    items = client.refusals.items
    items.insert_one({"_id": 1, "name": "pump"})
    with pytest.raises(WriteError) as bad_increment:
        items.update_one({"_id": 1}, {"$inc": {"name": 1}})
    assert not isinstance(bad_increment.value, DuplicateKeyError)  # only a duplicate is 11000
    with pytest.raises(OperationFailure) as bad_operator:
        items.find_one({"$where": "this.name == 'pump'"})
    assert not isinstance(bad_operator.value, AutoReconnect)
    # The same connection goes on answering, and nothing was written.
    assert items.find_one({"_id": 1}) == {"_id": 1, "name": "pump"}


def test_an_option_it_does_not_implement_is_refused_by_name_not_ignored(client):
    items = client["optional"].items
    items.insert_one({"name": "Pump"})
    with pytest.raises(OperationFailure) as collation:
        items.find_one({"name": "pump"}, collation=Collation("en", strength=2))
    assert collation.value.code == 238 and "collation" in str(collation.value)
    with pytest.raises(OperationFailure) as hinted:
        items.update_one({"name": "Pump"}, {"$set": {"size": 2}}, hint=[("_id", 1)])
    assert "hint" in str(hinted.value)
    with pytest.raises(OperationFailure):
        client["optional"].list_collection_names(filter={"name": {"$regex": "^it"}})
    with pytest.raises(OperationFailure) as multi:  # as MongoDB: a replacement is one document
        client["optional"].command("update", "items",
                                   updates=[{"q": {}, "u": {"name": "Valve"}, "multi": True}])
    assert multi.value.code == 9
    assert [d["name"] for d in items.find()] == ["Pump"]


def test_an_upsert_that_changes_its_own_filter_reports_the_new_id(client):
    """findAndModify answering the document as it was (none) still says what it made."""
    answer = client.upserts.command("findAndModify", "items", query={"k": 5}, update={"$set": {"k": 6}},
                                    upsert=True)
    made = client.upserts.items.find_one({"k": 6})
    assert answer["value"] is None and answer["lastErrorObject"]["upserted"] == made["_id"]
    assert answer["lastErrorObject"]["updatedExisting"] is False


def test_an_unacknowledged_write_is_still_written(client):
    client.fire.items.with_options(write_concern=WriteConcern(w=0)).insert_one({"_id": "quiet"})
    # The next command on the same connection is answered after the write was applied.
    assert client.fire.items.find_one({"_id": "quiet"}) == {"_id": "quiet"}


class Ticket(mongoengine.Document):
    meta = {"db_alias": "store-server-test", "indexes": [{"fields": ["code"], "unique": True}]}
    code = mongoengine.StringField(required=True)
    status = mongoengine.StringField(default="open")


def test_mongoengine_models_work_through_it(uri):
    mongoengine.connect(db="tickets", alias="store-server-test", host=uri, uuidRepresentation="standard",
                        tz_aware=True)
    try:
        Ticket(code="T-1").save()
        with pytest.raises(mongoengine.NotUniqueError):
            Ticket(code="T-1").save()
        # A conditional change happens once, as a status filter on MongoDB guarantees.
        closed = Ticket.objects(code="T-1", status="open").modify(set__status="closed", new=True)
        assert closed.status == "closed"
        assert Ticket.objects(code="T-1", status="open").modify(set__status="closed") is None
        assert Ticket.objects(status="closed").count() == 1
    finally:
        mongoengine.disconnect("store-server-test")


def test_the_stack_shares_the_store_only_between_replicas_and_only_with_the_services(settings_env):
    # A MongoDB the machine names always wins over the local store; and whatever the
    # address, only the services are given it.
    settings_env(mongodb_uri="mongodb://mongodb.example:27017/")
    for asked in (None, True):
        wanting = Stack(replicas={"documents": 2}, shared_store=asked)
        wanting.start_store()
        assert wanting.store is None
    replicated = Stack(replicas={"documents": 2}, store_uri="mongodb://127.0.0.1:1/")
    for name in ("documents", "documents-2", "identity"):
        assert replicated.command(name)[1]["PORCHLIGHT_MONGODB_URI"] == "mongodb://127.0.0.1:1/"
    for name in ("worker", "portal", "admin"):
        assert "PORCHLIGHT_MONGODB_URI" not in replicated.command(name)[1]
    # The grants' key goes to the services that sign and check grants, and to no other
    # process — not even from the environment the stack was started in (the tests set it).
    assert os.environ.get("PORCHLIGHT_GRANT_KEY")
    for name in ("documents", "documents-2", "identity", "sharing", "signatures", "notifications",
                 "worker", "portal", "admin"):
        env = replicated.command(name)[1]
        held = name.split("-")[0] in ("documents", "identity", "sharing")
        assert env.get("PORCHLIGHT_GRANT_KEY") == (replicated.grant_key if held else None), name
    # Two workers, two Celery node names (one would refuse to start beside the other), and
    # one beat between them (two would queue every sweep twice).
    two_workers = Stack(replicas={"worker": 2})
    commands = [two_workers.command(name) for name in ("worker", "worker-2")]
    assert [argv[-1] for argv, _ in commands] == ["worker@%h", "worker-2@%h"]
    assert [env["PORCHLIGHT_WORKER_BEAT"] for _, env in commands] == ["true", "false"]


class KeeperRepository:
    def ensure_indexes(self) -> None:
        pass

    def migrate(self) -> None:
        """A one-off change to stored data: the Store runs it at every start."""
        things = mongoengine.get_db("keeper").things
        things.update_many({"value": "old"}, {"$set": {"value": "migrated"}})

    def keep(self, value: str) -> None:
        mongoengine.get_db("keeper").things.insert_one({"value": value})


class Keeper:
    """A service with one database, as every Porchlight service has."""

    name = "keeper"
    repo = storage.Store("keeper", KeeperRepository)

    @rpc
    def keep(self, value: str) -> None:
        self.repo.keep(value)


def test_a_test_services_database_is_dropped_however_its_container_ends(uri, client, settings_env,
                                                                        container_factory):
    """Stopped or killed (nameko's test runners kill), a container configured to drop its
    database drops it: on a real MongoDB, tests leave nothing behind."""
    settings_env(mongodb_uri=uri)
    for end in ("stop", "kill"):
        prefix = f"ends-by-{end}-"
        container = container_factory(Keeper, {"AMQP_URI": "memory://", "MONGODB_DB_PREFIX": prefix,
                                               "MONGODB_DROP_ON_STOP": True})
        container.start()
        with entrypoint_hook(container, "keep") as keep:
            keep("kept")
        assert f"{prefix}keeper" in client.list_database_names()
        getattr(container, end)()
        assert f"{prefix}keeper" not in client.list_database_names(), end


def test_a_repositorys_migration_runs_when_its_store_starts(uri, client, settings_env, container_factory):
    settings_env(mongodb_uri=uri)
    prefix = "migrates-"
    client[f"{prefix}keeper"].things.insert_many([{"value": "old"}, {"value": "new"}])
    container = container_factory(Keeper, {"AMQP_URI": "memory://", "MONGODB_DB_PREFIX": prefix,
                                           "MONGODB_DROP_ON_STOP": True})
    container.start()
    assert sorted(t["value"] for t in client[f"{prefix}keeper"].things.find()) == ["migrated", "new"]
    container.stop()


def test_a_port_handed_out_is_never_handed_out_again_before_its_child_binds_it() -> None:
    """A stack picks a dozen ports before any child binds one: two picks of the same port
    would leave a child "address in use" at start."""
    picked = [free_port() for _ in range(500)]
    assert len(set(picked)) == len(picked)
