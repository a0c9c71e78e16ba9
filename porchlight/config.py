"""Shorthands over ``porchlight.settings`` for ``workers/pdf.py`` and ``workers/tasks.py``,
which import them and are being restructured on another branch. Every other module reads
``porchlight.settings`` directly; this module reads nothing itself."""

from __future__ import annotations

from porchlight.settings import get_settings, nameko_config

__all__ = ["nameko_config", "portal_base_url", "rpc_timeout"]


def portal_base_url() -> str:
    return get_settings().portal_base_url


def rpc_timeout() -> float:
    return get_settings().rpc_timeout
