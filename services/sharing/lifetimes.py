"""How long a share link lives: a default for each kind of record, and one maximum.

| link to a       | without ``expires_at``, it expires                        |
|-----------------|-----------------------------------------------------------|
| work order      | 180 days after it is minted                               |
| estimate        | 30 days after the estimate ends (the end of its valid-until day) |
| service report  | 60 days after it is minted                                |

No link lives more than 730 days from the moment it is minted: an explicit ``expires_at``
later than that is refused, and a default that would pass it is cut to it. A link that
never expires cannot be minted any more. Links minted before that got an end once, when
sharing started (``end_for_an_unending_link``: their default counted from their minting,
but never sooner than ``GRACE`` from that start), and rotating one gives the new link
the default counted from the rotation. The numbers are in the README; change both
together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WORK_ORDER_LINK_LIFETIME = timedelta(days=180)
ESTIMATE_LINK_LIFETIME_AFTER_END = timedelta(days=30)
SERVICE_REPORT_LINK_LIFETIME = timedelta(days=60)
MAX_LINK_LIFETIME = timedelta(days=730)
# An old link without an end, given one now, works at least this long: nobody's link stops
# the day it is given an end.
GRACE = timedelta(days=30)

# From the moment of minting, for records that do not end by themselves.
LIFETIME_FROM_MINTING: dict[str, timedelta] = {
    "work_order": WORK_ORDER_LINK_LIFETIME,
    "service_report": SERVICE_REPORT_LINK_LIFETIME,
}
# From the record's own end (``ends_at`` from documents), for records that have one.
LIFETIME_AFTER_END: dict[str, timedelta] = {
    "estimate": ESTIMATE_LINK_LIFETIME_AFTER_END,
}


def latest_expiry(now: datetime) -> datetime:
    return now + MAX_LINK_LIFETIME


def default_expiry(entity_type: str, ends_at: datetime | None, now: datetime) -> datetime:
    """When a link minted ``now`` without an explicit expiry expires. May be in the past
    (an estimate that ended long ago): the caller must then ask for an explicit date."""
    if entity_type in LIFETIME_AFTER_END:
        # An estimate always has an end; without one the link counts from minting.
        expiry = (ends_at or now) + LIFETIME_AFTER_END[entity_type]
    else:
        expiry = now + LIFETIME_FROM_MINTING[entity_type]
    return min(expiry, latest_expiry(now))


def end_for_an_unending_link(entity_type: str, created_at: datetime, now: datetime) -> datetime:
    """The end given, ``now``, to a link minted at ``created_at`` without one: its kind's
    default from its minting, not sooner than ``GRACE`` from now nor later than a link
    minted now could live."""
    return min(max(default_expiry(entity_type, None, created_at), now + GRACE), latest_expiry(now))
