"""Creating a numbered record: the one place every aggregate's numbers come from.

A hand-typed number is taken as it is or refused; otherwise the workspace's counter gives
the next one, skipping numbers staff took by hand. The unique index on (workspace, number)
decides races, so two records can never share a number.
"""

from __future__ import annotations

from typing import Any, TypeVar

import mongoengine as me

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict
from services.documents.numbering.models import Counter
from services.documents.numbering.rules import LABELS, PREFIXES

Record = TypeVar("Record", bound=me.Document)


def next_number(workspace_id: str, kind: str) -> str:
    counter = Counter.objects(id=f"{workspace_id}:{kind}").modify(upsert=True, new=True, inc__seq=1)
    return f"{PREFIXES[kind]}-{counter.seq:04d}"


def number_taken(model: type[me.Document], workspace_id: str, number: str) -> bool:
    return model.objects(workspace_id=workspace_id, number=number).only("id").first() is not None


def create_numbered(
    model: type[Record], kind: str, workspace_id: str, actor: str, fields: dict[str, Any],
) -> Record:
    """Insert a new record with its number: ``fields["number"]`` when staff typed one, the
    next free number otherwise. A clash on any other unique index is re-raised as
    ``NotUniqueError`` for the caller, which knows what that index means."""
    fields = dict(fields)
    number = fields.pop("number", None)
    now = utcnow()
    for _ in range(1000):
        candidate = number or next_number(workspace_id, kind)
        try:
            return model(
                workspace_id=workspace_id, number=candidate, created_by=actor,
                updated_by=actor, created_at=now, updated_at=now, **fields,
            ).save(force_insert=True)
        except me.NotUniqueError:
            if not number_taken(model, workspace_id, candidate):
                raise
            if number:
                raise Conflict(
                    f"{LABELS[kind].capitalize()} number {number} is already used in this workspace."
                ) from None
            # A number typed by hand took this slot in the sequence: take the next.
    raise Conflict(f"Could not allocate a {LABELS[kind]} number.")


def ensure_indexes() -> None:
    Counter.ensure_indexes()
