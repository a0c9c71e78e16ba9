"""The embedded store behind MongoDB's wire protocol, so several processes share one data set.

Without ``PORCHLIGHT_MONGODB_URI`` each service keeps its data in its own process
(mongomock, ``porchlight.kit.storage``). That is enough for one process per service, but two
replicas of a service must see the same records, as they would on a MongoDB. When the
local stack runs replicas on a machine without MongoDB, it starts this server and gives
every service its address as ``PORCHLIGHT_MONGODB_URI``: the services then talk to it
with pymongo exactly as they would to a MongoDB, and it keeps one mongomock data set, in
memory, for all of them. It is a development and test tool: one process, no
authentication, nothing on disk, every command run under one lock.

It answers the commands pymongo and mongoengine send for what the services do (the
handshake, ``find``, ``insert``, ``update``, ``delete``, ``findAndModify``, ``aggregate``,
``count``, ``distinct``, index and collection management). Any other command gets
MongoDB's "no such command" error, an option it does not implement (a collation, a hint,
…) is refused by name, and whatever mongomock refuses comes back as MongoDB's error with
mongomock's reason: a gap shows as a clear failure, never as a wrong answer or a dropped
connection. It tells clients it is a standalone server without sessions, so pymongo
neither sends session ids nor retries writes. Every answer comes in one batch, so a
query's results must fit in one message (48 MB).

    python -m devtools.store_server [--host 127.0.0.1] [--port 27017]
"""

from __future__ import annotations

import argparse
import logging
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
import mongomock
from bson.codec_options import CodecOptions
from pymongo import ReturnDocument

log = logging.getLogger("porchlight.store_server")

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
_CHECKSUM_PRESENT, _MORE_TO_COME = 1 << 0, 1 << 1
_CODEC = CodecOptions()  # naive UTC datetimes and Binary UUIDs, as they came
_MAX_WIRE_VERSION = 17  # MongoDB 6.0's commands, which is all pymongo is told it may use
_DUPLICATE_KEY = 11000


class CommandFailed(Exception):
    """A command MongoDB would refuse: ``{ok: 0, errmsg, code}``."""

    def __init__(self, message: str, code: int, code_name: str) -> None:
        super().__init__(message)
        self.code, self.code_name = code, code_name


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode(), end + 1


def parse_op_msg(body: bytes) -> tuple[dict[str, Any], int]:
    """An OP_MSG's command (its body section with each document sequence folded in under
    its identifier, as MongoDB reads it) and its flags."""
    (flags,) = struct.unpack_from("<I", body)
    end = len(body) - (4 if flags & _CHECKSUM_PRESENT else 0)
    command: dict[str, Any] = {}
    at = 4
    while at < end:
        kind = body[at]
        (size,) = struct.unpack_from("<i", body, at + 1)
        if kind == 0:
            command.update(bson.decode(body[at + 1:at + 1 + size], _CODEC))
            at += 1 + size
        elif kind == 1:
            identifier, docs_at = _cstring(body, at + 5)
            command[identifier] = bson.decode_all(body[docs_at:at + 1 + size], _CODEC)
            at += 1 + size
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
    return command, flags


def parse_op_query(body: bytes) -> tuple[str, dict[str, Any]]:
    """A legacy OP_QUERY's namespace and document: pymongo's first handshake on a connection."""
    namespace, at = _cstring(body, 4)
    (size,) = struct.unpack_from("<i", body, at + 8)
    return namespace, bson.decode(body[at + 8:at + 8 + size], _CODEC)


def _message(request_id: int, op_code: int, payload: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(payload), 0, request_id, op_code) + payload


def op_msg_reply(request_id: int, reply: dict[str, Any]) -> bytes:
    return _message(request_id, OP_MSG, struct.pack("<I", 0) + b"\x00" + bson.encode(reply))


def op_reply(request_id: int, reply: dict[str, Any]) -> bytes:
    return _message(request_id, OP_REPLY, struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(reply))


def _cursor(namespace: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    # Every answer fits in its first batch (id 0: nothing left for a getMore).
    return {"cursor": {"id": bson.Int64(0), "ns": namespace, "firstBatch": batch}, "ok": 1.0}


def _sort(spec: dict[str, Any] | None) -> list[tuple[str, Any]] | None:
    return list(spec.items()) if spec else None


def _is_replacement(change: Any) -> bool:
    """A whole new document rather than operators (``$set`` …) or a pipeline."""
    return isinstance(change, dict) and not any(key.startswith("$") for key in change)


def _code(exc: Exception) -> int:
    """MongoDB's error code for what mongomock raised: 11000 for a duplicate key, mongomock's
    own code where it gives one, else 2 (BadValue: the command asked for something wrong)."""
    if isinstance(exc, mongomock.DuplicateKeyError):
        return _DUPLICATE_KEY
    return getattr(exc, "code", None) or 2


def _write_error(index: int, exc: Exception) -> dict[str, Any]:
    return {"index": index, "code": _code(exc), "errmsg": f"{type(exc).__name__}: {exc}"}


# Fields any command may carry that change nothing here (no sessions, one server, no
# replication, no time limits kept).
_HARMLESS = frozenset({"lsid", "$readPreference", "$clusterTime", "readConcern", "writeConcern", "comment",
                       "maxTimeMS", "apiVersion", "apiStrict", "apiDeprecationErrors"})
# What each command may ask for beyond its name and the fields above; anything else (a
# collation, a hint, a capped collection, …) is refused rather than silently ignored.
_OPTIONS: dict[str, frozenset[str]] = {
    "find": frozenset({"filter", "projection", "sort", "skip", "limit", "batchSize", "singleBatch",
                       "noCursorTimeout"}),
    "aggregate": frozenset({"pipeline", "cursor", "allowDiskUse"}),
    "count": frozenset({"query", "skip", "limit"}),
    "distinct": frozenset({"key", "query"}),
    "insert": frozenset({"documents", "ordered", "bypassDocumentValidation"}),
    "update": frozenset({"updates", "ordered", "bypassDocumentValidation"}),
    "delete": frozenset({"deletes", "ordered"}),
    "findAndModify": frozenset({"query", "sort", "remove", "update", "new", "fields", "upsert",
                                "arrayFilters", "bypassDocumentValidation"}),
    "createIndexes": frozenset({"indexes"}),
    "listIndexes": frozenset({"cursor"}),
    "dropIndexes": frozenset({"index"}),
    "listCollections": frozenset({"filter", "cursor", "nameOnly", "authorizedCollections"}),
    "listDatabases": frozenset({"nameOnly"}),
    "create": frozenset(),
    "drop": frozenset(),
    "dropDatabase": frozenset(),
}
_OPTIONS["findandmodify"] = _OPTIONS["findAndModify"]
_UPDATE_STATEMENT = frozenset({"q", "u", "upsert", "multi", "arrayFilters"})
_DELETE_STATEMENT = frozenset({"q", "limit"})
_INDEX_OPTIONS = frozenset({"key", "name", "unique", "sparse", "background", "v", "expireAfterSeconds",
                            "partialFilterExpression"})


def _refuse_unknown(what: str, given: dict[str, Any], allowed: frozenset[str]) -> None:
    if unknown := sorted(set(given) - allowed - _HARMLESS):
        raise CommandFailed(f"the local store does not support {', '.join(unknown)} in {what}", 238,
                            "NotImplemented")


class Store:
    """One mongomock data set and the commands that reach it, one at a time."""

    def __init__(self) -> None:
        self.client = mongomock.MongoClient()
        self.lock = threading.Lock()
        self.commands: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
            "hello": self.hello, "isMaster": self.hello, "ismaster": self.hello,
            "ping": self.ok, "endSessions": self.ok, "killCursors": self.ok,
            "buildInfo": self.build_info, "buildinfo": self.build_info,
            "find": self.find, "insert": self.insert, "update": self.update, "delete": self.delete,
            "findAndModify": self.find_and_modify, "findandmodify": self.find_and_modify,
            "aggregate": self.aggregate, "count": self.count, "distinct": self.distinct,
            "createIndexes": self.create_indexes, "listIndexes": self.list_indexes,
            "dropIndexes": self.drop_indexes, "create": self.create, "drop": self.drop,
            "listCollections": self.list_collections, "listDatabases": self.list_databases,
            "dropDatabase": self.drop_database,
        }

    def run(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        """The reply to ``command`` on database ``db``; a refusal is a ``{ok: 0}`` reply."""
        name = next(iter(command), "")
        handler = self.commands.get(name)
        try:
            if handler is None:
                raise CommandFailed(f"no such command: '{name}'", 59, "CommandNotFound")
            if (options := _OPTIONS.get(name)) is not None:
                _refuse_unknown(name, dict(list(command.items())[1:]), options)
            with self.lock:
                return handler(db, command)
        except CommandFailed as exc:
            return {"ok": 0.0, "errmsg": str(exc), "code": exc.code, "codeName": exc.code_name}
        except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a dropped connection
            # What mongomock raised ($inc on a string, an operator it lacks, a duplicate
            # key): the client gets it as MongoDB's error, with the reason.
            return {"ok": 0.0, "errmsg": f"{type(exc).__name__}: {exc}", "code": _code(exc),
                    "codeName": "DuplicateKey" if _code(exc) == _DUPLICATE_KEY else "BadValue"}

    def _collection(self, db: str, command: dict[str, Any]) -> mongomock.Collection:
        return self.client[db][next(iter(command.values()))]

    # -- the handshake and the server's own commands ------------------------------------------
    def hello(self, _db: str, _command: dict[str, Any]) -> dict[str, Any]:
        # No logicalSessionTimeoutMinutes: a standalone without sessions.
        return {"helloOk": True, "ismaster": True, "isWritablePrimary": True,
                "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000,
                "maxWriteBatchSize": 100_000, "localTime": datetime.now(UTC),
                "minWireVersion": 0, "maxWireVersion": _MAX_WIRE_VERSION, "readOnly": False, "ok": 1.0}

    def ok(self, _db: str, _command: dict[str, Any]) -> dict[str, Any]:
        return {"ok": 1.0}

    def build_info(self, _db: str, _command: dict[str, Any]) -> dict[str, Any]:
        return {"version": "6.0.0", "versionArray": [6, 0, 0, 0], "ok": 1.0}

    # -- reads --------------------------------------------------------------------------------
    def find(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        found = collection.find(command.get("filter") or {}, command.get("projection"),
                                skip=command.get("skip", 0), limit=abs(command.get("limit", 0)),
                                sort=_sort(command.get("sort")))
        return _cursor(f"{db}.{collection.name}", list(found))

    def aggregate(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        return _cursor(f"{db}.{collection.name}", list(collection.aggregate(command["pipeline"])))

    def count(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        options = {key: command[key] for key in ("skip", "limit") if command.get(key)}
        return {"n": self._collection(db, command).count_documents(command.get("query") or {}, **options),
                "ok": 1.0}

    def distinct(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        return {"values": self._collection(db, command).distinct(command["key"], command.get("query")),
                "ok": 1.0}

    # -- writes -------------------------------------------------------------------------------
    def insert(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        reply: dict[str, Any] = {"n": 0, "ok": 1.0}
        for index, document in enumerate(command.get("documents", [])):
            try:
                collection.insert_one(document)
                reply["n"] += 1
            except Exception as exc:  # noqa: BLE001 - reported as this document's write error
                reply.setdefault("writeErrors", []).append(_write_error(index, exc))
                if command.get("ordered", True):
                    break
        return reply

    def update(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        reply: dict[str, Any] = {"n": 0, "nModified": 0, "ok": 1.0}
        for statement in command.get("updates", []):
            _refuse_unknown("an update statement", statement, _UPDATE_STATEMENT)
            if _is_replacement(statement["u"]) and statement.get("multi"):
                raise CommandFailed("multi update is not supported for replacement-style update", 9,
                                    "FailedToParse")
        for index, statement in enumerate(command.get("updates", [])):
            query, change, upsert = statement["q"], statement["u"], statement.get("upsert", False)
            options: dict[str, Any] = {"upsert": upsert}
            if statement.get("arrayFilters"):
                options["array_filters"] = statement["arrayFilters"]
            try:
                if _is_replacement(change):
                    result = collection.replace_one(query, change, **options)
                elif statement.get("multi"):
                    result = collection.update_many(query, change, **options)
                else:
                    result = collection.update_one(query, change, **options)
            except Exception as exc:  # noqa: BLE001 - reported as this statement's write error
                reply.setdefault("writeErrors", []).append(_write_error(index, exc))
                if command.get("ordered", True):
                    break
                continue
            reply["n"] += result.matched_count
            reply["nModified"] += result.modified_count
            if result.upserted_id is not None:
                reply["n"] += 1
                reply.setdefault("upserted", []).append({"index": index, "_id": result.upserted_id})
        return reply

    def delete(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        removed = 0
        for statement in command.get("deletes", []):
            _refuse_unknown("a delete statement", statement, _DELETE_STATEMENT)
        for statement in command.get("deletes", []):
            remove = collection.delete_one if statement.get("limit") == 1 else collection.delete_many
            removed += remove(statement["q"]).deleted_count
        return {"n": removed, "ok": 1.0}

    def find_and_modify(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        query, sort = command.get("query") or {}, _sort(command.get("sort"))
        projection = command.get("fields")
        if command.get("remove"):
            value = collection.find_one_and_delete(query, projection=projection, sort=sort)
            return {"lastErrorObject": {"n": int(value is not None)}, "value": value, "ok": 1.0}
        # What the reply shows: the document as it was (projected), and whether one was there.
        before = collection.find_one(query, projection, sort=sort)
        change, upsert = command.get("update") or {}, command.get("upsert", False)
        options: dict[str, Any] = {"projection": {"_id": 1}, "sort": sort, "upsert": upsert,
                                   "return_document": ReturnDocument.AFTER}
        if _is_replacement(change):
            changed = collection.find_one_and_replace(query, change, **options)
        else:
            if command.get("arrayFilters"):
                options["array_filters"] = command["arrayFilters"]
            changed = collection.find_one_and_update(query, change, **options)
        outcome: dict[str, Any] = {"n": int(changed is not None), "updatedExisting": before is not None}
        if before is None and changed is not None:
            outcome["upserted"] = changed["_id"]
        value = before
        if command.get("new") and changed is not None:
            value = collection.find_one({"_id": changed["_id"]}, projection)
        return {"lastErrorObject": outcome, "value": value, "ok": 1.0}

    # -- indexes and collections ------------------------------------------------------------------
    def create_indexes(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        before = len(collection.index_information())
        for index in command.get("indexes", []):
            _refuse_unknown("an index", index, _INDEX_OPTIONS)
        for index in command.get("indexes", []):
            options = {key: value for key, value in index.items() if key not in ("key", "v")}
            collection.create_index(list(index["key"].items()), **options)
        return {"numIndexesBefore": before, "numIndexesAfter": len(collection.index_information()),
                "ok": 1.0}

    def list_indexes(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        if collection.name not in self.client[db].list_collection_names():
            raise CommandFailed(f"ns does not exist: {db}.{collection.name}", 26, "NamespaceNotFound")
        indexes = [{"v": 2, "name": name, **{k: v for k, v in info.items() if k != "key"},
                    "key": dict(info["key"])}
                   for name, info in collection.index_information().items()]
        return _cursor(f"{db}.{collection.name}", indexes)

    def drop_indexes(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command)
        if command.get("index") == "*":
            collection.drop_indexes()
        else:
            collection.drop_index(command["index"])
        return {"ok": 1.0}

    def create(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        try:
            self.client[db].create_collection(command["create"])
        except mongomock.CollectionInvalid as exc:
            raise CommandFailed(str(exc), 48, "NamespaceExists") from None
        return {"ok": 1.0}

    def drop(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        self._collection(db, command).drop()
        return {"ok": 1.0}

    def drop_database(self, db: str, _command: dict[str, Any]) -> dict[str, Any]:
        self.client.drop_database(db)
        return {"ok": 1.0}

    def list_collections(self, db: str, command: dict[str, Any]) -> dict[str, Any]:
        given = command.get("filter") or {}
        wanted = given.get("name")
        if set(given) - {"name"} or not isinstance(wanted, str | None):
            raise CommandFailed("the local store lists collections by exact name only", 238, "NotImplemented")
        names = [name for name in self.client[db].list_collection_names() if wanted in (None, name)]
        return _cursor(f"{db}.$cmd.listCollections",
                       [{"name": name, "type": "collection", "options": {}, "info": {"readOnly": False}}
                        for name in names])

    def list_databases(self, _db: str, _command: dict[str, Any]) -> dict[str, Any]:
        return {"databases": [{"name": name, "sizeOnDisk": 0, "empty": False}
                              for name in self.client.list_database_names()],
                "totalSize": 0, "ok": 1.0}


class _Connection(socketserver.BaseRequestHandler):
    server: StoreServer

    def _read(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.request.recv(left)
            if not chunk:
                raise ConnectionError("the client closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def handle(self) -> None:
        try:
            while True:
                length, request_id, _, op_code = _HEADER.unpack(self._read(_HEADER.size))
                body = self._read(length - _HEADER.size)
                if op_code == OP_MSG:
                    command, flags = parse_op_msg(body)
                    reply = self.server.store.run(command.pop("$db", "admin"), command)
                    if not flags & _MORE_TO_COME:  # an unacknowledged write wants no answer
                        self.request.sendall(op_msg_reply(request_id, reply))
                elif op_code == OP_QUERY:
                    namespace, command = parse_op_query(body)
                    command = command.get("$query", command)
                    self.request.sendall(op_reply(request_id, self.server.store.run(namespace.split(".")[0],
                                                                                      command)))
                else:
                    log.warning("closing a connection that sent op code %s, which this store does not speak",
                                op_code)
                    return
        except (ConnectionError, OSError):
            return


class StoreServer(socketserver.ThreadingTCPServer):
    """``serve_forever()`` answers every client on a thread of its own, all on one ``Store``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = Store()
        super().__init__((host, port), _Connection)

    @property
    def uri(self) -> str:
        host, port = self.server_address[:2]
        return f"mongodb://{host}:{port}/"


def start(host: str, port: int, log_file: Path, timeout: float = 20.0) -> subprocess.Popen:
    """This server as a child process of its own (logging to ``log_file``), once it accepts
    connections on ``host:port``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.store_server", "--host", host, "--port", str(port)],
            cwd=Path(__file__).resolve().parent.parent, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the local store exited with status {process.returncode}; see {log_file}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the local store did not listen on {host}:{port} within {timeout:.0f}s") \
                    from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.store_server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with StoreServer(args.host, args.port) as server:
        log.warning("serving the in-memory store at %s: its data lives in this process only "
                    "and is lost when it stops", server.uri)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
