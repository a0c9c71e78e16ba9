"""Each service's own MongoDB database, opened by a nameko dependency provider.

``PORCHLIGHT_MONGODB_URI`` set: a real MongoDB; the service uses the database
``<prefix><service>`` on it (``PORCHLIGHT_MONGODB_DB_PREFIX``, or ``MONGODB_DB_PREFIX`` in
the container's config, which the tests use). Not set: an embedded in-memory stand-in
(mongomock) with a loud warning, for the demo and the tests on machines without MongoDB.
Repositories only use queries both support (atomic ``find_one_and_update`` with status
filters, unique indexes, ``bulk_write`` of ``UpdateOne``).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import mongoengine
from mongoengine.queryset.visitor import Q
from nameko.extensions import DependencyProvider

from porchlight.contracts.errors import InvalidInput, NotFound
from porchlight.contracts.paging import QUERY_ATTENTION
from porchlight.runtime.settings import get_settings

log = logging.getLogger(__name__)
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def is_object_id(value: Any) -> bool:
    """Whether ``value`` can be a record id: a malformed one never reaches a query."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None

def expires(field: str, after: timedelta) -> dict[str, Any]:
    """A TTL index: MongoDB deletes a document ``after`` past the moment in ``field`` (a
    document without that field is kept). One of the two ways a collection states its
    retention; the other is a ``RETENTION`` sentence on the model saying why it is kept
    (tests/unit/test_retention.py holds every collection to one of them)."""
    return {"fields": [field], "expireAfterSeconds": int(after.total_seconds())}


_warned = False


def _bulk_updates_for_newer_pymongo() -> None:
    """mongomock 4.3's bulk builder predates pymongo 4.11, whose ``UpdateOne`` passes a
    ``sort`` option (mongomock issue #912, open): without this, every ``bulk_write`` of an
    ``UpdateOne`` fails on the embedded store while it works on MongoDB. We never sort a
    bulk update, so the option is dropped when empty and refused otherwise."""
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update
    if getattr(original, "accepts_sort", False):
        return

    def add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        if sort is not None:
            raise NotImplementedError("The embedded store cannot sort a bulk update.")
        return original(self, *args, **kwargs)

    add_update.accepts_sort = True  # type: ignore[attr-defined]
    BulkOperationBuilder.add_update = add_update


def connect(alias: str, *, db_prefix: str | None = None) -> str:
    """Register the mongoengine connection ``alias`` and return the database name."""
    global _warned
    settings = get_settings()
    db_name = f"{settings.mongodb_db_prefix if db_prefix is None else db_prefix}{alias}"
    mongoengine.disconnect(alias)
    options: dict[str, Any] = {"uuidRepresentation": "standard", "tz_aware": True}
    uri = settings.mongodb_uri
    if uri:
        mongoengine.connect(db=db_name, alias=alias, host=uri, **options)
    else:
        import mongomock

        _bulk_updates_for_newer_pymongo()
        if not _warned:
            log.warning(
                "PORCHLIGHT_MONGODB_URI is not set: using the embedded in-memory store. "
                "Data lives in this process only and is lost when it stops."
            )
            _warned = True
        mongoengine.connect(
            db=db_name, alias=alias, host="mongodb://localhost",
            mongo_client_class=mongomock.MongoClient, **options,
        )
    return db_name


def get_in_workspace(model: type[mongoengine.Document], workspace_id: str, record_id: str,
                     message: str) -> Any:
    """One record of a workspace by its id, or ``NotFound(message)``. A malformed id is as
    unknown as a missing one, and another workspace's id is the same as no id at all."""
    found = (
        model.objects(id=record_id, workspace_id=workspace_id).first()
        if is_object_id(record_id) else None
    )
    if found is None:
        raise NotFound(message)
    return found


def page_after(model: type[mongoengine.Document], items: Any, workspace_id: str, cursor: str | None,
               *, order: str, limit: int, not_a_cursor: str, within: bool = False) -> tuple[list[Any], bool]:
    """A page of ``items`` (a workspace's query set of ``model``) in ``order`` — a field,
    ``-`` first for descending, e.g. ``-created_at`` for newest first or ``name`` — ties
    broken by id in the same direction, after the record ``cursor`` names; returns the page
    and whether more follow. Paging by cursor rather than offset: records arriving while
    someone reads are neither shown twice nor skipped. A cursor that names no record of the
    workspace is ``InvalidInput`` with ``not_a_cursor`` as the reason; with ``within``, so is
    one that names no record of ``items`` itself (a list scoped to one project, one customer:
    a cursor must not reach past that scope)."""
    field, after = (order[1:], "lt") if order.startswith("-") else (order, "gt")
    if cursor is not None:
        try:
            last = get_in_workspace(model, workspace_id, cursor, not_a_cursor)
        except NotFound:
            raise InvalidInput(QUERY_ATTENTION, {"cursor": not_a_cursor}) from None
        if within and items.filter(id=last.id).only("id").first() is None:
            raise InvalidInput(QUERY_ATTENTION, {"cursor": not_a_cursor})
        at = getattr(last, field)
        items = items.filter(Q(**{f"{field}__{after}": at}) | Q(**{field: at, f"id__{after}": last.id}))
    found = list(items.order_by(order, "-id" if after == "lt" else "id").limit(limit + 1))
    return found[:limit], len(found) > limit


def list_filters(request: Any) -> dict[str, Any]:
    """A list query's filters (a ``PageQuery``) in the store's words: each one sent but the
    paging ones, ``updated_since`` as ``updated_at`` at or after it."""
    filters = {}
    for name in type(request).model_fields:
        value = getattr(request, name)
        if value is None or name in ("limit", "cursor"):
            continue
        filters["updated_at__gte" if name == "updated_since" else name] = value
    return filters


def next_cursor(page: list[Any], more: bool) -> str | None:
    """A page's ``next_cursor``: its last record's id while more follow, else None."""
    return str(page[-1].id) if more else None


def drop(alias: str) -> None:
    """Drop the alias's database (tests only) and forget the connection."""
    mongoengine.get_db(alias).client.drop_database(mongoengine.get_db(alias).name)
    mongoengine.disconnect(alias)


class Store(DependencyProvider):
    """Opens the service's database in ``setup()`` and hands workers its repository.

    ``repository_cls`` takes no arguments and exposes domain methods only; every method
    takes the workspace id. It holds no per-request state, so one instance serves every
    worker greenthread.
    """

    def __init__(self, alias: str, repository_cls: type) -> None:
        self.alias = alias
        self.repository_cls = repository_cls
        self.repository = None

    def setup(self) -> None:
        connect(self.alias, db_prefix=self.container.config.get("MONGODB_DB_PREFIX"))
        self.repository = self.repository_cls()
        self.repository.ensure_indexes()
        # One-off changes to stored data, idempotent: a repository that has any runs them
        # at every start, and finds nothing left to do after the first.
        migrate = getattr(self.repository, "migrate", None)
        if migrate is not None:
            migrate()

    def stop(self) -> None:
        if self.container.config.get("MONGODB_DROP_ON_STOP"):
            drop(self.alias)
        else:
            mongoengine.disconnect(self.alias)

    def kill(self) -> None:
        # A killed container never stops its extensions; nameko's test runners end with
        # kill(), and a test's database must not outlive it on a real MongoDB.
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.repository
