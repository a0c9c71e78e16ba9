"""What the portal's pages show, kept in memory and kept current by the services' events.

A page view asks the model first; a miss is filled by RPC (at most the two calls a view
made before the model existed) and every later view is served from memory. The model is
correct before it is fast:

* **Changes.** Every event that can change what a customer sees names its records; the
  model drops what it holds of them (``changed``), and the next view refetches.
* **No stale fill.** A fetch that started before a change to its subject arrived is
  returned to its caller but never stored (each change leaves a numbered mark).
* **No missed events.** The model serves from memory only while the event consumer is
  connected (``resume``); when the connection drops (``suspend``) everything is forgotten
  and views go to the services until the consumer is back.
* **Bounded.** At most ``capacity`` entries (least recently used go first), each kept at
  most ``lifetime`` seconds, so an event lost anyway cannot keep a revoked link alive for
  longer than that. An entry can also carry its own end (a link's expiry, an estimate's
  last moment to answer); the caller checks a link's expiry on every view.

Links are keyed by the hash of the token, never the token; records are held in the form
the pages show (the services' customer views, which carry no internal notes).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from porchlight.contracts.clock import utcnow
from porchlight.runtime.metrics import READ_MODEL_ENTRIES, READ_MODEL_LOOKUPS

T = TypeVar("T")
Subject = tuple[str, str]  # ("work_order", id), ("share_token", id), ("workspace", id), …

_MISSING = object()


class Lru:
    """A bounded mapping that forgets its least recently used entries. Not thread-safe:
    its owner holds a lock."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, default: Any = None) -> Any:
        value = self._items.get(key, _MISSING)
        if value is _MISSING:
            return default
        self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> list[tuple[Hashable, Any]]:
        """Store; returns what was evicted to make room."""
        self._items[key] = value
        self._items.move_to_end(key)
        evicted = []
        while len(self._items) > self.capacity:
            evicted.append(self._items.popitem(last=False))
        return evicted

    def pop(self, key: Hashable) -> Any:
        return self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class _Entry:
    __slots__ = ("value", "subjects", "stale_at", "ends_at")

    def __init__(self, value: Any, subjects: tuple[Subject, ...], stale_at: float,
                 ends_at: datetime | None) -> None:
        self.value, self.subjects, self.stale_at, self.ends_at = value, subjects, stale_at, ends_at


class ReadModel:
    def __init__(self, *, capacity: int = 10_000, lifetime: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.lifetime = lifetime
        # Seconds for entry lifetimes, and the wall clock for a value's own end; both
        # replaceable, so tests move time instead of waiting for it.
        self.clock, self.now = clock, now
        self._entries = Lru(capacity)
        self._by_subject: dict[Subject, set[Hashable]] = {}
        # The number of the last change heard for each subject, for as many subjects as
        # entries; a change older than every forgotten mark is below ``_floor``.
        self._marks = Lru(capacity)
        self._floor = 0
        self._sequence = 0
        self._live = False
        self._lock = threading.Condition(threading.Lock())

    # -- the consumer's side -------------------------------------------------------------
    def resume(self) -> None:
        """The event consumer is connected and bound: from now on, what is stored is kept
        current. Starts from nothing — events may have been missed while it was away."""
        with self._lock:
            self._forget_all()
            self._live = True

    def suspend(self) -> None:
        """The consumer lost its connection: forget everything and store nothing more
        until it is back."""
        with self._lock:
            self._forget_all()
            self._live = False

    def changed(self, *subjects: Subject) -> None:
        """Something a customer could see changed in these records: drop them."""
        with self._lock:
            self._sequence += 1
            for subject in subjects:
                self._remember_mark(subject)
                for key in self._by_subject.pop(subject, ()):
                    self._drop(key)
            self._lock.notify_all()

    # -- the pages' side -----------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self._live

    def __len__(self) -> int:
        return len(self._entries)

    def mark(self) -> int:
        """The number of the latest change heard (see ``wait_for``)."""
        with self._lock:
            return self._sequence

    def wait_for(self, subject: Subject, after: int, timeout: float) -> bool:
        """Block until a change to ``subject`` numbered above ``after`` has been heard."""
        with self._lock:
            return self._lock.wait_for(lambda: self._mark_of(subject) > after, timeout)

    def wait_live(self, timeout: float) -> bool:
        """Block until the consumer is connected and bound (or ``timeout`` passes)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._live, timeout)

    def get(self, key: Hashable) -> Any:
        """The stored value, or None (never stored, forgotten, or past its lifetime)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry.stale_at <= self.clock() or (
                    entry.ends_at is not None and entry.ends_at <= self.now())):
                self._drop(key)
                entry = None
        # Labelled by the key's kind ("link", "work_order", …: named in code), never its ids.
        kind = key[0] if isinstance(key, tuple) and key and isinstance(key[0], str) else "other"
        READ_MODEL_LOOKUPS.labels(kind, "miss" if entry is None else "hit").inc()
        return None if entry is None else entry.value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._drop(key)

    def fetch(self, key: Hashable, subjects: Callable[[T], tuple[Subject, ...]],
              load: Callable[[], T], until: Callable[[T], datetime | None] | None = None) -> T:
        """The stored value, or a fresh one (``fill``)."""
        value = self.get(key)
        return self.fill(key, subjects, load, until) if value is None else value

    def fill(self, key: Hashable, subjects: Callable[[T], tuple[Subject, ...]],
             load: Callable[[], T], until: Callable[[T], datetime | None] | None = None) -> T:
        """``load()``, kept unless the consumer was away or a change to one of the value's
        ``subjects`` was heard while it loaded. ``until`` may name the moment after which
        the value stops being true by itself; it is not kept past it."""
        with self._lock:
            started, live = self._sequence, self._live
        value = load()
        ends = until(value) if until else None
        remaining = self.lifetime if ends is None else min(
            self.lifetime, (ends - self.now()).total_seconds())
        with self._lock:
            if not (live and self._live) or remaining <= 0:
                return value
            named = subjects(value)
            if any(self._mark_of(s) > started for s in named):
                return value
            self._store(key, _Entry(value, named, self.clock() + remaining, ends))
        return value

    # -- inside the lock -----------------------------------------------------------------
    def _mark_of(self, subject: Subject) -> int:
        return max(self._marks.get(subject, 0), self._floor)

    def _remember_mark(self, subject: Subject) -> None:
        for _, forgotten in self._marks.put(subject, self._sequence):
            self._floor = max(self._floor, forgotten)

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._drop(key)
        for subject in entry.subjects:
            self._by_subject.setdefault(subject, set()).add(key)
        for evicted_key, evicted in self._entries.put(key, entry):
            self._unindex(evicted_key, evicted)
        READ_MODEL_ENTRIES.set(len(self._entries))

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        if entry is not None:
            self._unindex(key, entry)
            READ_MODEL_ENTRIES.set(len(self._entries))

    def _unindex(self, key: Hashable, entry: _Entry) -> None:
        for subject in entry.subjects:
            keys = self._by_subject.get(subject)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_subject[subject]

    def _forget_all(self) -> None:
        self._sequence += 1
        self._floor = self._sequence  # a fill that started before this is never stored
        self._entries.clear()
        READ_MODEL_ENTRIES.set(0)
        self._by_subject.clear()
        self._marks.clear()
        self._lock.notify_all()
