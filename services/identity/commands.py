"""The identity service's record of staff commands carried out under an idempotency key
(``porchlight.kit.idempotency``): one collection for workspaces' and accounts' commands."""

from __future__ import annotations

from porchlight.kit.idempotency import CommandRecord
from services.identity import ALIAS


class IdentityCommand(CommandRecord):
    """A staff command carried out under an idempotency key (``porchlight.kit.idempotency``)."""

    meta = {"db_alias": ALIAS, "collection": "commands", "indexes": CommandRecord.INDEXES}
