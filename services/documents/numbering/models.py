"""The per-workspace counters behind allocated numbers."""

from __future__ import annotations

from typing import ClassVar

import mongoengine as me

from services.documents import ALIAS


class Counter(me.Document):
    """Per-workspace sequence for human numbers (WO-0001, …); ``id`` is ``<ws>:<kind>``."""

    RETENTION: ClassVar[str] = (
        "Kept while the workspace exists: one counter per kind of number, so none is reused.")
    meta = {"db_alias": ALIAS, "collection": "counters"}

    id = me.StringField(primary_key=True)
    seq = me.IntField(required=True, default=0)
