"""The documents service's record of staff commands carried out under an idempotency key
(``porchlight.kit.idempotency``): one collection for every aggregate's commands."""

from __future__ import annotations

from porchlight.kit.idempotency import CommandRecord
from services.documents import ALIAS


class DocumentsCommand(CommandRecord):
    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
