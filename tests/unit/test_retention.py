"""Nothing grows without bound unless we chose so and said why: every collection either
has a TTL index (``porchlight.kit.storage.expires``) or a ``RETENTION`` sentence, the README's
table lists each, and the outbox's bodies go after ``PORCHLIGHT_OUTBOX_BODY_DAYS``."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import mongoengine as me
import pytest
import time_machine

from porchlight.contracts.clock import utcnow
from porchlight.contracts.errors import Conflict
from porchlight.kit.storage import expires

ROOT = Path(__file__).resolve().parents[2]
# A service module imports every model the service stores.
SERVICE_MODULES = sorted(f"services.{path.parent.name}.service"
                         for path in (ROOT / "services").glob("*/service.py"))


def documents() -> list[type[me.Document]]:
    for module in SERVICE_MODULES:
        importlib.import_module(module)
    found, pending = [], list(me.Document.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("services.") and not cls._meta.get("abstract"):
            found.append(cls)
    return sorted(found, key=lambda c: c._get_collection_name())


def ttl_of(cls: type[me.Document]) -> int | None:
    ttls = [i["expireAfterSeconds"] for i in cls._meta.get("indexes", [])
            if isinstance(i, dict) and "expireAfterSeconds" in i]
    return ttls[0] if ttls else None


def retention_problem(cls: type) -> str | None:
    """Why ``cls`` states no retention, or ``None`` when it does (exactly one way)."""
    stated = getattr(cls, "RETENTION", None)
    ttl = ttl_of(cls)
    if ttl is None and not (isinstance(stated, str) and len(stated) > 20):
        return f"{cls.__name__}: no TTL index and no RETENTION sentence"
    if ttl is not None and stated is not None:
        return f"{cls.__name__}: a TTL index and a RETENTION sentence; say it once"
    return None


def test_every_collection_states_its_retention_one_way() -> None:
    found = documents()
    assert len(found) >= 21, [c.__name__ for c in found]  # every service's models were seen
    assert "DocumentsCommand" in {c.__name__ for c in found}
    assert [p for c in found if (p := retention_problem(c))] == []


def test_the_check_finds_a_collection_that_grows_without_a_word() -> None:
    class Forgotten(me.Document):
        meta = {"collection": "forgotten", "indexes": [{"fields": ["at"]}]}
        at = me.DateTimeField()

    class Twice(me.Document):
        RETENTION = "Kept while the workspace exists, and also deleted after a day."
        meta = {"collection": "twice", "indexes": [expires("at", timedelta(days=1))]}
        at = me.DateTimeField()

    assert "no TTL index" in retention_problem(Forgotten)
    assert "say it once" in retention_problem(Twice)


def test_the_readme_lists_every_collection_and_its_ttl() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Retention"):]
    section = section[:section.index("\n#", 1)]
    for cls in documents():
        name = cls._get_collection_name()
        rows = [line for line in section.splitlines()
                if line.startswith("|") and f"`{name}`" in line.split("|")[1]]
        assert len(rows) == 1, f"README's Retention table has {len(rows)} rows for {name}"
        row = rows[0]
        if (ttl := ttl_of(cls)) is not None:
            days = ttl // 86400
            assert re.search(rf"\b{days} days?\b", row), (name, days, row)


def test_the_store_creates_the_ttl_indexes(make_worker: Any) -> None:
    from services.identity import ALIAS
    from services.identity.accounts.models import Attempt, PortalSession, SignInCode
    from services.identity.service import IdentityService
    from services.identity.store import IdentityRepository

    make_worker(IdentityService, ALIAS, IdentityRepository)
    for model, field, days in ((SignInCode, "expires_at", 7), (PortalSession, "expires_at", 1),
                               (Attempt, "window", 1)):
        info = model._get_collection().index_information()
        ttl = [spec for spec in info.values() if spec["key"] == [(field, 1)]]
        assert ttl and ttl[0]["expireAfterSeconds"] == days * 86400, (model.__name__, info)


# -- the outbox's bodies --------------------------------------------------------------------
WS = "a" * 24


@pytest.fixture
def notifications(make_worker: Any) -> Any:
    from services.notifications.models import ALIAS
    from services.notifications.repository import NotificationsRepository
    from services.notifications.service import NotificationsService

    return make_worker(NotificationsService, ALIAS, NotificationsRepository)


def finished_email(status: str, days_ago: float, key: str) -> str:
    from services.notifications.models import Email

    then = utcnow() - timedelta(days=days_ago)
    email = Email(workspace_id=WS, key=key, cause=key, template="estimate_ready", audience="customer",
                  language="en", recipient="dana@example.org", entity_type="estimate", entity_id="e" * 24,
                  sender_name="Acme", subject="Your estimate", text_body="Dear Dana, 1,353.12",
                  html_body="<p>Dear Dana</p>", status=status, created_at=then, updated_at=then).save()
    return str(email.id)


def test_bodies_of_finished_emails_are_removed_after_the_retention_period(
        notifications: Any, settings_env: Any) -> None:
    old_sent = finished_email("sent", 91, "a")
    old_failed = finished_email("failed", 100, "b")
    recent = finished_email("sent", 10, "c")
    queued = finished_email("queued", 0.001, "d")
    assert notifications.sweep_emails()["bodies_removed"] == 2
    for email_id in (old_sent, old_failed):
        detail = notifications.get_email(WS, email_id)
        assert "Dana" not in detail["text_body"] + detail["html_body"]
        assert detail["bodies_removed_at"] is not None and detail["subject"] == "Your estimate"
    assert notifications.get_email(WS, recent)["text_body"] == "Dear Dana, 1,353.12"
    assert notifications.get_email(WS, queued)["bodies_removed_at"] is None
    # A removed email cannot be resent: it would say nothing.
    with pytest.raises(Conflict, match="retention period"):
        notifications.resend_email(WS, "staff", old_failed)
    # Sweeping again removes nothing new; a shorter period reaches the recent one.
    assert notifications.sweep_emails()["bodies_removed"] == 0
    settings_env(outbox_body_days="5")
    assert notifications.sweep_emails()["bodies_removed"] == 1
    # A queued email keeps its body: a sweep first fails it (no attempt came), and only
    # the retention period after that is its body removed.
    with time_machine.travel(utcnow() + timedelta(days=400)):
        notifications.sweep_emails()
    stale = notifications.get_email(WS, queued)
    assert stale["status"] == "failed" and "Dana" in stale["text_body"]
