"""Limits on how often something may be tried — signing in, guessing a code, looking up a
signed PDF — counted the same way wherever they are kept.

A limit counts attempts per key (``email:<address>``, ``ip:<address>``) in fixed windows of
``WINDOW``, aligned on the epoch so that every replica counts into the same one. Each
attempt is one atomic upsert that answers the new total, so of simultaneous attempts
exactly the limit's worth pass; a refused attempt takes its counts back, so it costs the
other keys nothing. Each service keeps its counters in its own collection
(``class Attempt(AttemptRecord)`` with its own ``meta``).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import mongoengine as me
from mongoengine.errors import NotUniqueError

from porchlight.contracts.clock import as_utc
from porchlight.contracts.errors import TooManyRequests
from porchlight.kit.storage import expires

WINDOW = timedelta(minutes=15)


def ip_bucket(ip: str) -> str:
    """What a per-IP limit counts: an IPv4 address itself; an IPv6 address by its /64,
    since one subscriber is usually given a whole /64 and could otherwise change address
    at every attempt."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def window_of(now: datetime) -> datetime:
    """The start of the window ``now`` falls in."""
    step = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(as_utc(now).timestamp()) // step * step, tz=UTC)


class AttemptRecord(me.Document):
    """The attempts against one key in one window: a counter."""

    # A day later a window counts for nothing.
    INDEXES: ClassVar[list[Any]] = [{"fields": ["key", "window"], "unique": True},
                                    expires("window", timedelta(days=1))]
    meta = {"abstract": True}

    key = me.StringField(required=True)
    window = me.DateTimeField(required=True)  # the window's start
    count = me.IntField(required=True, default=0)


def count_attempt(record: type[AttemptRecord], keys: dict[str, int], now: datetime, refusal: str) -> None:
    """Count one attempt against each key (``{key: its limit}``), or refuse it with
    ``TooManyRequests(refusal, seconds until the window ends)`` if a key is over its limit,
    taking back what this attempt counted."""
    window = window_of(now)
    counted: list[str] = []
    for key, limit in keys.items():
        counted.append(key)
        if _raise_count(record, key, window, 1) > limit:
            break
    else:
        return
    for key in counted:
        _raise_count(record, key, window, -1)
    wait = int((window + WINDOW - as_utc(now)).total_seconds()) + 1
    raise TooManyRequests(refusal, wait)


def _raise_count(record: type[AttemptRecord], key: str, window: datetime, by: int) -> int:
    """Add ``by`` to the key's count in the window; the new count. Two first attempts at
    once may both try to create the counter: the unique index lets one, the other adds."""
    for _ in range(2):
        try:
            return record.objects(key=key, window=window).modify(upsert=True, new=True, inc__count=by).count
        except NotUniqueError:
            continue
    raise RuntimeError(f"the attempt counter {key!r} could not be written")
