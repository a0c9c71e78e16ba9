"""The identity database as the service's workers see it: the tenancy's repository and
the accounts', behind the one ``Store`` dependency that opens the database."""

from __future__ import annotations

from datetime import datetime

from porchlight.kit.idempotency import CommandLog
from services.identity.accounts.repository import Accounts
from services.identity.commands import IdentityCommand
from services.identity.tenancy.repository import Tenancy


class IdentityRepository:
    def __init__(self) -> None:
        self.tenancy = Tenancy()
        self.accounts = Accounts()
        self.commands = CommandLog(IdentityCommand)

    def ensure_indexes(self) -> None:
        for repository in (self.tenancy, self.accounts, self.commands):
            repository.ensure_indexes()

    def migrate(self, now: datetime | None = None) -> int:
        """Each repository's one-off changes, run at every start (each finds nothing to do
        once done); how many temporary passwords were given an end."""
        self.tenancy.migrate()
        return self.accounts.migrate(now)
