"""UTC time, the only time Porchlight stores. ISO 8601 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return to_millis(datetime.now(UTC))


def to_millis(moment: datetime) -> datetime:
    """The moment as stored: Mongo keeps milliseconds, so truncating before a write makes
    the stored value equal to the one the writer holds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def as_utc(value: datetime | None) -> datetime | None:
    """Stored datetimes come back naive from some drivers; they are always UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def isoformat(value: datetime | None) -> str | None:
    value = as_utc(value)
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that names its offset; raise ValueError otherwise."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp must include a UTC offset, e.g. 2026-01-31T17:00:00Z")
    return parsed.astimezone(UTC)
